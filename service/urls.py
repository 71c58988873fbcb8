from django.urls import path

from . import views

app_name = "service"
urlpatterns = [
    path("", views.TicketListView.as_view(), name="index"),
    path("tickets/", views.TicketListView.as_view(), name="ticket_list"),
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket_detail"),
]
