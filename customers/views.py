from django.utils.dateparse import parse_datetime
from django.views.generic import DetailView, ListView

from crm import roles
from crm.mixins import ScopedQuerysetMixin
from crm.registry import customer_panels

from . import selectors
from .models import Customer
from .timeline import timeline_page


class CustomerListView(ListView):
    template_name = "customers/customer_list.html"
    context_object_name = "customers"
    paginate_by = 25

    def get_queryset(self):
        return selectors.customer_list(user=self.request.user, search=self.request.GET.get("q", ""))

    def get_context_data(self, **kwargs):
        return super().get_context_data(q=self.request.GET.get("q", ""), **kwargs)


class CustomerDetailView(ScopedQuerysetMixin, DetailView):
    """The whole relationship on one page: contact card, the merged timeline, and the panels
    that the other apps register (orders, deals, tickets, scores)."""

    model = Customer
    template_name = "customers/customer_detail.html"
    context_object_name = "customer"

    def get_queryset(self):
        return super().get_queryset().select_related("owner", "organisation")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        request = self.request
        before = parse_datetime(request.GET.get("before", "") or "")
        events, next_cursor = timeline_page(request, self.object, before=before)
        role = roles.role_of(request.user)
        panels = []
        for panel in customer_panels():
            if role in panel.roles:
                panel_ctx = panel.get_context(request, self.object)
                if panel_ctx is not None:
                    panels.append({"template": panel.template, "context": panel_ctx})
        ctx.update(
            timeline=events,
            timeline_next=next_cursor.isoformat() if next_cursor else "",
            panels=panels,
            tags=self.object.tags.all(),
        )
        return ctx
