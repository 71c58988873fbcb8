"""The service desk's demo rows: consistent with the tickets, and re-seedable."""

import pytest
from django.core.management import call_command

from service.models import (
    Article,
    CannedReply,
    Feedback,
    SLABreach,
    SuggestionIndex,
    Ticket,
    TicketComment,
    TicketStatusChange,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_writes_service_desk_rows_and_can_reset():
    call_command("seed_demo", scale="XS", seed=3, verbosity=0)
    call_command("seed_demo", scale="XS", seed=3, reset=True, verbosity=0)
    tickets = Ticket.objects.count()
    assert tickets > 0
    # Every ticket has a history that starts with "new"; every resolved one has its solution
    # as the last public reply.
    assert TicketStatusChange.objects.filter(from_status="", to_status="new").count() == tickets
    done = Ticket.objects.filter(resolved_at__isnull=False)
    assert TicketComment.objects.filter(ticket__in=done, is_public=True).count() >= done.count()
    feedback = Feedback.objects.all()
    assert 0 < feedback.count() < done.count()
    assert set(feedback.values_list("csat", flat=True)) <= {1, 2, 3, 4, 5}
    assert not feedback.filter(invitation__used_at__isnull=True).exists()
    # Breaches are recorded as escalated already, so the first beat tick sends no storm.
    assert not SLABreach.objects.filter(notified_at__isnull=True).exists()
    assert Article.objects.filter(status="published").count() == 12
    assert Article.objects.filter(title__regex=r"[\u4e00-\u9fff]").count() >= 6
    assert CannedReply.objects.count() >= 6
    assert SuggestionIndex.objects.get().documents > 12
