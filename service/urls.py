from django.urls import path

from . import views

app_name = "service"
urlpatterns = [
    path("", views.TicketListView.as_view(), name="index"),
    path("tickets/", views.TicketListView.as_view(), name="ticket_list"),
    path("tickets/new/", views.TicketCreateView.as_view(), name="ticket_create"),
    path("tickets/bulk/", views.TicketBulkView.as_view(), name="ticket_bulk"),
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket_detail"),
    path("tickets/<int:pk>/edit/", views.TicketUpdateView.as_view(), name="ticket_update"),
    path("tickets/<int:pk>/reply/", views.TicketReplyView.as_view(), name="ticket_reply"),
    path("tickets/<int:pk>/resolve/", views.TicketResolveView.as_view(), name="ticket_resolve"),
    path("tickets/<int:pk>/assign/", views.TicketAssignView.as_view(), name="ticket_assign"),
    path("tickets/<int:pk>/status/", views.TicketStatusView.as_view(), name="ticket_status"),
    path("tickets/<int:pk>/merge/", views.TicketMergeView.as_view(), name="ticket_merge"),
    path("survey/<str:token>/", views.survey, name="survey"),
    path("satisfaction/", views.SatisfactionView.as_view(), name="satisfaction"),
    path("kb/", views.ArticleListView.as_view(), name="article_list"),
    path("kb/new/", views.ArticleCreateView.as_view(), name="article_create"),
    path("kb/<int:pk>/", views.ArticleDetailView.as_view(), name="article_detail"),
    path("kb/<int:pk>/edit/", views.ArticleUpdateView.as_view(), name="article_update"),
    path("canned/", views.CannedReplyListView.as_view(), name="cannedreply_list"),
    path("canned/new/", views.CannedReplyCreateView.as_view(), name="cannedreply_create"),
    path("canned/<int:pk>/edit/", views.CannedReplyUpdateView.as_view(), name="cannedreply_update"),
    path(
        "canned/<int:pk>/delete/",
        views.CannedReplyDeleteView.as_view(),
        name="cannedreply_delete",
    ),
]

# CSV export of tickets.
from crm.exporting import CsvExportView  # noqa: E402

from . import exporting  # noqa: E402
from .models import Ticket  # noqa: E402

urlpatterns += [
    path(
        "tickets/export/",
        CsvExportView.as_view(
            filename="tickets",
            header=exporting.HEADER,
            rows=exporting.export_tickets,
            model=Ticket,
        ),
        name="ticket_export",
    ),
]
