from django.views.generic import DetailView, ListView

from crm import roles
from crm.mixins import ScopedQuerysetMixin

from .models import Ticket


class TicketListView(ListView):
    template_name = "service/ticket_list.html"
    context_object_name = "tickets"
    paginate_by = 25

    def get_queryset(self):
        return roles.visible(self.request.user, Ticket).select_related("customer", "assignee")


class TicketDetailView(ScopedQuerysetMixin, DetailView):
    model = Ticket
    template_name = "service/ticket_detail.html"
    context_object_name = "ticket"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "assignee", "order")
