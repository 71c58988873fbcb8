from django.urls import path

from . import views

app_name = "service"
urlpatterns = [
    path("", views.TicketListView.as_view(), name="index"),
    path("tickets/", views.TicketListView.as_view(), name="ticket_list"),
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket_detail"),
]

# CSV export of tickets.
from crm.exporting import CsvExportView  # noqa: E402

from . import exporting  # noqa: E402

urlpatterns += [
    path(
        "tickets/export/",
        CsvExportView.as_view(
            filename="tickets", header=exporting.HEADER, rows=exporting.export_tickets
        ),
        name="ticket_export",
    ),
]
