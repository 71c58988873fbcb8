"""The filters and sort orders behind the ticket queue."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import TicketCategory, TicketChannel, TicketPriority, TicketStatus
from .forms import working_users
from .models import Ticket


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=TicketStatus.choices)
    priority = django_filters.MultipleChoiceFilter(
        label=_("Priority"), choices=TicketPriority.choices
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=TicketCategory.choices, empty_label=_("Any category")
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=TicketChannel.choices, empty_label=_("Any channel")
    )
    assignee = django_filters.ModelChoiceFilter(
        label=_("Assignee"),
        queryset=lambda request: working_users(),
        empty_label=_("Anyone"),
    )
    created_after = django_filters.DateFilter(
        label=_("Created from"),
        field_name="created_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = django_filters.DateFilter(
        label=_("Created until"),
        field_name="created_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = django_filters.OrderingFilter(
        label=_("Sort by"),
        empty_label=_("Newest first"),
        fields=(
            ("created_at", "created"),
            ("resolution_due", "due"),
            ("priority_rank", "priority"),
            ("updated_at", "updated"),
        ),
        field_labels={
            "created": _("Created"),
            "-created": _("Created (newest first)"),
            "due": _("Due (soonest first)"),
            "-due": _("Due (latest first)"),
            "priority": _("Priority (most urgent first)"),
            "-priority": _("Priority (least urgent first)"),
            "updated": _("Updated"),
            "-updated": _("Updated (newest first)"),
        },
    )

    class Meta:
        model = Ticket
        fields = []

    def search(self, queryset, name, value):
        value = value.strip().lstrip("#")
        if not value:
            return queryset
        query = Q(subject__icontains=value) | Q(customer__name__icontains=value)
        query |= Q(customer__email__iexact=value)
        if value.isdigit():
            query |= Q(pk=int(value))
        return queryset.filter(query)
