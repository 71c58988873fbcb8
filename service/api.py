"""REST API for tickets, their comments and feedback. `register()` is called from
ServiceConfig.ready."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models.signals import post_init, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers

from crm import roles
from crm.api import webhooks
from crm.api.fields import (
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
)
from crm.api.registry import WebhookEvent, register_event, register_viewset
from crm.api.viewsets import BulkCreateMixin, ScopedModelViewSet, service_error
from crm.roles import Role
from customers.models import Customer
from sales.models import Order

from . import services
from .choices import TicketStatus
from .models import Feedback, Ticket, TicketComment

User = get_user_model()


class TicketSerializer(StrictModelSerializer):
    """A ticket. Setting `status` to resolved needs a `solution` and stamps `resolved_at`;
    closed stamps `closed_at`. Reps open tickets for their own customers and do not assign."""

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    order = ScopedPrimaryKeyRelatedField(
        queryset=Order.objects.all(), allow_null=True, required=False
    )
    assignee = StrictPrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "customer",
            "subject",
            "problem",
            "solution",
            "category",
            "priority",
            "status",
            "channel",
            "assignee",
            "order",
            "created_at",
            "updated_at",
            "first_response_due",
            "resolution_due",
            "first_responded_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = [
            "created_at",
            "updated_at",
            "first_response_due",
            "resolution_due",
            "first_responded_at",
            "resolved_at",
            "closed_at",
        ]

    def _user(self):
        request = self.context.get("request")
        return request.user if request else None

    def validate(self, attrs):
        user = self._user()
        is_rep = roles.role_of(user) is Role.SALES_REP
        customer = attrs.get("customer", getattr(self.instance, "customer", None))
        if is_rep and customer is not None and customer.owner_id != user.pk:
            raise serializers.ValidationError(
                {"customer": _("You can open tickets only for your own customers.")}
            )
        if is_rep and attrs.get("assignee") is not None:
            raise serializers.ValidationError(
                {"assignee": _("Only support agents and managers assign tickets.")}
            )
        order = attrs.get("order", getattr(self.instance, "order", None))
        if order is not None and customer is not None and order.customer_id != customer.pk:
            raise serializers.ValidationError(
                {"order": _("The order belongs to another customer.")}
            )
        status = attrs.get("status", getattr(self.instance, "status", TicketStatus.NEW))
        solution = attrs.get("solution", getattr(self.instance, "solution", ""))
        if status == TicketStatus.RESOLVED and not solution.strip():
            raise serializers.ValidationError(
                {"solution": _("Describe the solution to resolve the ticket.")}
            )
        return attrs

    def create(self, validated_data):
        user = self._user()
        status = validated_data.pop("status", None)
        solution = validated_data.pop("solution", "")
        defaults = {
            name: Ticket._meta.get_field(name).default
            for name in ("category", "priority", "channel")
        }
        try:
            with transaction.atomic():
                ticket = services.ticket_create(
                    user=user,
                    customer=validated_data["customer"],
                    subject=validated_data["subject"],
                    problem=validated_data["problem"],
                    category=validated_data.get("category", defaults["category"]),
                    priority=validated_data.get("priority", defaults["priority"]),
                    channel=validated_data.get("channel", defaults["channel"]),
                    order=validated_data.get("order"),
                    assignee=validated_data.get("assignee"),
                )
                self._apply_status(ticket, user, status, solution)
        except DjangoValidationError as exc:
            raise service_error(exc, "status") from exc
        return ticket

    def update(self, instance, validated_data):
        """Through the service desk's services, as on the ticket page: details (a new
        priority recomputes the due times), the assignee, then the status change (recorded
        in the ticket's history; resolving sends the satisfaction survey)."""
        user = self._user()
        status = validated_data.pop("status", None)
        solution = validated_data.pop("solution", None)
        try:
            with transaction.atomic():
                if "assignee" in validated_data:
                    assignee = validated_data.pop("assignee")
                    if assignee != instance.assignee:
                        services.ticket_assign(ticket=instance, assignee=assignee, user=user)
                if solution is not None and status != TicketStatus.RESOLVED:
                    validated_data["solution"] = solution
                if validated_data:
                    services.ticket_update(ticket=instance, user=user, **validated_data)
                self._apply_status(instance, user, status, solution or instance.solution)
        except DjangoValidationError as exc:
            raise service_error(exc, "status") from exc
        return instance

    @staticmethod
    def _apply_status(ticket, user, status, solution) -> None:
        if not status or status == ticket.status:
            return
        if status == TicketStatus.RESOLVED:
            services.ticket_resolve(ticket=ticket, user=user, solution=solution)
        else:
            services.ticket_set_status(ticket=ticket, status=status, user=user)


class TicketFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    assignee = django_filters.NumberFilter(field_name="assignee_id")
    order = django_filters.NumberFilter(field_name="order_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Ticket
        fields = ["customer", "status", "priority", "category", "channel", "assignee", "order"]


class TicketViewSet(ScopedModelViewSet):
    """Tickets: agents work all of them; reps see and open tickets of their own customers;
    managers and admins do everything."""

    queryset = Ticket.objects.all()
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    ordering_fields = ["id", "created_at", "updated_at", "resolution_due"]


# ---------------------------------------------------------------- comments


class TicketCommentSerializer(StrictModelSerializer):
    """A reply (public: emailed to the customer and logged as an interaction) or an internal
    note, written through services.ticket_reply as on the ticket page."""

    ticket = ScopedPrimaryKeyRelatedField(queryset=Ticket.objects.all())
    then_status = serializers.ChoiceField(
        choices=[TicketStatus.OPEN, TicketStatus.PENDING],
        required=False,
        write_only=True,
        help_text=gettext_lazy("Move the ticket to open or pending after writing."),
    )

    class Meta:
        model = TicketComment
        fields = [
            "id",
            "ticket",
            "author",
            "body",
            "is_public",
            "then_status",
            "created_at",
            "emailed_at",
        ]
        read_only_fields = ["author", "created_at", "emailed_at"]

    def create(self, validated_data):
        request = self.context["request"]
        ticket = validated_data["ticket"]
        if not roles.can(request.user, "reply", ticket):
            raise exceptions.PermissionDenied()
        try:
            return services.ticket_reply(
                ticket=ticket,
                user=request.user,
                body=validated_data["body"],
                public=validated_data.get("is_public", True),
                then_status=validated_data.get("then_status", ""),
            )
        except DjangoValidationError as exc:
            raise service_error(exc, "body") from exc


class TicketCommentFilter(django_filters.FilterSet):
    ticket = django_filters.NumberFilter(field_name="ticket_id")
    author = django_filters.NumberFilter(field_name="author_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = TicketComment
        fields = ["ticket", "author", "is_public"]


class TicketCommentViewSet(ScopedModelViewSet):
    """A ticket's conversation (`?ticket=<id>`): agents, managers and admins read and write
    on every ticket; reps read those of their own customers' tickets (another's is a 404).
    Comments are not edited or deleted, as on the page."""

    queryset = TicketComment.objects.all()
    serializer_class = TicketCommentSerializer
    filterset_class = TicketCommentFilter
    ordering_fields = ["id", "created_at"]
    http_method_names = ["get", "post", "head", "options"]


# ---------------------------------------------------------------- feedback


class FeedbackSerializer(StrictModelSerializer):
    """CSAT (1-5), CES (1-7) and NPS (0-10) with a comment, about a ticket or an order of
    the customer. `agent` and `category` come from the ticket."""

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    ticket = ScopedPrimaryKeyRelatedField(
        queryset=Ticket.objects.all(), allow_null=True, required=False
    )
    order = ScopedPrimaryKeyRelatedField(
        queryset=Order.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Feedback
        fields = [
            "id",
            "customer",
            "ticket",
            "order",
            "agent",
            "category",
            "csat",
            "ces",
            "nps",
            "comment",
            "submitted_at",
        ]
        read_only_fields = ["agent", "category"]
        extra_kwargs = {"submitted_at": {"required": False}}

    def validate_submitted_at(self, value):
        if value > timezone.now() + timedelta(minutes=5):
            raise serializers.ValidationError(_("This time is in the future."))
        return value

    def create(self, validated_data):
        try:
            return services.feedback_record(**validated_data)
        except DjangoValidationError as exc:
            raise service_error(exc) from exc


class FeedbackFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    ticket = django_filters.NumberFilter(field_name="ticket_id")
    order = django_filters.NumberFilter(field_name="order_id")
    agent = django_filters.NumberFilter(field_name="agent_id")
    submitted_after = django_filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = django_filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="lt")

    class Meta:
        model = Feedback
        fields = ["customer", "ticket", "order", "agent", "category", "csat", "nps"]


class FeedbackViewSet(BulkCreateMixin, ScopedModelViewSet):
    """Feedback: agents, managers and admins read all of it and record answers collected
    by a survey tool (one, or up to 1,000 with /bulk/); reps read their own customers'.
    What a customer said is not edited; managers and admins may delete it."""

    queryset = Feedback.objects.all()
    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilter
    ordering_fields = ["id", "submitted_at"]
    http_method_names = ["get", "post", "delete", "head", "options"]


def _serialize_tickets(qs):
    return TicketSerializer(qs, many=True).data


def _remember_status(sender, instance, **kwargs):
    # From __dict__, so a deferred status never costs a query.
    instance._webhook_status = instance.__dict__.get("status")


def _ticket_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    if created:
        webhooks.emit("ticket.created", instance)
    if instance.status == TicketStatus.RESOLVED and (
        created or getattr(instance, "_webhook_status", None) != TicketStatus.RESOLVED
    ):
        webhooks.emit("ticket.resolved", instance)
    instance._webhook_status = instance.status


def register() -> None:
    register_viewset("tickets", TicketViewSet, "ticket")
    register_viewset("ticket-comments", TicketCommentViewSet, "ticketcomment")
    register_viewset("feedback", FeedbackViewSet, "feedback")
    for name, label in (
        ("ticket.created", gettext_lazy("Ticket created")),
        ("ticket.resolved", gettext_lazy("Ticket resolved")),
    ):
        register_event(WebhookEvent(name, label, "service.ticket", _serialize_tickets))
    # post_save, so tickets written by the pages, the API and the services all announce
    # themselves; post_init remembers the status the row was loaded with, so "resolved"
    # fires on the change only, without an extra query.
    post_init.connect(_remember_status, sender=Ticket, dispatch_uid="api.ticket_status")
    post_save.connect(_ticket_saved, sender=Ticket, dispatch_uid="api.ticket_saved")
