from django.db import models
from django.utils.translation import gettext_lazy as _


class JobKind(models.TextChoices):
    SEGMENTATION = "segmentation", _("Segmentation")
    ASSOCIATION_RULES = "association_rules", _("Cross-sell rules")
    FORECAST = "forecast", _("Revenue forecast")
    CHURN = "churn", _("Churn risk")
    CUSTOMER_VALUE = "customer_value", _("Customer value")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    INSUFFICIENT_DATA = "insufficient_data", _("Too little data")


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class SegmentName(models.TextChoices):
    """Readable segment names, picked from a segment's profile (value level x behaviour)."""

    HIGH_REGULAR = "high_regular", _("High-value regulars")
    HIGH_OCCASIONAL = "high_occasional", _("High-value occasional buyers")
    HIGH_LAPSED = "high_lapsed", _("Lapsed big spenders")
    HIGH_NEW = "high_new", _("New big spenders")
    MID_REGULAR = "mid_regular", _("Steady regulars")
    MID_OCCASIONAL = "mid_occasional", _("Occasional buyers")
    MID_LAPSED = "mid_lapsed", _("Lapsing customers")
    MID_NEW = "mid_new", _("Promising newcomers")
    LOW_REGULAR = "low_regular", _("Frequent small buyers")
    LOW_OCCASIONAL = "low_occasional", _("Occasional small buyers")
    LOW_LAPSED = "low_lapsed", _("Lapsed small buyers")
    LOW_NEW = "low_new", _("New small buyers")


class LoyaltyTier(models.TextChoices):
    """From the recency and frequency quintile scores (see jobs/customer_value.py)."""

    CHAMPION = "champion", _("Champion")
    LOYAL = "loyal", _("Loyal")
    PROMISING = "promising", _("Promising")
    NEEDS_ATTENTION = "attention", _("Needs attention")
    AT_RISK = "at_risk", _("At risk")
    LAPSED = "lapsed", _("Lapsed")


class Granularity(models.TextChoices):
    MONTH = "month", _("Month")
    WEEK = "week", _("Week")


class ForecastRowKind(models.TextChoices):
    HISTORY = "history", _("History")
    BACKTEST = "backtest", _("Held-back test")
    FUTURE = "future", _("Forecast")
