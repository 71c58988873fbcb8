from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

from .choices import OrderStatus
from .querysets import OrderQuerySet, ProductQuerySet


class Product(models.Model):
    """Something the company sells, identified by its SKU."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True, default="")
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["category"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Order(models.Model):
    """A purchase: the record the analytics read.

    `total` is the sum of the lines, kept by the services that write lines (and by the
    importer and the demo generator in bulk), so lists and reports need no join to sum it.
    """

    external_id = models.CharField(_("external ID"), max_length=64, blank=True, default="")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    ordered_at = models.DateTimeField(_("ordered"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus, default=OrderStatus.CONFIRMED
    )
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer", "-ordered_at"]),
            models.Index(fields=["-ordered_at", "-id"]),
            models.Index(fields=["status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="order_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("sales:order_detail", args=[self.pk])

    def recompute_total(self) -> Decimal:
        """Set `total` from the lines (not saved); the lines are the truth."""
        agg = self.lines.aggregate(total=Sum(F("quantity") * F("unit_price")))
        self.total = agg["total"] or Decimal("0")
        return self.total


class OrderLine(models.Model):
    """One product on an order, at the price it was sold for."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity
