"""django-filter FilterSets behind the deal, order and task lists."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import DealStatus, OrderStatus
from .models import Deal, Order, Pipeline, PipelineStage, Product
from .selectors import sellers


class DateInput(django_filters.widgets.forms.DateInput):
    input_type = "date"


class DealFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    pipeline = django_filters.ModelChoiceFilter(
        label=_("Pipeline"), queryset=Pipeline.objects.all()
    )
    stage = django_filters.ModelChoiceFilter(
        label=_("Stage"), queryset=PipelineStage.objects.select_related("pipeline")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=DealStatus.choices, field_name="stage__outcome"
    )
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=sellers())
    close_from = django_filters.DateFilter(
        label=_("Closes from"), field_name="expected_close", lookup_expr="gte", widget=DateInput
    )
    close_to = django_filters.DateFilter(
        label=_("Closes until"), field_name="expected_close", lookup_expr="lte", widget=DateInput
    )
    min_amount = django_filters.NumberFilter(
        label=_("Minimum amount"), field_name="amount", lookup_expr="gte"
    )
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        fields=(
            ("title", "title"),
            ("amount", "amount"),
            ("expected_close", "expected_close"),
            ("updated_at", "updated"),
            ("customer__name", "customer"),
            ("stage__order", "stage"),
        ),
        field_labels={
            "title": _("Title"),
            "amount": _("Amount"),
            "expected_close": _("Expected close"),
            "updated_at": _("Updated"),
            "customer__name": _("Customer"),
            "stage__order": _("Stage"),
        },
    )

    class Meta:
        model = Deal
        fields = ["q", "pipeline", "stage", "status", "owner"]

    def __init__(self, *args, show_owner=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["stage"].queryset = PipelineStage.objects.select_related("pipeline")
        self.filters["stage"].field.label_from_instance = lambda s: f"{s.pipeline.name} · {s.name}"
        if not show_owner:
            del self.filters["owner"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(customer__name__icontains=value))


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrderStatus.choices)
    customer = django_filters.NumberFilter(label=_("Customer ID"), field_name="customer_id")
    date_from = django_filters.DateFilter(
        label=_("From"), field_name="ordered_at", lookup_expr="date__gte", widget=DateInput
    )
    date_to = django_filters.DateFilter(
        label=_("Until"), field_name="ordered_at", lookup_expr="date__lte", widget=DateInput
    )
    min_total = django_filters.NumberFilter(
        label=_("Minimum total"), field_name="total", lookup_expr="gte"
    )
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        fields=(("ordered_at", "date"), ("total", "total"), ("customer__name", "customer")),
        field_labels={
            "ordered_at": _("Date"),
            "total": _("Total"),
            "customer__name": _("Customer"),
        },
    )

    class Meta:
        model = Order
        fields = ["q", "status", "customer"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        q = Q(external_id__icontains=value) | Q(customer__name__icontains=value)
        if value.lstrip("#").isdigit():
            q |= Q(pk=int(value.lstrip("#")))
        return queryset.filter(q)


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    category = django_filters.ChoiceFilter(label=_("Category"), choices=[])
    active = django_filters.BooleanFilter(label=_("Active"))
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        fields=(("name", "name"), ("unit_price", "price"), ("sku", "sku")),
        field_labels={"name": _("Name"), "unit_price": _("Unit price"), "sku": _("SKU")},
    )

    class Meta:
        model = Product
        fields = ["q", "category", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = (
            Product.objects.exclude(category="")
            .order_by("category")
            .values_list("category", flat=True)
            .distinct()
        )
        self.filters["category"].extra["choices"] = [(c, c) for c in categories]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(sku__icontains=value))
