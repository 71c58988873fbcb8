from django.db.models import Count, Sum
from django.utils import timezone
from django.views.generic import TemplateView

from crm.db_router import ReplicaReadMixin
from crm.mixins import CapabilityRequiredMixin
from customers.models import Customer
from sales.models import Order
from service.models import Ticket


class DashboardView(CapabilityRequiredMixin, ReplicaReadMixin, TemplateView):
    """The managers' dashboard: headline figures from database aggregates (read from the
    replica when one is configured)."""

    capability = "view_manager_dashboard"
    template_name = "analytics/index.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        since = timezone.now() - timezone.timedelta(days=30)
        recent = (
            Order.objects.counted()
            .filter(ordered_at__gte=since)
            .aggregate(revenue=Sum("total"), orders=Count("id"))
        )
        ctx.update(
            customers=Customer.objects.count(),
            revenue_30d=recent["revenue"],
            orders_30d=recent["orders"],
            open_tickets=Ticket.objects.open().count(),
        )
        return ctx
