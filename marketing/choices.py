"""Statuses and choices of emails and campaigns."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    """Delivery of one email written to a customer."""

    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Language(models.TextChoices):
    EN = "en", _("English")
    ZH = "zh-hans", _("Chinese")


class LanguageMode(models.TextChoices):
    """Which version of a template a campaign sends to each customer."""

    AUTO = "auto", _("By the customer's country (Chinese for CN, TW, HK, MO, SG)")
    EN = "en", _("English to everyone")
    ZH = "zh-hans", _("Chinese to everyone")


class TargetKind(models.TextChoices):
    SEGMENT = "segment", _("A segment")
    SAVED_VIEW = "saved_view", _("A saved customer view")
    TAGS = "tags", _("Customers with any of these tags")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")


class RecipientStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    HOLDOUT = "holdout", _("Held out")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Failed")
