"""Celery tasks of the service desk: thin, idempotent wrappers that take ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import SLABreach, SurveyInvitation, TicketComment


@shared_task(
    name="service.tasks.send_ticket_reply_task",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_ticket_reply_task(comment_id: int) -> bool:
    """Email a public reply to the customer, once (emailed_at marks it sent)."""
    comment = (
        TicketComment.objects.select_related("ticket__customer", "author")
        .filter(pk=comment_id, is_public=True, emailed_at__isnull=True)
        .first()
    )
    if comment is None or not comment.ticket.customer.email:
        return False
    ticket = comment.ticket
    body = render_to_string("service/email/reply.txt", {"ticket": ticket, "comment": comment})
    EmailMessage(
        subject=f"[#{ticket.pk}] {ticket.subject}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[ticket.customer.email],
        headers={"X-CRM-Ticket": str(ticket.pk)},
    ).send()
    TicketComment.objects.filter(pk=comment.pk).update(emailed_at=timezone.now())
    return True


@shared_task(
    name="service.tasks.send_survey_invitation_task",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_survey_invitation_task(invitation_id: int) -> bool:
    """Email the one-time survey link, once (sent_at marks it sent)."""
    from .services import survey_url

    invitation = (
        SurveyInvitation.objects.select_related("customer", "ticket")
        .filter(pk=invitation_id, sent_at__isnull=True, used_at__isnull=True)
        .first()
    )
    if invitation is None or not invitation.customer.email:
        return False
    body = render_to_string(
        "service/email/survey.txt",
        {
            "invitation": invitation,
            "url": survey_url(invitation),
            "customer": invitation.customer,
        },
    )
    subject = (
        _("How did we do with ticket #%(id)s?") % {"id": invitation.ticket_id}
        if invitation.ticket_id
        else _("How did we do?")
    )
    EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.customer.email],
    ).send()
    SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    return True


@shared_task(
    name="service.tasks.send_escalation_task",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_escalation_task(breach_id: int) -> bool:
    """Tell the assignee and the managers about a missed target, once (notified_at)."""
    from .services import escalation_recipients

    breach = (
        SLABreach.objects.select_related("ticket__customer", "assignee")
        .filter(pk=breach_id, notified_at__isnull=True)
        .first()
    )
    if breach is None:
        return False
    recipients = escalation_recipients(breach)
    if recipients:
        ticket = breach.ticket
        body = render_to_string(
            "service/email/escalation.txt",
            {"breach": breach, "ticket": ticket, "url": settings.SITE_URL.rstrip("/")},
        )
        EmailMessage(
            subject=_("Service level missed: #%(id)s %(subject)s")
            % {"id": ticket.pk, "subject": ticket.subject},
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
        ).send()
    SLABreach.objects.filter(pk=breach.pk).update(notified_at=timezone.now())
    return True


@shared_task(name="service.tasks.rebuild_suggestion_index_task")
def rebuild_suggestion_index_task() -> int:
    """Refit the TF-IDF index of suggested answers; returns how many documents it holds."""
    from .services import suggestion_index_rebuild

    row = suggestion_index_rebuild()
    return row.documents if row else 0


@shared_task(name="service.tasks.service_desk_tick_task")
def service_desk_tick_task() -> int:
    """The service desk's scheduled round: escalate new breaches, invite customers to a survey
    after an order (when SURVEY_AFTER_ORDER_DAYS is set), and refresh the suggestion index
    when it is a day old. Returns how many breaches were escalated."""
    from .services import (
        INDEX_MAX_AGE,
        REBUILD_AFTER_RESOLUTIONS,
        escalate_breaches,
        invite_after_orders,
        suggestion_index_is_stale,
    )

    created = escalate_breaches()
    invite_after_orders(days=settings.SURVEY_AFTER_ORDER_DAYS)
    if suggestion_index_is_stale(new_resolutions=REBUILD_AFTER_RESOLUTIONS, max_age=INDEX_MAX_AGE):
        rebuild_suggestion_index_task.delay()
    return len(created)
