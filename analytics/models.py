"""Job runs and the result tables the analytics jobs write.

Pages only read these tables (one indexed query per panel or chart); the jobs replace a
job's rows in one transaction, so readers see either the old results or the new ones.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from sales.models import Product

from .choices import (
    ACTIVE_STATUSES,
    ForecastRowKind,
    Granularity,
    JobKind,
    JobStatus,
    LoyaltyTier,
    SegmentName,
)


class JobRun(models.Model):
    """One run of an analytics job: what was asked, how far it got, what it measured.

    `metrics` holds row counts and quality figures (for example ROC AUC for churn, MAE and
    MAPE for the forecast); `message` holds the error or the reason data was insufficient.
    At most one run per kind is queued or running at a time (a partial unique constraint).
    """

    kind = models.CharField(_("job"), max_length=20, choices=JobKind)
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus, default=JobStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=100, blank=True, default="")
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True, default="")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (s)"), null=True, blank=True)
    peak_memory_mb = models.FloatField(_("peak memory (MB)"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        indexes = [models.Index(fields=["kind", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="analytics_one_active_run_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("analytics:jobrun_list") + f"#run-{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def display_message(self) -> str:
        """The message in the reader's language when the run stopped for lack of data."""
        reason = (self.metrics or {}).get("insufficient")
        if self.status == JobStatus.INSUFFICIENT_DATA and reason:
            from .messages import insufficient_message

            return insufficient_message(reason["code"], reason.get("params", {}))
        return self.message

    def summary(self) -> list[tuple[str, str]]:
        """The few figures a manager checks after a run, as (label, text) pairs."""
        m = self.metrics or {}
        if self.status != JobStatus.SUCCEEDED:
            return []

        def pct(v):
            return "—" if v is None else f"{100 * v:.1f}%"

        def num(v, digits=0):
            return "—" if v is None else f"{v:,.{digits}f}"

        out: list[tuple[str, str]] = []
        if self.kind == JobKind.SEGMENTATION:
            out = [(_("customers"), num(m.get("customers"))), (_("segments"), num(m.get("k")))]
        elif self.kind == JobKind.ASSOCIATION_RULES:
            out = [
                (_("baskets"), num(m.get("baskets"))),
                (_("rules"), num(m.get("rules_kept"))),
                (_("min. support"), f"{m.get('min_support', 0):.5f}"),
                (_("recommendations"), num(m.get("recommendations"))),
            ]
        elif self.kind == JobKind.FORECAST:
            month = m.get("month", {})
            out = [
                (_("MAPE, model"), f"{num(month.get('model', {}).get('mape'), 1)}%"),
                (
                    _("MAPE, seasonal-naive"),
                    f"{num(month.get('seasonal_naive', {}).get('mape'), 1)}%",
                ),
                (_("next 6 months"), num(month.get("next_total"))),
            ]
        elif self.kind == JobKind.CHURN:
            out = [
                (_("model"), str(m.get("chosen", "")).replace("_", " ")),
                (_("ROC AUC"), num(m.get("roc_auc"), 3)),
                (_("precision"), pct(m.get("precision"))),
                (_("recall"), pct(m.get("recall"))),
                (_("at risk"), num(m.get("predicted_at_risk"))),
            ]
        elif self.kind == JobKind.CUSTOMER_VALUE:
            out = [
                (_("customers"), num(m.get("customers"))),
                (_("predicted value, 12 months"), num(m.get("predicted_value_12m_total"))),
            ]
        return [(str(label), value) for label, value in out]


class Segment(models.Model):
    """A customer segment found by the segmentation job, with its profile (feature medians)."""

    run = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="segments")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=20, choices=SegmentName)
    variant = models.PositiveSmallIntegerField(default=0)  # 1, 2.. when names repeat
    size = models.PositiveIntegerField(_("customers"))
    profile = models.JSONField(_("profile"), default=dict)

    class Meta:
        ordering = ["number"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        name = str(self.get_name_display())
        return f"{name} {self.variant}" if self.variant else name


class CustomerSegment(models.Model):
    """Which segment a customer is in (one row per segmented customer)."""

    # db_constraint=False on the customer and product keys of the result tables: a writer
    # COPYs 100k-200k rows at once, and a per-row foreign-key trigger (which also locks each
    # customer row) cost 9 s of a 203k-row commit at scale M. The writer drops rows of
    # customers deleted meanwhile with one anti-join instead (analytics.services._drop_orphans);
    # deleting a customer through Django still deletes their rows (on_delete=CASCADE).
    customer = models.OneToOneField(
        Customer,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="segment_membership",
        db_constraint=False,
    )
    # Nor on the segment key: the writer creates the segments and their members in one
    # transaction, after emptying both tables, so every member's segment exists; the
    # per-row check at commit cost 0.3 s of 70k members at scale M.
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="members", db_constraint=False
    )

    class Meta:
        verbose_name = _("customer segment")
        verbose_name_plural = _("customer segments")

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.segment_id}"


class CustomerScore(models.Model):
    """One row per customer: value figures (customer_value job) and churn risk (churn job).

    Each job rewrites its own columns for every customer and keeps the other job's.
    `churn_drivers` is a list of up to three {"feature", "value", "effect"} items: the
    features that raise this customer's churn probability most.
    """

    # No database constraint: see CustomerSegment.customer.
    customer = models.OneToOneField(
        Customer,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="score",
        db_constraint=False,
    )
    recency_days = models.IntegerField(_("days since last order"), null=True, blank=True)
    frequency = models.IntegerField(_("orders"), null=True, blank=True)
    monetary = models.DecimalField(
        _("average order value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    r_score = models.PositiveSmallIntegerField(_("R"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("F"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("M"), null=True, blank=True)
    historic_value = models.DecimalField(
        _("historic value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    predicted_purchases_12m = models.FloatField(_("expected orders, next 12 months"), null=True)
    predicted_value_12m = models.DecimalField(
        _("predicted value, next 12 months"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
    )
    p_alive = models.FloatField(_("probability still active"), null=True, blank=True)
    loyalty_tier = models.CharField(
        _("loyalty tier"), max_length=10, choices=LoyaltyTier, blank=True, default=""
    )
    churn_probability = models.FloatField(_("churn probability"), null=True, blank=True)
    churn_drivers = models.JSONField(_("churn drivers"), null=True, blank=True)
    value_scored_at = models.DateTimeField(null=True, blank=True)
    churn_scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [
            models.Index(fields=["loyalty_tier"]),
            models.Index(fields=["-churn_probability"]),
            models.Index(fields=["-predicted_value_12m"]),
            models.Index(fields=["r_score", "f_score", "m_score"]),
        ]

    def __str__(self) -> str:
        return f"score of {self.customer_id}"

    @property
    def rfm(self) -> str:
        if self.r_score is None:
            return ""
        return f"{self.r_score}{self.f_score}{self.m_score}"


class AssociationRule(models.Model):
    """A cross-sell rule: baskets with all antecedent products often hold the consequents."""

    run = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="rules")
    antecedents = models.JSONField(_("if bought"))  # sorted product ids
    consequents = models.JSONField(_("then also"))  # sorted product ids
    antecedent_size = models.PositiveSmallIntegerField()
    support = models.FloatField(_("support"))
    confidence = models.FloatField(_("confidence"))
    lift = models.FloatField(_("lift"))
    baskets = models.PositiveIntegerField(_("baskets"))

    class Meta:
        ordering = ["-lift", "-confidence", "id"]
        verbose_name = _("association rule")
        verbose_name_plural = _("association rules")
        indexes = [models.Index(fields=["-lift", "-confidence"])]

    def __str__(self) -> str:
        return f"{self.antecedents} → {self.consequents}"


class Recommendation(models.Model):
    """A product a customer has not bought yet, ranked from the rules their purchases trigger."""

    # No index of its own: the (customer, rank) index below serves lookups by customer.
    # No database constraints: see CustomerSegment.customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    confidence = models.FloatField(_("confidence"))
    lift = models.FloatField(_("lift"))
    because = models.JSONField(_("because they bought"))  # product ids of the rule's antecedent

    class Meta:
        ordering = ["customer", "rank"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        indexes = [models.Index(fields=["customer", "rank"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.product_id}"


class Forecast(models.Model):
    """Revenue per period: history with the fitted value, the held-back test periods with
    the model's and the seasonal-naive prediction, and future periods with an interval."""

    run = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="forecasts")
    granularity = models.CharField(_("period"), max_length=5, choices=Granularity)
    period_start = models.DateField(_("period start"))
    row_kind = models.CharField(max_length=8, choices=ForecastRowKind)
    actual = models.DecimalField(_("actual"), max_digits=16, decimal_places=2, null=True)
    predicted = models.DecimalField(_("predicted"), max_digits=16, decimal_places=2, null=True)
    lower = models.DecimalField(_("lower bound"), max_digits=16, decimal_places=2, null=True)
    upper = models.DecimalField(_("upper bound"), max_digits=16, decimal_places=2, null=True)
    baseline = models.DecimalField(_("seasonal-naive"), max_digits=16, decimal_places=2, null=True)

    class Meta:
        ordering = ["granularity", "period_start"]
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        constraints = [
            models.UniqueConstraint(
                fields=["granularity", "period_start"], name="analytics_forecast_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.granularity} {self.period_start}"


class ChurnRate(models.Model):
    """Per month: customers active at its start (an order in the 90 days before), and how
    many of them churned during it (their 90 days without an order ran out)."""

    month = models.DateField(_("month"), unique=True)
    active_customers = models.PositiveIntegerField(_("active customers"))
    churned_customers = models.PositiveIntegerField(_("churned customers"))
    rate = models.FloatField(_("churn rate"))

    class Meta:
        ordering = ["month"]
        verbose_name = _("churn rate")
        verbose_name_plural = _("churn rates")

    def __str__(self) -> str:
        return f"{self.month}: {self.rate:.1%}"


class SatisfactionPeriod(models.Model):
    """CSAT, CES and NPS per month, from the customers' feedback."""

    month = models.DateField(_("month"), unique=True)
    responses = models.PositiveIntegerField(_("responses"))
    csat = models.FloatField(_("CSAT (1-5)"), null=True, blank=True)
    csat_satisfied_share = models.FloatField(_("satisfied (4-5)"), null=True, blank=True)
    ces = models.FloatField(_("CES (1-7)"), null=True, blank=True)
    nps = models.FloatField(_("NPS"), null=True, blank=True)

    class Meta:
        ordering = ["month"]
        verbose_name = _("satisfaction per month")
        verbose_name_plural = _("satisfaction per month")

    def __str__(self) -> str:
        return str(self.month)
