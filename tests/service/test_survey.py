"""The satisfaction survey: a public one-time link that expires and reveals nothing else."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from service import services
from service.models import Feedback
from tests.factories import OrderFactory, TicketFactory

pytestmark = pytest.mark.django_db

ANSWER = {"csat": "4", "ces": "6", "nps": "9", "comment": "Quick and kind."}


@pytest.fixture
def resolved(users, django_capture_on_commit_callbacks):
    ticket = TicketFactory(
        subject="Secret subject 42",
        status="open",
        assignee=users[Role.SUPPORT_AGENT],
        category="complaint",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resolve(ticket=ticket, user=users[Role.SUPPORT_AGENT], solution="Done")
    return ticket


def link_from_mail():
    body = mail.outbox[-1].body
    return next(line for line in body.splitlines() if "/service/survey/" in line).strip()


def test_link_works_once(client, resolved):
    url = link_from_mail()
    assert url.startswith("http://")
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200
    html = page.content.decode()
    # Nothing but the questions: no name, email, subject or problem of the customer.
    assert resolved.customer.name not in html
    assert resolved.customer.email not in html
    assert "Secret subject 42" not in html
    assert page["Referrer-Policy"] == "same-origin"
    assert "noindex" in page["X-Robots-Tag"]

    done = client.post("/" + path, ANSWER)
    assert done.status_code == 200
    assert b"Thank you" in done.content
    feedback = Feedback.objects.get()
    assert (feedback.csat, feedback.ces, feedback.nps) == (4, 6, 9)
    assert feedback.comment == "Quick and kind."
    assert feedback.ticket == resolved
    assert feedback.agent == resolved.assignee
    assert feedback.category == "complaint"

    again = client.post("/" + path, {**ANSWER, "csat": "1"})
    assert again.status_code == 410
    assert client.get("/" + path).status_code == 410
    assert Feedback.objects.count() == 1


def test_expired_link_is_refused(client, resolved):
    invitation = resolved.survey_invitations.get()
    invitation.expires_at = timezone.now() - timedelta(seconds=1)
    invitation.save()
    url = reverse("service:survey", args=[services.survey_token(invitation)])
    assert client.get(url).status_code == 410
    assert client.post(url, ANSWER).status_code == 410
    assert not Feedback.objects.exists()


def test_forged_or_altered_tokens_are_refused(client, resolved):
    invitation = resolved.survey_invitations.get()
    token = services.survey_token(invitation)
    assert client.get(reverse("service:survey", args=[token[:-2] + "xx"])).status_code == 410
    invitation.nonce = "other"
    assert (
        client.get(reverse("service:survey", args=[services.survey_token(invitation)])).status_code
        == 410
    )
    assert client.get(reverse("service:survey", args=["garbage"])).status_code == 410


def test_invalid_answers_show_messages(client, resolved):
    invitation = resolved.survey_invitations.get()
    url = reverse("service:survey", args=[services.survey_token(invitation)])
    response = client.post(url, {"csat": "9", "ces": "", "nps": "11"})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() >= {"csat", "ces", "nps"}
    assert not Feedback.objects.exists()
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_survey_after_an_order(client):
    order = OrderFactory()
    invitation = services.survey_invitation_create(customer=order.customer, order=order)
    url = reverse("service:survey", args=[services.survey_token(invitation)])
    assert client.post(url, ANSWER).status_code == 200
    feedback = Feedback.objects.get()
    assert feedback.order == order
    assert feedback.ticket is None


def test_surveys_after_orders_are_opt_in_and_sent_once(
    settings, django_capture_on_commit_callbacks
):
    from service.tasks import service_desk_tick_task

    now = timezone.now()
    due = OrderFactory(status="completed", ordered_at=now - timedelta(days=7, hours=3))
    OrderFactory(status="completed", ordered_at=now - timedelta(days=30))  # history: never
    OrderFactory(status="cancelled", ordered_at=now - timedelta(days=7, hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        service_desk_tick_task()
    assert mail.outbox == []  # off by default
    settings.SURVEY_AFTER_ORDER_DAYS = 7
    with django_capture_on_commit_callbacks(execute=True):
        service_desk_tick_task()
    with django_capture_on_commit_callbacks(execute=True):
        service_desk_tick_task()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [due.customer.email]
    assert due.survey_invitations.get().sent_at is not None
