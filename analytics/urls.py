from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="index"),
    path("panels/<slug:key>/", views.DashboardChartView.as_view(), name="dashboard_panel"),
    path("panels/<slug:key>.csv", views.DashboardCsvView.as_view(), name="dashboard_csv"),
    path("my-day/", views.MyDayView.as_view(), name="my_day"),
    path("jobs/", views.JobRunListView.as_view(), name="jobrun_list"),
    path("jobs/run/", views.JobRunStartView.as_view(), name="jobrun_start"),
    path("jobs/<int:pk>/progress/", views.JobRunProgressView.as_view(), name="jobrun_progress"),
]
