"""REST API for products, orders (with their lines), deals (with their lines and stage
moves) and tasks.

An order's `total` is always the sum of its lines: the serializer writes the lines and the
total together in one transaction. Deals and tasks are written through sales.services, as on
the pages: a stage move is `POST /deals/{id}/move/`, validated and recorded by
`services.deal_move` exactly like the board's. `register()` is called from SalesConfig.ready.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models.signals import post_save
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from crm import roles
from crm.api import webhooks
from crm.api.fields import (
    ScopedPrimaryKeyRelatedField,
    StrictCharField,
    StrictDecimalField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
)
from crm.api.registry import WebhookEvent, register_event, register_viewset
from crm.api.viewsets import (
    BulkCreateMixin,
    ScopedModelViewSet,
    UpsertMixin,
    service_error,
    upsert_action,
)
from customers.models import Customer

from . import selectors, services, summaries
from .choices import DealStatus, LostReason, StageOutcome
from .models import Deal, DealLine, DealStageChange, Order, OrderLine, PipelineStage, Product, Task

User = get_user_model()


class ProductSerializer(StrictModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "category", "unit_price", "active"]
        extra_kwargs = {"sku": {"validators": []}}

    def validate_sku(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(_("This field may not be blank."))
        clash = Product.objects.filter(sku=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(_("A product with this SKU already exists."))
        return value


class ProductFilter(django_filters.FilterSet):
    class Meta:
        model = Product
        fields = ["sku", "category", "active"]


class ProductViewSet(UpsertMixin, BulkCreateMixin, ScopedModelViewSet):
    """The catalogue: everyone reads; managers and admins write."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    ordering_fields = ["id", "sku", "name", "unit_price"]
    upsert_field = "sku"
    bulk_unique_field = "sku"
    upsert = upsert_action("sku", "by-sku", "The product's SKU.")


class OrderLineSerializer(StrictModelSerializer):
    product = StrictPrimaryKeyRelatedField(queryset=Product.objects.all())
    unit_price = StrictDecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=gettext_lazy("Defaults to the product's current price."),
    )
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = ["id", "product", "quantity", "unit_price", "amount"]


class OrderSerializer(StrictModelSerializer):
    """An order with its lines. Writing `lines` replaces all of them; `total` is computed."""

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    lines = OrderLineSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "customer",
            "ordered_at",
            "status",
            "total",
            "lines",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["total", "created_by", "created_at"]
        extra_kwargs = {"external_id": {"validators": []}}

    def validate_external_id(self, value: str) -> str:
        value = value.strip()
        if value:
            clash = Order.objects.filter(external_id=value)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    _("An order with this external ID already exists.")
                )
        return value

    def validate_lines(self, lines):
        if len(lines) > 500:
            raise serializers.ValidationError(_("At most 500 lines per order."))
        return lines

    def _write_lines(self, order, lines) -> None:
        objs = [
            OrderLine(
                order=order,
                product=line["product"],
                quantity=line["quantity"],
                unit_price=line.get("unit_price", line["product"].unit_price),
            )
            for line in lines
        ]
        OrderLine.objects.bulk_create(objs)
        order.total = sum((o.quantity * o.unit_price for o in objs), Decimal("0"))
        order.save(update_fields=["total"])

    @transaction.atomic
    def create(self, validated_data):
        lines = validated_data.pop("lines", [])
        request = self.context.get("request")
        validated_data["created_by"] = request.user if request else None
        order = Order.objects.create(**validated_data)
        self._write_lines(order, lines)
        summaries.refresh_orders([order.pk])
        return order

    @transaction.atomic
    def update(self, instance, validated_data):
        lines = validated_data.pop("lines", None)
        before = summaries.footprint([instance.pk])
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        if lines is not None:
            instance.lines.all().delete()
            self._write_lines(instance, lines)
            getattr(instance, "_prefetched_objects_cache", {}).pop("lines", None)
        summaries.refresh_orders([instance.pk], before)
        return instance

    def to_representation(self, instance):
        if "lines" not in getattr(instance, "_prefetched_objects_cache", {}):
            # Fresh from create/update: read the lines just written (lists prefetch them).
            instance = Order.objects.prefetch_related("lines").get(pk=instance.pk)
        return super().to_representation(instance)


class OrderFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    ordered_after = django_filters.IsoDateTimeFilter(field_name="ordered_at", lookup_expr="gte")
    ordered_before = django_filters.IsoDateTimeFilter(field_name="ordered_at", lookup_expr="lt")
    product = django_filters.NumberFilter(field_name="lines__product", distinct=True)

    class Meta:
        model = Order
        fields = ["customer", "status", "external_id"]


class OrderViewSet(UpsertMixin, BulkCreateMixin, ScopedModelViewSet):
    """Orders: everyone reads; reps create; managers and admins change and delete."""

    queryset = Order.objects.all()
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    ordering_fields = ["id", "ordered_at", "total"]
    bulk_unique_field = "external_id"
    upsert = upsert_action("external_id", "by-external-id", "The order's external ID.")

    def optimize(self, qs):
        return qs.prefetch_related("lines")

    def perform_destroy(self, instance):
        with transaction.atomic():
            before = summaries.footprint([instance.pk])
            super().perform_destroy(instance)
            summaries.refresh(before)


# ---------------------------------------------------------------- deals


def _requesting_user(serializer):
    request = serializer.context.get("request")
    return request.user if request else None


def _check_owner(serializer, field: str, person) -> None:
    """Reps keep their own work; managers and admins give it to any seller."""
    user = _requesting_user(serializer)
    if person is None or user is None:
        return
    if person.pk != user.pk and not roles.may(user, "reassign_work"):
        raise serializers.ValidationError(
            {field: _("Only managers and admins give work to someone else.")}
        )
    if not selectors.sellers().filter(pk=person.pk).exists():
        raise serializers.ValidationError({field: _("Choose a sales rep, a manager or an admin.")})


class DealLineSerializer(StrictModelSerializer):
    product = StrictPrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)
    unit_price = StrictDecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=gettext_lazy("Defaults to the product's current price."),
    )
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = DealLine
        fields = ["id", "product", "quantity", "unit_price", "amount"]


def _line_inputs(lines) -> list[services.LineInput]:
    return [
        services.LineInput(
            product=line["product"],
            quantity=line["quantity"],
            unit_price=line.get("unit_price", line["product"].unit_price),
        )
        for line in lines
    ]


class DealSerializer(StrictModelSerializer):
    """A deal with its product lines. The stage is set when the deal is created and changed
    only by `POST /deals/{id}/move/`; with lines, `amount` is their sum."""

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    stage = StrictPrimaryKeyRelatedField(
        queryset=PipelineStage.objects.filter(pipeline__active=True).select_related("pipeline"),
        help_text=gettext_lazy(
            "Set on create (its pipeline becomes the deal's); change it with the move action."
        ),
    )
    status = serializers.ChoiceField(
        choices=DealStatus.choices, source="stage.outcome", read_only=True
    )
    owner = StrictPrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text=gettext_lazy("Defaults to you; only managers and admins choose someone else."),
    )
    amount = StrictDecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=gettext_lazy("Computed from the lines when the deal has any."),
    )
    lost_reason = serializers.ChoiceField(
        choices=LostReason.choices,
        required=False,
        help_text=gettext_lazy("Needed when the deal is created in a lost stage."),
    )
    lines = DealLineSerializer(many=True, required=False)

    class Meta:
        model = Deal
        fields = [
            "id",
            "customer",
            "title",
            "pipeline",
            "stage",
            "status",
            "owner",
            "amount",
            "expected_close",
            "lost_reason",
            "lost_note",
            "stage_entered_at",
            "closed_at",
            "order",
            "lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "pipeline",
            "lost_note",
            "stage_entered_at",
            "closed_at",
            "order",
            "created_at",
            "updated_at",
        ]

    def validate_lines(self, lines):
        if len(lines) > 500:
            raise serializers.ValidationError(_("At most 500 lines per deal."))
        return lines

    def validate(self, attrs):
        if self.instance is not None:
            moved = {"stage": self.instance.stage_id, "lost_reason": self.instance.lost_reason}
            for name, current in moved.items():
                value = attrs.get(name)
                if name in attrs and getattr(value, "pk", value) != current:
                    raise serializers.ValidationError(
                        {name: _("Change the stage with POST /api/v1/deals/{id}/move/.")}
                    )
            if "customer" in attrs and attrs["customer"].pk != self.instance.customer_id:
                raise serializers.ValidationError(
                    {"customer": _("A deal stays with its customer.")}
                )
            has_lines = self.instance.lines.exists()
            if "lines" in attrs and self.instance.order_id is not None:
                raise serializers.ValidationError(
                    {"lines": _("The products of a won deal became its order: change the order.")}
                )
            if "amount" in attrs and "lines" not in attrs and has_lines:
                raise serializers.ValidationError(
                    {"amount": _("Computed from the deal's products: change its lines.")}
                )
        _check_owner(self, "owner", attrs.get("owner"))
        return attrs

    def create(self, validated_data):
        user = _requesting_user(self)
        stage = validated_data["stage"]
        try:
            return services.deal_create(
                customer=validated_data["customer"],
                title=validated_data["title"],
                pipeline=stage.pipeline,
                stage=stage,
                owner=validated_data.get("owner") or user,
                user=user,
                amount=validated_data.get("amount") or Decimal("0"),
                expected_close=validated_data.get("expected_close"),
                lines=_line_inputs(validated_data.get("lines", [])),
                lost_reason=validated_data.get("lost_reason", ""),
            )
        except DjangoValidationError as exc:
            field = "lost_reason" if stage.is_lost else "lines" if stage.is_won else "stage"
            raise service_error(exc, field) from exc

    def update(self, instance, validated_data):
        lines = validated_data.get("lines")
        if lines is None and "amount" in validated_data:
            lines = []  # a deal without lines: the amount is what was sent
        services.deal_update(
            deal=instance,
            title=validated_data.get("title", instance.title),
            owner=validated_data.get("owner", instance.owner),
            amount=validated_data.get("amount", instance.amount),
            expected_close=validated_data.get("expected_close", instance.expected_close),
            lines=None if lines is None else _line_inputs(lines),
        )
        getattr(instance, "_prefetched_objects_cache", {}).pop("lines", None)
        return instance

    def to_representation(self, instance):
        if "lines" not in getattr(instance, "_prefetched_objects_cache", {}):
            instance = (
                Deal.objects.select_related("stage").prefetch_related("lines").get(pk=instance.pk)
            )
        return super().to_representation(instance)


class DealMoveSerializer(serializers.Serializer):
    """A stage of the deal's pipeline; a lost stage needs a reason (as on the board)."""

    stage = StrictPrimaryKeyRelatedField(queryset=PipelineStage.objects.select_related("pipeline"))
    lost_reason = serializers.ChoiceField(choices=LostReason.choices, required=False)
    lost_note = StrictCharField(max_length=500, required=False, allow_blank=True)


class DealMoveResultSerializer(serializers.Serializer):
    moved = serializers.BooleanField(
        help_text=gettext_lazy("False when the deal was in that stage already.")
    )
    order_created = serializers.IntegerField(
        allow_null=True,
        help_text=gettext_lazy("The order this move created from the deal's lines, if any."),
    )
    deal = DealSerializer()


class DealFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    owner = django_filters.NumberFilter(field_name="owner_id")
    pipeline = django_filters.NumberFilter(field_name="pipeline_id")
    stage = django_filters.NumberFilter(field_name="stage_id")
    status = django_filters.ChoiceFilter(field_name="stage__outcome", choices=StageOutcome.choices)
    expected_close_after = django_filters.DateFilter(field_name="expected_close", lookup_expr="gte")
    expected_close_before = django_filters.DateFilter(
        field_name="expected_close", lookup_expr="lte"
    )
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Deal
        fields = ["customer", "owner", "pipeline", "stage", "status"]


class DealViewSet(ScopedModelViewSet):
    """Deals: reps see and change their own (another rep's deal is a 404); managers and
    admins all; support agents none. Stage moves: `POST /deals/{id}/move/`."""

    queryset = Deal.objects.all()
    serializer_class = DealSerializer
    filterset_class = DealFilter
    ordering_fields = ["id", "created_at", "updated_at", "amount", "stage_entered_at"]
    role_actions = {"move": "move"}
    view_needs_model_access = True  # agents: 403, as on the deal pages

    def optimize(self, qs):
        return qs.select_related("stage").prefetch_related("lines")

    @extend_schema(
        summary="Move the deal to another stage",
        description=(
            "The same move as on the board: a stage of the deal's own pipeline; a lost stage "
            "needs `lost_reason`; a won stage needs product lines and creates the deal's "
            "order the first time. The change is recorded with you and the time, and "
            "`deal.won` / `deal.lost` webhooks fire."
        ),
        request=DealMoveSerializer,
        responses={200: DealMoveResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None, format=None):
        deal = self.get_object()
        move = DealMoveSerializer(data=request.data, context=self.get_serializer_context())
        move.is_valid(raise_exception=True)
        stage = move.validated_data["stage"]
        try:
            result = services.deal_move(
                deal=deal,
                stage=stage,
                user=request.user,
                lost_reason=move.validated_data.get("lost_reason", ""),
                lost_note=move.validated_data.get("lost_note", ""),
            )
        except DjangoValidationError as exc:
            raise service_error(exc, "lost_reason" if stage.is_lost else "stage") from exc
        body = DealMoveResultSerializer(
            {
                "moved": result.moved,
                "order_created": result.order.pk if result.order else None,
                "deal": result.deal,
            },
            context=self.get_serializer_context(),
        )
        return Response(body.data, status=status.HTTP_200_OK)


def _serialize_deals(qs):
    return DealSerializer(qs.select_related("stage").prefetch_related("lines"), many=True).data


def _stage_changed(sender, instance, created, raw=False, **kwargs):
    """deal.won / deal.lost when a deal enters a won or lost stage (created in one, or
    moved there from the board, the deal page or the API: all through sales.services)."""
    if not created or raw:
        return
    outcome = instance.to_stage.outcome
    if outcome == StageOutcome.WON:
        webhooks.emit("deal.won", instance.deal)
    elif outcome == StageOutcome.LOST:
        webhooks.emit("deal.lost", instance.deal)


# ---------------------------------------------------------------- tasks


class TaskSerializer(StrictModelSerializer):
    """A follow-up about a customer or a deal (a deal's task is also its customer's).
    Reps assign tasks to themselves; managers and admins to any seller."""

    assignee = StrictPrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text=gettext_lazy("Defaults to you; only managers and admins choose someone else."),
    )
    customer = ScopedPrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )
    deal = ScopedPrimaryKeyRelatedField(
        queryset=Deal.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "notes",
            "due_at",
            "done",
            "done_at",
            "assignee",
            "customer",
            "deal",
            "reminder_sent_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["done_at", "reminder_sent_at", "created_by", "created_at"]

    def validate(self, attrs):
        customer = attrs.get("customer", getattr(self.instance, "customer", None))
        deal = attrs.get("deal", getattr(self.instance, "deal", None))
        if customer is None and deal is None:
            raise serializers.ValidationError(
                {"customer": _("A task is about a customer or a deal.")}
            )
        if customer is not None and deal is not None and deal.customer_id != customer.pk:
            raise serializers.ValidationError({"deal": _("This deal belongs to another customer.")})
        _check_owner(self, "assignee", attrs.get("assignee"))
        return attrs

    @transaction.atomic
    def create(self, validated_data):
        user = _requesting_user(self)
        task = services.task_create(
            title=validated_data["title"],
            due_at=validated_data["due_at"],
            assignee=validated_data.get("assignee") or user,
            created_by=user,
            customer=validated_data.get("customer"),
            deal=validated_data.get("deal"),
            notes=validated_data.get("notes", ""),
        )
        if validated_data.get("done"):
            services.task_set_done(task=task, done=True)
        return task

    @transaction.atomic
    def update(self, instance, validated_data):
        done = validated_data.pop("done", None)
        if "due_at" in validated_data and validated_data["due_at"] != instance.due_at:
            instance.reminder_sent_at = None  # a new due time gets its own reminder
        if "deal" in validated_data and validated_data["deal"] is not None:
            validated_data.setdefault("customer", validated_data["deal"].customer)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        if done is not None and done != instance.done:
            services.task_set_done(task=instance, done=done)
        return instance


class TaskFilter(django_filters.FilterSet):
    assignee = django_filters.NumberFilter(field_name="assignee_id")
    customer = django_filters.NumberFilter(field_name="customer_id")
    deal = django_filters.NumberFilter(field_name="deal_id")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = Task
        fields = ["assignee", "customer", "deal", "done"]


class TaskViewSet(BulkCreateMixin, ScopedModelViewSet):
    """Tasks: reps see and work the tasks assigned to them (another's is a 404); managers
    and admins all; support agents none."""

    queryset = Task.objects.all()
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    ordering_fields = ["id", "due_at", "created_at"]
    view_needs_model_access = True  # agents: 403, as on the task pages


def _serialize_orders(qs):
    return OrderSerializer(qs.prefetch_related("lines"), many=True).data


def _order_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        webhooks.emit("order.created", instance)


def register() -> None:
    register_viewset("products", ProductViewSet, "product")
    register_viewset("orders", OrderViewSet, "order")
    register_viewset("deals", DealViewSet, "deal")
    register_viewset("tasks", TaskViewSet, "task")
    for name, label in (
        ("deal.won", gettext_lazy("Deal won")),
        ("deal.lost", gettext_lazy("Deal lost")),
    ):
        register_event(WebhookEvent(name, label, "sales.deal", _serialize_deals))
    post_save.connect(_stage_changed, sender=DealStageChange, dispatch_uid="api.deal_stage_changed")
    register_event(
        WebhookEvent(
            "order.created", gettext_lazy("Order created"), "sales.order", _serialize_orders
        )
    )
    # post_save + on_commit (inside webhooks.emit): the payload is built after the commit,
    # so it carries the lines and the total written after the order row itself.
    post_save.connect(_order_saved, sender=Order, dispatch_uid="api.order_saved")
