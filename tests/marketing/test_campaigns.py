"""Campaigns: target and consent, holdout, batches, retries, unsubscribe, tracking, lift."""

from datetime import timedelta
from decimal import Decimal
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from analytics.models import CustomerSegment, JobRun, Segment
from crm.roles import Role
from customers.models import SavedView
from marketing import selectors, services
from marketing.models import Campaign, CampaignRecipient
from tests.factories import CustomerFactory, OrderFactory, TagFactory

pytestmark = pytest.mark.django_db


def make_campaign(template, users, **kwargs):
    kwargs.setdefault("target_kind", "tags")
    kwargs.setdefault("holdout_percent", 0)
    tags = kwargs.pop("tags", [])
    campaign = Campaign.objects.create(
        name="Spring", template=template, created_by=users[Role.MANAGER], **kwargs
    )
    campaign.tags.set(tags)
    return campaign


def start(campaign, on_commit):
    with on_commit():
        services.campaign_start(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


@pytest.fixture
def vip(db):
    return TagFactory(name="vip")


def test_a_campaign_reaches_exactly_the_consenting_customers_of_its_tag(
    template, users, vip, on_commit
):
    consenting = [CustomerFactory(marketing_consent=True) for _ in range(3)]
    no_consent = CustomerFactory(marketing_consent=False)
    no_email = CustomerFactory(marketing_consent=True, email="")
    outside = CustomerFactory(marketing_consent=True)
    for c in [*consenting, no_consent, no_email]:
        c.tags.add(vip)
    campaign = make_campaign(template, users, tags=[vip])
    preview = services.campaign_preview(campaign)
    assert (preview["target"], preview["excluded"], preview["reachable"]) == (5, 2, 3)
    campaign = start(campaign, on_commit)
    assert campaign.status == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in consenting)
    assert outside.email not in [m.to[0] for m in mail.outbox]
    assert set(campaign.recipients.values_list("status", flat=True)) == {"sent"}
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/marketing/u/" in message.body


def test_segment_and_saved_view_targets(template, users, on_commit):
    run = JobRun.objects.create(kind="segmentation", status="succeeded")
    segment = Segment.objects.create(run=run, number=0, name="high_regular", size=2)
    members = [CustomerFactory(marketing_consent=True) for _ in range(2)]
    CustomerFactory(marketing_consent=True)  # not in the segment
    CustomerSegment.objects.bulk_create(
        [CustomerSegment(customer=c, segment=segment) for c in members]
    )
    campaign = make_campaign(
        template,
        users,
        target_kind="segment",
        segment=segment,
        segment_label=segment.label,
        segment_key=services.segment_key(segment),
    )
    assert set(services.campaign_audience(campaign)) == set(members)

    # The next segmentation run replaces the segments (new ids, the table emptied): the
    # campaign reaches the newest segment of the same name.
    newcomer = CustomerFactory(marketing_consent=True)
    CustomerSegment.objects.all().delete()
    Segment.objects.all().delete()
    rerun = JobRun.objects.create(kind="segmentation", status="succeeded")
    again = Segment.objects.create(run=rerun, number=3, name="high_regular", size=2)
    other = Segment.objects.create(run=rerun, number=0, name="high_lapsed", size=1)
    CustomerSegment.objects.bulk_create(
        [
            CustomerSegment(customer=members[0], segment=again),
            CustomerSegment(customer=newcomer, segment=again),
            CustomerSegment(customer=members[1], segment=other),
        ]
    )
    campaign.refresh_from_db()
    assert set(services.campaign_audience(campaign)) == {members[0], newcomer}

    paris = CustomerFactory(city="Paris", marketing_consent=True)
    view = SavedView.objects.create(
        user=users[Role.MANAGER], name="Paris", query_string="city=paris"
    )
    campaign = make_campaign(template, users, target_kind="saved_view", saved_view=view)
    assert list(services.campaign_audience(campaign)) == [paris]


def test_the_holdout_receives_nothing_and_is_recorded(template, users, vip, on_commit):
    customers = [CustomerFactory(marketing_consent=True) for _ in range(20)]
    for c in customers:
        c.tags.add(vip)
    campaign = start(make_campaign(template, users, tags=[vip], holdout_percent=25), on_commit)
    held = CampaignRecipient.objects.filter(campaign=campaign, holdout=True)
    assert held.count() == 5
    assert set(held.values_list("status", flat=True)) == {"holdout"}
    held_emails = set(held.values_list("email", flat=True))
    sent_to = {m.to[0] for m in mail.outbox}
    assert len(sent_to) == 15
    assert not held_emails & sent_to


def test_the_next_campaign_honours_an_unsubscribe(client, template, users, vip, on_commit):
    alice = CustomerFactory(marketing_consent=True)
    bob = CustomerFactory(marketing_consent=True)
    for c in (alice, bob):
        c.tags.add(vip)
    start(make_campaign(template, users, tags=[vip]), on_commit)
    to_alice = next(m for m in mail.outbox if m.to == [alice.email])
    url = to_alice.extra_headers["List-Unsubscribe"].strip("<>")
    response = client.post(url.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()

    mail.outbox.clear()
    start(make_campaign(template, users, tags=[vip]), on_commit)
    assert [m.to for m in mail.outbox] == [[bob.email]]


def test_failing_campaign_sends_are_retried_with_backoff_then_marked_failed(
    template, users, vip, on_commit, settings, monkeypatch
):
    settings.EMAIL_SEND_MAX_ATTEMPTS = 3
    settings.EMAIL_RETRY_BASE_SECONDS = 60
    customer = CustomerFactory(marketing_consent=True)
    customer.tags.add(vip)

    def broken(self, messages):
        raise SMTPServerDisconnected("server went away")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", broken)
    campaign = start(make_campaign(template, users, tags=[vip]), on_commit)
    r = CampaignRecipient.objects.get(campaign=campaign)
    assert (r.status, r.attempts) == ("pending", 1)
    assert campaign.status == "sending"
    assert r.next_attempt_at > timezone.now() + timedelta(seconds=50)

    # The beat tick resumes the campaign once the retry is due (not before), and never
    # beside a chain of batches that is still running.
    assert services.marketing_tick()["resumed"] == 0
    CampaignRecipient.objects.filter(pk=r.pk).update(next_attempt_at=timezone.now())
    assert services.marketing_tick()["resumed"] == 0

    def time_passes():
        CampaignRecipient.objects.filter(pk=r.pk).update(
            next_attempt_at=timezone.now() - timedelta(minutes=1)
        )
        Campaign.objects.filter(pk=campaign.pk).update(
            last_batch_at=timezone.now() - timedelta(minutes=3)
        )
        with on_commit():
            assert services.marketing_tick()["resumed"] == 1

    time_passes()
    r.refresh_from_db()
    assert r.attempts == 2
    assert r.next_attempt_at > timezone.now() + timedelta(seconds=110)  # doubled backoff
    time_passes()
    r.refresh_from_db()
    campaign.refresh_from_db()
    assert (r.status, r.attempts) == ("failed", 3)
    assert "server went away" in r.error
    assert campaign.status == "sent"
    counts = selectors.campaign_counts(campaign)
    assert (counts["failed"], counts["delivered"], counts["attempted"]) == (1, 0, 1)


def test_batches_keep_to_the_batch_size(template, users, vip, settings, monkeypatch):
    from marketing.tasks import campaign_send_batch_task

    settings.CAMPAIGN_BATCH_SIZE = 2
    settings.CAMPAIGN_RATE_PER_MINUTE = 6
    for _ in range(5):
        CustomerFactory(marketing_consent=True).tags.add(vip)
    campaign = make_campaign(template, users, tags=[vip])
    queued = []
    monkeypatch.setattr(campaign_send_batch_task, "delay_on_commit", queued.append)
    monkeypatch.setattr(
        campaign_send_batch_task, "apply_async", lambda args, countdown: queued.append(countdown)
    )
    services.campaign_start(campaign_id=campaign.pk)
    assert queued == [campaign.pk]
    campaign_send_batch_task(campaign.pk)  # the first batch alone
    assert len(mail.outbox) == 2
    assert queued[-1] == 20.0  # 2 messages at 6 a minute: the next batch in 20 seconds
    assert selectors.campaign_progress(campaign)["percent"] == 40
    campaign_send_batch_task(campaign.pk)
    campaign_send_batch_task(campaign.pk)
    campaign.refresh_from_db()
    assert len(mail.outbox) == 5 and campaign.status == "sent"


def test_scheduled_campaign_starts_when_due(template, users, vip, on_commit):
    CustomerFactory(marketing_consent=True).tags.add(vip)
    campaign = make_campaign(template, users, tags=[vip])
    when = timezone.now() + timedelta(hours=2)
    services.campaign_schedule(campaign=campaign, when=when)
    with on_commit():
        services.marketing_tick()
    assert mail.outbox == []
    with on_commit():
        services.marketing_tick(now=when + timedelta(seconds=1))
    campaign.refresh_from_db()
    assert campaign.status == "sent" and len(mail.outbox) == 1


def test_clicks_and_opens_are_counted_and_only_signed_urls_redirect(
    client, template, users, vip, on_commit
):
    CustomerFactory(marketing_consent=True).tags.add(vip)
    campaign = start(make_campaign(template, users, tags=[vip], track_opens=True), on_commit)
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert "/marketing/o/" in html
    click_path = next(w for w in message.body.split() if "/marketing/c/" in w).removeprefix(
        "http://127.0.0.1:8000"
    )
    response = client.get(click_path)
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/spring?a=1&b=2"
    r = CampaignRecipient.objects.get(campaign=campaign)
    assert r.clicked_at and r.opened_at

    evil = signing.dumps([r.pk, "https://evil.example.com"], salt="other", compress=True)
    assert client.get(reverse("marketing:track_click", args=[evil])).status_code == 400
    tampered = click_path.replace("/c/", "/c/x")
    assert client.get(tampered).status_code == 400
    js = signing.dumps([r.pk, "javascript:alert(1)"], salt=services.CLICK_SALT, compress=True)
    assert client.get(reverse("marketing:track_click", args=[js])).status_code == 400

    pixel = client.get(services.open_url(r.pk).removeprefix("http://127.0.0.1:8000"))
    assert pixel.status_code == 200 and pixel["Content-Type"] == "image/gif"
    counts = selectors.campaign_counts(campaign)
    assert (counts["opened"], counts["clicked"]) == (1, 1)


def test_lift_equals_a_direct_computation_on_the_same_orders(template, users, vip, on_commit):
    customers = [CustomerFactory(marketing_consent=True) for _ in range(10)]
    for c in customers:
        c.tags.add(vip)
    campaign = start(
        make_campaign(template, users, tags=[vip], holdout_percent=30, attribution_days=30),
        on_commit,
    )
    t0 = campaign.started_at
    amounts = [Decimal("10.00"), Decimal("25.50"), Decimal("7.25")]
    for i, c in enumerate(customers):
        OrderFactory(customer=c, ordered_at=t0 + timedelta(days=i + 1), total=amounts[i % 3])
        # Not counted: before the campaign, after the window, cancelled.
        OrderFactory(customer=c, ordered_at=t0 - timedelta(days=1), total=Decimal("999"))
        OrderFactory(customer=c, ordered_at=t0 + timedelta(days=31), total=Decimal("999"))
        OrderFactory(
            customer=c, ordered_at=t0 + timedelta(days=2), total=Decimal("999"), status="cancelled"
        )
    held = set(
        CampaignRecipient.objects.filter(campaign=campaign, holdout=True).values_list(
            "customer_id", flat=True
        )
    )
    assert len(held) == 3

    def per_member(group):
        total = Decimal(0)
        for i, c in enumerate(customers):
            if c.pk in group:
                total += amounts[i % 3]
        return (total / len(group)).quantize(Decimal("0.01"))

    treated = per_member({c.pk for c in customers} - held)
    control = per_member(held)
    revenue = selectors.campaign_revenue(campaign)
    assert revenue["per_recipient"] == treated
    assert revenue["per_holdout"] == control
    assert revenue["lift"] == treated - control
    assert revenue["lift_pct"] == ((treated - control) / control * 100).quantize(Decimal("0.1"))
    assert revenue["orders_recipients"] + revenue["orders_holdout"] == 10


def test_campaign_pages_are_for_managers_only(client_for, template, users):
    campaign = make_campaign(template, users)
    for role in (Role.SALES_REP, Role.SUPPORT_AGENT):
        client = client_for(role)
        assert client.get(reverse("marketing:campaign_list")).status_code == 403
        assert client.get(reverse("marketing:campaign_create")).status_code == 403
        assert client.get(reverse("marketing:template_list")).status_code == 403
        assert (
            client.post(reverse("marketing:campaign_send", args=[campaign.pk])).status_code == 403
        )
        assert (
            client.get(reverse("marketing:campaign_results", args=[campaign.pk])).status_code == 403
        )
    assert Campaign.objects.get().status == "draft"
    assert client_for(Role.MANAGER).get(reverse("marketing:campaign_list")).status_code == 200


def test_the_beat_schedule_runs_the_marketing_tick():
    from crm.celery import app

    entries = [e for e in app.conf.beat_schedule.values() if e["task"].startswith("marketing.")]
    assert [e["task"] for e in entries] == ["marketing.tasks.marketing_tick_task"]
    assert "marketing.tasks.marketing_tick_task" in app.tasks
