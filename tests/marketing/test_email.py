"""Writing to one customer from the customer page."""

from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.roles import Role
from customers.models import Interaction
from marketing.models import OutboundEmail
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def compose_url(customer):
    return reverse("marketing:email_compose", args=[customer.pk])


def test_rep_sends_a_templated_email_with_attachment_logged_on_the_timeline(
    client_for, users, template, on_commit, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    customer = CustomerFactory(name="Ann Lee", owner=users[Role.SALES_REP])
    client = client_for(Role.SALES_REP)
    page = client.get(customer.get_absolute_url())
    assert compose_url(customer) in page.content.decode()
    with on_commit():
        response = client.post(
            compose_url(customer),
            {
                "template": template.pk,
                "language": "en",
                "subject": "",
                "body": "",
                "action": "send",
                "attachments": SimpleUploadedFile("offer.pdf", b"%PDF-1.4 x", "application/pdf"),
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [customer.email]
    assert sent.subject == "Hello Ann"
    assert "Dear Ann Lee" in sent.body
    assert sent.attachments[0][0] == "offer.pdf"
    email = OutboundEmail.objects.get()
    assert email.status == "sent" and email.attempts == 1
    interaction = Interaction.objects.get(customer=customer)
    assert (interaction.channel, interaction.direction) == ("email", "outbound")
    assert interaction.related_object == email
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Hello Ann" in page and "email sent" in page


def test_preview_shows_the_rendered_message_without_sending(client_for, users, template):
    customer = CustomerFactory(name="Ann Lee", owner=users[Role.SALES_REP])
    response = client_for(Role.SALES_REP).post(
        compose_url(customer),
        {"template": template.pk, "language": "zh-hans", "action": "preview"},
    )
    assert response.status_code == 200
    assert response.context["preview"].subject == "Ann Lee，您好"
    assert mail.outbox == []
    assert not OutboundEmail.objects.exists()


def test_bad_template_input_is_a_form_error(client_for, users):
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    response = client_for(Role.SALES_REP).post(
        compose_url(customer),
        {
            "language": "en",
            "subject": "Hi {% if %}",
            "body": "{{ annual_income }}",
            "action": "send",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "The template has an error" in errors["subject"][0]
    assert "Unknown field" in errors["body"][0]
    assert not OutboundEmail.objects.exists() and mail.outbox == []


def test_attachments_over_the_limit_are_refused(client_for, users, settings):
    settings.EMAIL_ATTACHMENTS_MAX_MB = 1
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    big = SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 1))
    response = client_for(Role.SALES_REP).post(
        compose_url(customer),
        {"language": "en", "subject": "s", "body": "b", "action": "send", "attachments": big},
    )
    assert "at most 1 MB" in response.context["form"].errors["attachments"][0]
    assert not OutboundEmail.objects.exists()


def test_another_reps_customer_is_a_404_for_a_rep_but_open_to_agents_and_managers(
    client_for, users
):
    theirs = CustomerFactory(owner=users["peer"])
    assert client_for(Role.SALES_REP).get(compose_url(theirs)).status_code == 404
    page = client_for(Role.SALES_REP).get(theirs.get_absolute_url()).content.decode()
    assert compose_url(theirs) not in page
    assert client_for(Role.SUPPORT_AGENT).get(compose_url(theirs)).status_code == 200
    assert client_for(Role.MANAGER).get(compose_url(theirs)).status_code == 200


def test_a_failing_send_is_retried_then_marked_failed_and_shown(
    client_for, users, on_commit, settings, monkeypatch
):
    settings.EMAIL_SEND_MAX_ATTEMPTS = 3
    calls = []

    def broken_send(self, messages):
        calls.append(len(messages))
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", broken_send)
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    client = client_for(Role.SALES_REP)
    with on_commit():
        client.post(
            compose_url(customer),
            {"language": "en", "subject": "Hi", "body": "Text", "action": "send"},
        )
    assert len(calls) == 3  # the first try and two retries
    email = OutboundEmail.objects.get()
    assert email.status == "failed" and email.attempts == 3
    assert "Connection unexpectedly closed" in email.error
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "email failed" in page  # on the timeline
    detail = client.get(email.get_absolute_url()).content.decode()
    assert "Connection unexpectedly closed" in detail


def test_a_send_that_fails_once_is_sent_on_retry(client_for, users, on_commit, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages
    state = {"n": 0}

    def flaky(self, messages):
        state["n"] += 1
        if state["n"] == 1:
            raise OSError("temporary")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    with on_commit():
        client_for(Role.SALES_REP).post(
            compose_url(customer),
            {"language": "en", "subject": "Hi", "body": "Text", "action": "send"},
        )
    email = OutboundEmail.objects.get()
    assert (email.status, email.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_an_email_whose_task_was_lost_is_sent_by_the_beat_tick(users):
    from datetime import timedelta

    from django.utils import timezone

    from marketing import services

    customer = CustomerFactory(owner=users[Role.SALES_REP])
    lost = OutboundEmail.objects.create(
        customer=customer,
        to_address=customer.email,
        language="en",
        subject="Lost",
        body="b",
        created_at=timezone.now() - timedelta(hours=3),
    )
    recent = OutboundEmail.objects.create(
        customer=customer, to_address=customer.email, language="en", subject="Recent", body="b"
    )
    assert services.marketing_tick()["emails"] == 1
    lost.refresh_from_db()
    recent.refresh_from_db()
    assert (lost.status, recent.status) == ("sent", "queued")
    assert [m.subject for m in mail.outbox] == ["Lost"]
