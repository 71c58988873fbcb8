from django.views.generic import DetailView, ListView

from crm.mixins import ScopedQuerysetMixin

from . import selectors
from .models import Customer


class CustomerListView(ListView):
    template_name = "customers/customer_list.html"
    context_object_name = "customers"
    paginate_by = 25

    def get_queryset(self):
        return selectors.customer_list(user=self.request.user, search=self.request.GET.get("q", ""))

    def get_context_data(self, **kwargs):
        return super().get_context_data(q=self.request.GET.get("q", ""), **kwargs)


class CustomerDetailView(ScopedQuerysetMixin, DetailView):
    model = Customer
    template_name = "customers/customer_detail.html"
    context_object_name = "customer"

    def get_queryset(self):
        return super().get_queryset().select_related("owner", "organisation")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["interactions"] = self.object.interactions.select_related("user")[:20]
        ctx["tags"] = self.object.tags.all()
        return ctx
