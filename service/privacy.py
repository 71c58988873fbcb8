"""What the service app holds about a customer, for the personal-data export and erasure
(registered in crm.registry from ServiceConfig.ready)."""

from __future__ import annotations

from django.db.models import Q

from crm.privacy import ERASED_TEXT, rows_of, scrub_history
from crm.registry import PersonalDataSource

from .models import Feedback, SurveyInvitation, Ticket, TicketComment


def collect(customer) -> dict[str, list[dict]]:
    return {
        "tickets": rows_of(Ticket.objects.filter(customer=customer)),
        "ticket_comments": rows_of(TicketComment.objects.filter(ticket__customer=customer)),
        "feedback": rows_of(Feedback.objects.filter(customer=customer)),
        "survey_invitations": rows_of(
            SurveyInvitation.objects.filter(customer=customer),
            "id",
            "ticket_id",
            "order_id",
            "created_at",
            "sent_at",
            "used_at",
        ),
    }


def erase(customer, user) -> dict[str, int]:
    """The text of tickets, replies and feedback comments goes (in the tables and their
    history); the tickets themselves, their times and the scores stay for the figures. The
    suggestion index, built from solved tickets' text, is rebuilt after the commit."""
    ticket_ids = list(Ticket.objects.filter(customer=customer).values_list("pk", flat=True))
    feedback_ids = list(Feedback.objects.filter(customer=customer).values_list("pk", flat=True))
    text = {"subject": ERASED_TEXT, "problem": ERASED_TEXT, "solution": ""}
    counts = {
        "tickets": Ticket.objects.filter(pk__in=ticket_ids).update(**text),
        "ticket_history": scrub_history(
            Ticket, Q(customer_id=customer.pk) | Q(id__in=ticket_ids), text
        ),
        "ticket_comments": TicketComment.objects.filter(ticket_id__in=ticket_ids).update(
            body=ERASED_TEXT
        ),
        "feedback": Feedback.objects.filter(pk__in=feedback_ids).update(comment=""),
        "feedback_history": scrub_history(
            Feedback, Q(customer_id=customer.pk) | Q(id__in=feedback_ids), {"comment": ""}
        ),
    }
    if ticket_ids:
        from .tasks import rebuild_suggestion_index_task

        rebuild_suggestion_index_task.delay_on_commit()
    return counts


source = PersonalDataSource(key="service", collect=collect, erase=erase, order=30)
