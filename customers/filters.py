"""The filters of the customer list (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from . import selectors
from .choices import CustomerKind, LifecycleStage
from .forms import style_widgets
from .models import Customer, Tag

# Columns the list shows and may be sorted by: URL value -> ORM field.
SORTABLE = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "city": "city",
    "country": "country",
    "stage": "lifecycle_stage",
    "owner": "owner__username",
    "created": "created_at",
}


class CustomerOrdering(django_filters.OrderingFilter):
    """Sorting by any shown column; every ordering ends with the id so the order is total
    (the paginator reads the last pages backwards and needs that)."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        order = list(qs.query.order_by) or ["name"]
        last = order[-1]
        return qs.order_by(*order, "-id" if last.startswith("-") else "id")


def _segments():
    """The segments of the latest segmentation run. Looked up by label, not imported: the
    analytics app sits above this one (its CustomerSegment is the `segment_membership`)."""
    try:
        segment = apps.get_model("analytics", "Segment")
    except LookupError:
        return Customer.objects.none()
    return segment.objects.order_by("number")


class CustomerFilter(django_filters.FilterSet):
    """Search, kind, stage, owner, tag, segment, city, country and created range."""

    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, email, phone or city")}
        ),
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=CustomerKind.choices, empty_label=_("People and organisations")
    )
    lifecycle_stage = django_filters.ChoiceFilter(
        label=_("Stage"), choices=LifecycleStage.choices, empty_label=_("Any stage")
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=lambda request: selectors.owner_choices(),
        null_label=_("No owner"),
        empty_label=_("Anyone"),
    )
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"), field_name="tags", queryset=Tag.objects.all(), empty_label=_("Any tag")
    )
    segment = django_filters.ModelChoiceFilter(
        label=_("Segment"),
        field_name="segment_membership__segment",
        queryset=lambda request: _segments(),
        empty_label=_("Any segment"),
    )
    city = django_filters.CharFilter(label=_("City"), lookup_expr="iexact")
    country = django_filters.CharFilter(
        label=_("Country"), lookup_expr="iexact", widget=forms.TextInput(attrs={"maxlength": 2})
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Created between"),
        field_name="created_at",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    o = CustomerOrdering(label=_("Sort"), fields={v: k for k, v in SORTABLE.items()})

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.form)

    def search(self, queryset, name, value):
        return queryset.search(value)
