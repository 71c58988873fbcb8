from django.urls import path

from . import views

app_name = "marketing"

urlpatterns = [
    path("", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", views.CampaignCreateView.as_view(), name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.CampaignUpdateView.as_view(), name="campaign_update"),
    path("campaigns/<int:pk>/send/", views.campaign_send, name="campaign_send"),
    path("campaigns/<int:pk>/schedule/", views.campaign_schedule, name="campaign_schedule"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="campaign_delete"),
    path("campaigns/<int:pk>/progress/", views.campaign_progress, name="campaign_progress"),
    path("campaigns/<int:pk>/results/", views.campaign_results, name="campaign_results"),
    path("templates/", views.TemplateListView.as_view(), name="template_list"),
    path("templates/new/", views.TemplateCreateView.as_view(), name="template_create"),
    path("templates/<int:pk>/", views.TemplateUpdateView.as_view(), name="template_update"),
    path("templates/<int:pk>/delete/", views.TemplateDeleteView.as_view(), name="template_delete"),
    path("customers/<int:pk>/email/", views.email_compose, name="email_compose"),
    path("emails/<int:pk>/", views.email_detail, name="email_detail"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("o/<str:token>/", views.track_open, name="track_open"),
    path("c/<str:token>/", views.track_click, name="track_click"),
]
