from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers.models import Customer

from .choices import LostReason, OrderStatus, StageOutcome
from .querysets import DealQuerySet, OrderQuerySet, ProductQuerySet, TaskQuerySet


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
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # served by the (customer, -ordered_at) index below
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

    # The audit trail (crm.history): every save and delete, with who and the values. As for
    # customers, its foreign-key copies carry no index and its user no checked constraint:
    # an import of a million order lines writes half a million history rows.
    history = HistoricalRecords(user_db_constraint=False, no_db_index=["customer", "created_by"])
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


class LineBase(models.Model):
    """A quantity of a product at a unit price: an order's or a deal's line."""

    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderLine(LineBase):
    """One product on an order, at the price it was sold for."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")


class Pipeline(models.Model):
    """A sales process with its own ordered stages ("New business", "Renewals")."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.name


class PipelineStage(models.Model):
    """One step of a pipeline. `probability` (0-100) weights the forecast; the outcome says
    whether a deal in this stage is still open or closed as won or lost."""

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    outcome = models.CharField(
        _("outcome"), max_length=4, choices=StageOutcome, default=StageOutcome.OPEN
    )

    class Meta:
        ordering = ["pipeline", "order", "id"]
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_max_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_won(self) -> bool:
        return self.outcome == StageOutcome.WON

    @property
    def is_lost(self) -> bool:
        return self.outcome == StageOutcome.LOST

    @property
    def is_closed(self) -> bool:
        return self.outcome != StageOutcome.OPEN


class Deal(models.Model):
    """A sales opportunity with a customer, moving through the stages of one pipeline.

    `amount` is the sum of the deal's lines when it has lines (kept by the services), else
    the value the owner entered. `order` is the one order created when the deal was won, so
    winning it again never creates a second one.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="deals"
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        PipelineStage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="deals",
    )
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    lost_reason = models.CharField(
        _("lost reason"), max_length=12, choices=LostReason, blank=True, default=""
    )
    lost_note = models.CharField(_("lost note"), max_length=500, blank=True, default="")
    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    order = models.OneToOneField(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deal",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # The audit trail (crm.history): every save and delete, with who and the values.
    history = HistoricalRecords()
    objects = DealQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            models.Index(fields=["pipeline", "stage"]),
            models.Index(fields=["owner", "stage"]),
            models.Index(fields=["customer", "-updated_at"]),
            models.Index(fields=["expected_close"]),
            models.Index(fields=["closed_at"]),
            models.Index(fields=["-updated_at", "-id"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("sales:deal_detail", args=[self.pk])


class DealLine(LineBase):
    """A product offered on a deal; becomes an order line when the deal is won."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="deal_lines"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")


class DealStageChange(models.Model):
    """One move of a deal (its creation is a change from no stage). `seconds_in_from_stage`
    is how long the deal stayed in the stage it left, so the average time in a stage is a
    plain aggregate."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        PipelineStage,
        verbose_name=_("from stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        PipelineStage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    seconds_in_from_stage = models.PositiveBigIntegerField(
        _("seconds in previous stage"), null=True, blank=True
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("deal stage change")
        verbose_name_plural = _("deal stage changes")
        indexes = [
            models.Index(fields=["deal", "-changed_at"]),
            models.Index(fields=["to_stage"]),
            models.Index(fields=["from_stage"]),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class Task(models.Model):
    """A follow-up for a user about a customer or a deal, with a due time. The reminder goes
    out once: `reminder_sent_at` is set by the same statement that claims it."""

    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True, default="")
    due_at = models.DateTimeField(_("due"))
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.CASCADE,
        related_name="sales_tasks",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_tasks",
    )
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    reminder_sent_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["done", "due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "done", "due_at"]),
            models.Index(fields=["done", "reminder_sent_at", "due_at"]),
            models.Index(fields=["customer", "done"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(deal__isnull=False),
                name="task_about_customer_or_deal",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("sales:task_list") + f"#task-{self.pk}"

    @property
    def is_overdue(self) -> bool:
        return not self.done and self.due_at < timezone.now()


class Notification(models.Model):
    """An in-app notice for one user (task reminders); shown until read."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="sales_notifications",
    )
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True, default="")
    task = models.ForeignKey(
        Task,
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------- report summaries
#
# The sales reports read these instead of the million orders behind them (sales.summaries
# keeps them in step). "rep" is the customer's owner, as in the reports; the foreign keys
# carry no database constraint so deleting a user or a product never waits on them: the
# next refresh or the nightly rebuild drops their rows.


class OrderDaySummary(models.Model):
    """Counted orders (not drafts or cancellations) of one day, in the site's time zone,
    for the customers of one owner: how many and their total."""

    day = models.DateField(_("day"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    orders = models.PositiveIntegerField(_("orders"))
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("daily order summary")
        verbose_name_plural = _("daily order summaries")
        indexes = [models.Index(fields=["day"]), models.Index(fields=["owner", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.owner_id}: {self.revenue}"


class ProductMonthSummary(models.Model):
    """Units and line revenue of one product in one month (its first day) over the
    counted orders of one owner's customers."""

    month = models.DateField(_("month"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    units = models.BigIntegerField(_("units"))
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("monthly product summary")
        verbose_name_plural = _("monthly product summaries")
        indexes = [
            models.Index(fields=["month", "product"]),
            models.Index(fields=["owner", "month"]),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.owner_id} {self.product_id}: {self.revenue}"


class ProductMonthTotal(models.Model):
    """Units and line revenue of one product in one month over every owner's customers:
    the monthly product summary without the owner, which the unfiltered product report
    reads (a third of the rows with three reps, far fewer with many)."""

    month = models.DateField(_("month"))
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    units = models.BigIntegerField(_("units"))
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("monthly product total")
        verbose_name_plural = _("monthly product totals")
        indexes = [models.Index(fields=["month", "product"])]

    def __str__(self) -> str:
        return f"{self.month} {self.product_id}: {self.revenue}"


class CategoryMonthSummary(models.Model):
    """Units and line revenue of one product category in one month for one owner's
    customers: the monthly product summary grouped once more (a dozen rows a month)."""

    month = models.DateField(_("month"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    category = models.CharField(_("category"), max_length=100)
    units = models.BigIntegerField(_("units"))
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("monthly category summary")
        verbose_name_plural = _("monthly category summaries")
        indexes = [models.Index(fields=["month"]), models.Index(fields=["owner", "month"])]

    def __str__(self) -> str:
        return f"{self.month} {self.owner_id} {self.category}: {self.revenue}"


class SummaryState(models.Model):
    """One row: a counter bumped after every change to the summaries, part of the
    reports' cache key, and when the last full rebuild ran."""

    version = models.BigIntegerField(_("version"), default=0)
    rebuilt_at = models.DateTimeField(_("rebuilt"), null=True, blank=True)

    class Meta:
        verbose_name = _("summary state")
        verbose_name_plural = _("summary state")

    def __str__(self) -> str:
        return f"v{self.version}"
