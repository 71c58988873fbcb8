from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="index"),
    path("jobs/", views.JobRunListView.as_view(), name="jobrun_list"),
    path("jobs/run/", views.JobRunStartView.as_view(), name="jobrun_start"),
    path("jobs/<int:pk>/progress/", views.JobRunProgressView.as_view(), name="jobrun_progress"),
]
