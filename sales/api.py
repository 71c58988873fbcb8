"""REST API for products and orders (with their lines).

An order's `total` is always the sum of its lines: the serializer writes the lines and the
total together in one transaction. `register()` is called from SalesConfig.ready.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.db import transaction
from django.db.models.signals import post_save
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from crm.api import webhooks
from crm.api.fields import (
    ScopedPrimaryKeyRelatedField,
    StrictDecimalField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
)
from crm.api.registry import WebhookEvent, register_event, register_viewset
from crm.api.viewsets import BulkCreateMixin, ScopedModelViewSet, UpsertMixin, upsert_action
from customers.models import Customer

from . import summaries
from .models import Order, OrderLine, Product


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


def _serialize_orders(qs):
    return OrderSerializer(qs.prefetch_related("lines"), many=True).data


def _order_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        webhooks.emit("order.created", instance)


def register() -> None:
    register_viewset("products", ProductViewSet, "product")
    register_viewset("orders", OrderViewSet, "order")
    register_event(
        WebhookEvent(
            "order.created", gettext_lazy("Order created"), "sales.order", _serialize_orders
        )
    )
    # post_save + on_commit (inside webhooks.emit): the payload is built after the commit,
    # so it carries the lines and the total written after the order row itself.
    post_save.connect(_order_saved, sender=Order, dispatch_uid="api.order_saved")
