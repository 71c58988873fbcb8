from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from sales.models import Order

from .choices import TicketCategory, TicketChannel, TicketPriority, TicketStatus
from .querysets import TicketQuerySet


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
