from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("new/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("bulk/", views.CustomerBulkView.as_view(), name="customer_bulk"),
    path("duplicates/", views.DuplicatesView.as_view(), name="customer_duplicates"),
    path("merge/", views.CustomerMergeView.as_view(), name="customer_merge"),
    path(
        "organisations/options/",
        views.OrganisationOptionsView.as_view(),
        name="organisation_options",
    ),
    path("views/new/", views.SavedViewCreateView.as_view(), name="savedview_create"),
    path("views/<int:pk>/delete/", views.SavedViewDeleteView.as_view(), name="savedview_delete"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer_update"),
    path("<int:pk>/delete/", views.CustomerDeleteView.as_view(), name="customer_delete"),
    path(
        "<int:pk>/personal-data/",
        views.CustomerPersonalDataExportView.as_view(),
        name="customer_personal_data",
    ),
    path("<int:pk>/erase/", views.CustomerEraseView.as_view(), name="customer_erase"),
    path("<int:pk>/stage/", views.CustomerStageView.as_view(), name="customer_stage"),
    path("<int:pk>/timeline/", views.CustomerTimelineView.as_view(), name="customer_timeline"),
    path(
        "<int:pk>/interactions/new/",
        views.InteractionCreateView.as_view(),
        name="interaction_create",
    ),
    path("<int:pk>/needs/new/", views.NeedCreateView.as_view(), name="need_create"),
    path("needs/<int:pk>/", views.NeedUpdateView.as_view(), name="need_update"),
]

# Import, export and data quality (customers/import_urls.py).
from .import_urls import urlpatterns as import_urlpatterns  # noqa: E402

urlpatterns += import_urlpatterns
