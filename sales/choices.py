from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class StageOutcome(models.TextChoices):
    """Whether a pipeline stage is still open or closes the deal as won or lost."""

    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class LostReason(models.TextChoices):
    PRICE = "price", _("Price too high")
    COMPETITOR = "competitor", _("Chose a competitor")
    BUDGET = "budget", _("No budget")
    TIMING = "timing", _("Bad timing")
    NO_DECISION = "no_decision", _("No decision")
    FIT = "fit", _("Not a fit")
    OTHER = "other", _("Other")


class DealStatus(models.TextChoices):
    """The status of a deal, derived from its stage's outcome (for filters)."""

    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
