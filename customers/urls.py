from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
]

# Import, export and data quality (customers/import_urls.py).
from .import_urls import urlpatterns as import_urlpatterns  # noqa: E402

urlpatterns += import_urlpatterns
