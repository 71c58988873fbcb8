"""Email to customers: templates, single emails written from the customer page, campaigns
and their recipients (one row per targeted customer, so every figure is one aggregate)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Interaction, SavedView, Tag

from .choices import (
    CampaignStatus,
    EmailStatus,
    Language,
    LanguageMode,
    RecipientStatus,
    TargetKind,
)


class EmailTemplate(models.Model):
    """A reusable email in English and Chinese. Subject and body are Django templates over
    a fixed set of customer fields (marketing.rendering.FIELDS), rendered sandboxed."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    subject_en = models.CharField(_("subject (English)"), max_length=200)
    body_en = models.TextField(_("body (English)"))
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200)
    body_zh = models.TextField(_("body (Chinese)"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("marketing:template_update", args=[self.pk])

    def version(self, language: str) -> tuple[str, str]:
        """(subject, body) in the language ("zh-hans" or anything else for English)."""
        if language == Language.ZH:
            return self.subject_zh, self.body_zh
        return self.subject_en, self.body_en


def attachment_path(instance, filename: str) -> str:
    return f"marketing/attachments/{timezone.now():%Y/%m}/{filename}"


class OutboundEmail(models.Model):
    """One email written to one customer from the CRM, with its delivery status. It is
    logged on the customer's timeline as an outbound email interaction linked to this row."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="emails"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    interaction = models.OneToOneField(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.ForeignKey(
        EmailTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_address = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=8, choices=Language)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=8, choices=EmailStatus, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True, default="")
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        indexes = [
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        # Shown on the timeline beside the interaction ("about ..."), so it names the status.
        return str(_("email %(status)s")) % {"status": self.get_status_display().lower()}

    def get_absolute_url(self) -> str:
        return reverse("marketing:email_detail", args=[self.pk])


class EmailAttachment(models.Model):
    """A file sent with an OutboundEmail (kept, so a retry sends the same files)."""

    email = models.ForeignKey(OutboundEmail, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(_("size"))
    content_type = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """A marketing email to a target (a segment, a saved view or tags), sent to the
    consenting customers of the target with a random holdout group kept back to measure
    the campaign's lift. Recipients are fixed when the campaign starts."""

    name = models.CharField(_("name"), max_length=120)
    template = models.ForeignKey(
        EmailTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    language_mode = models.CharField(
        _("language"), max_length=8, choices=LanguageMode, default=LanguageMode.AUTO
    )
    target_kind = models.CharField(_("target"), max_length=12, choices=TargetKind)
    # Segments are rewritten by each segmentation run (its writer empties the table with
    # TRUNCATE, which a database-level foreign key would refuse): the campaign keeps the
    # segment's label and its key (name and variant, stable from run to run) and reaches
    # the customers of the newest segment with that key.
    segment = models.ForeignKey(
        "analytics.Segment",
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    segment_label = models.CharField(max_length=60, blank=True, default="")
    segment_key = models.CharField(max_length=30, blank=True, default="")
    saved_view = models.ForeignKey(
        SavedView,
        verbose_name=_("saved view"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    saved_query = models.CharField(max_length=1000, blank=True, default="")
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="+")
    holdout_percent = models.PositiveSmallIntegerField(_("holdout (%)"), default=10)
    track_opens = models.BooleanField(_("count opens (tracking pixel)"), default=False)
    attribution_days = models.PositiveSmallIntegerField(_("count orders for (days)"), default=30)
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus, default=CampaignStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # When the last batch ran: the beat tick resumes a campaign only when its batch chain
    # has stopped (retries waiting, or a lost task), never beside a running chain.
    last_batch_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [models.Index(fields=["status", "scheduled_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("marketing:campaign_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)


class CampaignRecipient(models.Model):
    """One targeted customer of a campaign: in the holdout group (sent nothing) or sent to,
    with what happened to the message."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="campaign_recipients"
    )
    email = models.EmailField(_("email"))
    language = models.CharField(_("language"), max_length=8, choices=Language)
    holdout = models.BooleanField(_("holdout"), default=False)
    status = models.CharField(
        _("status"), max_length=8, choices=RecipientStatus, default=RecipientStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="campaign_recipient_unique"
            )
        ]
        indexes = [models.Index(fields=["campaign", "status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.customer_id}"
