from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers.models import Customer
from sales.models import Order

from .choices import (
    ArticleStatus,
    BreachKind,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
    Weekday,
)
from .querysets import ArticleQuerySet, TicketQuerySet


class Ticket(models.Model):
    """A customer's request for help, worked by support agents.

    Due times come from the service-level policy of its priority; the actual first-response
    and resolution times are recorded beside them so breaches can be measured.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets"
    )
    subject = models.CharField(_("subject"), max_length=200)
    problem = models.TextField(_("problem"))
    solution = models.TextField(_("solution"), blank=True, default="")
    category = models.CharField(
        _("category"), max_length=12, choices=TicketCategory, default=TicketCategory.QUESTION
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=TicketPriority, default=TicketPriority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TicketStatus, default=TicketStatus.NEW
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=TicketChannel, default=TicketChannel.EMAIL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("related order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Set while the ticket is pending on the customer: the service-level clock stops, and the
    # due times move on by the business time that was left when it resumes.
    sla_paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_tickets",
    )

    # The audit trail (crm.history): every save and delete, with who and the values.
    history = HistoricalRecords()
    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["resolution_due"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("service:ticket_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in (
            TicketStatus.NEW,
            TicketStatus.OPEN,
            TicketStatus.PENDING,
            TicketStatus.REOPENED,
        )

    @property
    def is_paused(self) -> bool:
        return self.sla_paused_at is not None

    def sla_state(self, now=None) -> str:
        """ "breached", "soon" (due within the warning window), "ok" or "" (no clock)."""
        from .sla import WARNING_WINDOW

        if not self.is_open or self.is_paused:
            return ""
        now = now or timezone.now()
        dues = []
        if self.first_responded_at is None and self.first_response_due:
            dues.append(self.first_response_due)
        if self.resolution_due:
            dues.append(self.resolution_due)
        if not dues:
            return ""
        nearest = min(dues)
        if nearest <= now:
            return "breached"
        if nearest <= now + WARNING_WINDOW:
            return "soon"
        return "ok"


class TicketComment(models.Model):
    """One message in a ticket's conversation: a public reply (emailed to the customer) or an
    internal note (seen by staff only)."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_comments",
    )
    body = models.TextField(_("message"))
    is_public = models.BooleanField(
        _("public reply"),
        default=True,
        help_text=_("Public replies are emailed to the customer; internal notes are not."),
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket comment")
        verbose_name_plural = _("ticket comments")
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.body[:40]}"


class TicketStatusChange(models.Model):
    """One step in a ticket's status history, with who made it and when."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(
        _("from"), max_length=10, choices=TicketStatus, blank=True, default=""
    )
    to_status = models.CharField(_("to"), max_length=10, choices=TicketStatus)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [models.Index(fields=["ticket", "changed_at"])]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.from_status} -> {self.to_status}"


class SLAPolicy(models.Model):
    """Service-level targets for one ticket priority, counted in business time.

    Business hours are the policy's `BusinessHours` rows in its time zone; holidays (for all
    policies, or for one) stop the clock for the whole day.
    """

    name = models.CharField(_("name"), max_length=100)
    priority = models.CharField(_("priority"), max_length=8, choices=TicketPriority, unique=True)
    first_response_minutes = models.PositiveIntegerField(
        _("first response target (business minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution target (business minutes)"), validators=[MinValueValidator(1)]
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        help_text=_("The IANA name of the zone the business hours are in, e.g. Asia/Shanghai."),
    )

    class Meta:
        ordering = ["priority"]
        verbose_name = _("service-level policy")
        verbose_name_plural = _("service-level policies")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from django.core.exceptions import ValidationError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from exc


class BusinessHours(models.Model):
    """One opening interval of a policy on a weekday; several rows make split shifts.
    A closing time of 00:00 means midnight at the end of the day."""

    policy = models.ForeignKey(
        SLAPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["policy", "weekday", "opens"]
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self):
        from datetime import time

        from django.core.exceptions import ValidationError

        if self.closes != time(0) and self.closes <= self.opens:
            raise ValidationError({"closes": _("Closing time must be after opening time.")})


class Holiday(models.Model):
    """A day without business hours, for every policy or for one."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)
    policy = models.ForeignKey(
        SLAPolicy,
        verbose_name=_("policy"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="holidays",
        help_text=_("Leave empty for a holiday of every policy."),
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class SLABreach(models.Model):
    """A missed service-level target, recorded once per ticket and kind by the escalation
    job; `notified_at` says when the assignee and the managers were told."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="breaches"
    )
    kind = models.CharField(_("target"), max_length=16, choices=BreachKind)
    due_at = models.DateTimeField(_("was due"))
    detected_at = models.DateTimeField(_("detected"), default=timezone.now)
    notified_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-detected_at", "-id"]
        verbose_name = _("service-level breach")
        verbose_name_plural = _("service-level breaches")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="sla_breach_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.get_kind_display()}"


class SurveyInvitation(models.Model):
    """A one-time satisfaction survey sent to a customer after a resolved ticket or an order.

    The link carries a signed token naming this row and its nonce; it works until
    `expires_at`, once (`used_at`), and shows nothing but the questions.
    """

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    used_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")

    def __str__(self) -> str:
        return f"{self.customer_id} #{self.pk}"


class Feedback(models.Model):
    """What a customer said about a ticket or an order: CSAT (1-5), CES (1-7), NPS (0-10)
    and a comment. `agent` and `category` are copied from the ticket when it is answered, so
    the figures per agent and category need no join through a ticket that may change."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="feedback"
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
    )
    invitation = models.OneToOneField(
        SurveyInvitation,
        verbose_name=_("invitation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_received",
    )
    category = models.CharField(
        _("category"), max_length=12, choices=TicketCategory, blank=True, default=""
    )
    csat = models.PositiveSmallIntegerField(
        _("satisfaction (CSAT)"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    ces = models.PositiveSmallIntegerField(
        _("effort (CES)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(7)],
    )
    nps = models.PositiveSmallIntegerField(
        _("recommendation (NPS)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    comment = models.TextField(_("comment"), blank=True, default="")
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    # The audit trail (crm.history): every save and delete, with who and the values.
    history = HistoricalRecords()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        indexes = [
            models.Index(fields=["submitted_at"]),
            models.Index(fields=["customer", "-submitted_at"]),
            models.Index(fields=["agent", "submitted_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__gte=1, csat__lte=5), name="feedback_csat_range"
            ),
            models.CheckConstraint(
                condition=models.Q(ces__isnull=True) | models.Q(ces__gte=1, ces__lte=7),
                name="feedback_ces_range",
            ),
            models.CheckConstraint(
                condition=models.Q(nps__isnull=True) | models.Q(nps__gte=0, nps__lte=10),
                name="feedback_nps_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: CSAT {self.csat}"


class ArticleCategory(models.Model):
    """A section of the knowledge base."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """A knowledge-base article. Drafts are seen by agents and managers only."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus, default=ArticleStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [models.Index(fields=["status", "category"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("service:article_detail", args=[self.pk])


class CannedReply(models.Model):
    """A prepared answer an agent inserts into a reply and then edits."""

    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))
    category = models.CharField(
        _("ticket category"), max_length=12, choices=TicketCategory, blank=True, default=""
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title


class SuggestionIndex(models.Model):
    """The TF-IDF index behind suggested answers, built by a Celery job.

    `payload` is a pickle of the fitted vectorizer, the L2-normalised document matrix and the
    (kind, id) of each row; the newest row is the one in use. Written only by our own job, so
    unpickling it is safe.
    """

    built_at = models.DateTimeField(_("built"), default=timezone.now)
    documents = models.PositiveIntegerField(_("documents"), default=0)
    payload = models.BinaryField()

    class Meta:
        ordering = ["-built_at", "-id"]
        verbose_name = _("suggestion index")
        verbose_name_plural = _("suggestion indexes")

    def __str__(self) -> str:
        return f"{self.built_at:%Y-%m-%d %H:%M} ({self.documents})"
