from django.views.generic import DetailView, ListView

from crm import roles
from crm.mixins import ScopedQuerysetMixin

from .models import Order


class OrderListView(ListView):
    """The sales landing page: the latest orders the user may see."""

    template_name = "sales/order_list.html"
    context_object_name = "orders"
    paginate_by = 25

    def get_queryset(self):
        return roles.visible(self.request.user, Order).select_related("customer")


class OrderDetailView(ScopedQuerysetMixin, DetailView):
    model = Order
    template_name = "sales/order_detail.html"
    context_object_name = "order"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "created_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["lines"] = self.object.lines.select_related("product")
        return ctx
