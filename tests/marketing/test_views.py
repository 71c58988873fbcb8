"""The marketing pages as a manager uses them, and their query counts."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from marketing.models import Campaign, CampaignRecipient, EmailTemplate, OutboundEmail
from tests.factories import CustomerFactory, OrderFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_manager_manages_templates_with_form_errors_for_bad_templates(client_for):
    client = client_for(Role.MANAGER)
    data = {
        "name": "Welcome",
        "subject_en": "Welcome {{ first_name }}",
        "body_en": "Hello {{ name }}",
        "subject_zh": "欢迎 {{ first_name }}",
        "body_zh": "{{ name }}，{% if %}",
    }
    response = client.post(reverse("marketing:template_create"), data)
    assert response.status_code == 200
    assert "The template has an error" in response.context["form"].errors["body_zh"][0]
    assert not EmailTemplate.objects.exists()
    data["body_zh"] = "{{ name }}，您好"
    response = client.post(reverse("marketing:template_create"), data)
    assert response.status_code == 302
    template = EmailTemplate.objects.get()
    data["subject_en"] = "Hi {{ income }}"
    response = client.post(reverse("marketing:template_update", args=[template.pk]), data)
    assert "Unknown field" in response.context["form"].errors["subject_en"][0]
    assert client.get(reverse("marketing:template_list")).status_code == 200
    response = client.post(reverse("marketing:template_delete", args=[template.pk]))
    assert response.status_code == 302 and not EmailTemplate.objects.exists()


def test_manager_creates_previews_and_sends_a_campaign(
    client_for, template, on_commit, django_assert_max_num_queries
):
    vip = TagFactory(name="vip")
    for i in range(12):
        c = CustomerFactory(name=f"Vip {i:02}", marketing_consent=i % 4 != 0)
        c.tags.add(vip)
    client = client_for(Role.MANAGER)
    response = client.post(
        reverse("marketing:campaign_create"),
        {
            "name": "Spring",
            "template": template.pk,
            "language_mode": "en",
            "target_kind": "tags",
            "holdout_percent": 10,
            "attribution_days": 30,
        },
    )
    assert response.context["form"].errors["tags"] == ["Choose at least one tag."]
    response = client.post(
        reverse("marketing:campaign_create"),
        {
            "name": "Spring",
            "template": template.pk,
            "language_mode": "en",
            "target_kind": "tags",
            "tags": [vip.pk],
            "holdout_percent": 60,
            "attribution_days": 30,
        },
    )
    assert "holdout_percent" in response.context["form"].errors
    response = client.post(
        reverse("marketing:campaign_create"),
        {
            "name": "Spring",
            "template": template.pk,
            "language_mode": "en",
            "target_kind": "tags",
            "tags": [vip.pk],
            "holdout_percent": 10,
            "attribution_days": 30,
            "track_opens": "on",
        },
    )
    campaign = Campaign.objects.get()
    assert response["Location"] == campaign.get_absolute_url()
    page = client.get(campaign.get_absolute_url())
    preview = page.context["preview"]
    assert (preview["target"], preview["excluded"], preview["reachable"]) == (12, 3, 9)
    assert preview["holdout"] == 1 and preview["to_send"] == 8
    assert preview["sample"].subject == f"Hello {preview['first'][0].name.split()[0]}"
    with on_commit():
        response = client.post(reverse("marketing:campaign_send", args=[campaign.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 8
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-testid="campaign-progress" data-status="sent"' in page
    progress = client.get(reverse("marketing:campaign_progress", args=[campaign.pk]))
    assert "100%" in progress.content.decode()
    results = client.get(reverse("marketing:campaign_results", args=[campaign.pk]))
    assert results.context["counts"]["delivered"] == 8
    assert results.context["charts"]["funnel"]["datasets"][0]["data"][:3] == [8, 8, 0]
    # Sending again does nothing.
    with on_commit():
        client.post(reverse("marketing:campaign_send", args=[campaign.pk]))
    assert len(mail.outbox) == 8


def test_scheduling_needs_a_future_time(client_for, template):
    campaign = Campaign.objects.create(name="Later", template=template, target_kind="tags")
    client = client_for(Role.MANAGER)
    url = reverse("marketing:campaign_schedule", args=[campaign.pk])
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"send_at": past})
    assert response.status_code == 400
    assert "in the future" in response.context["schedule_form"].errors["send_at"][0]
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(url, {"send_at": future})
    campaign.refresh_from_db()
    assert campaign.status == "scheduled" and campaign.scheduled_at
    client.post(url, {"cancel": "1"})
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.scheduled_at is None


def _sent_campaign(template, n):
    campaign = Campaign.objects.create(
        name="Big",
        template=template,
        target_kind="tags",
        status="sent",
        started_at=timezone.now() - timedelta(days=3),
    )
    customers = CustomerFactory.create_batch(n, marketing_consent=True)
    CampaignRecipient.objects.bulk_create(
        [
            CampaignRecipient(
                campaign=campaign,
                customer=c,
                email=c.email,
                language="en",
                holdout=i % 5 == 0,
                status="holdout" if i % 5 == 0 else "sent",
                sent_at=timezone.now(),
            )
            for i, c in enumerate(customers)
        ]
    )
    for c in customers[: n // 2]:
        OrderFactory(customer=c, ordered_at=timezone.now() - timedelta(days=1))
    return campaign, customers


@pytest.mark.parametrize("n", [5, 60])
def test_results_and_lists_run_a_constant_number_of_queries(
    client_for, template, n, django_assert_max_num_queries
):
    campaign, _ = _sent_campaign(template, n)
    client = client_for(Role.MANAGER)
    with django_assert_max_num_queries(12):
        assert (
            client.get(reverse("marketing:campaign_results", args=[campaign.pk])).status_code == 200
        )
    with django_assert_max_num_queries(10):
        assert client.get(reverse("marketing:campaign_list")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(campaign.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("n", [3, 40])
def test_campaign_preview_runs_a_constant_number_of_queries(
    client_for, template, n, django_assert_max_num_queries
):
    vip = TagFactory(name="vip")
    for c in CustomerFactory.create_batch(n, marketing_consent=True):
        c.tags.add(vip)
    campaign = Campaign.objects.create(name="Draft", template=template, target_kind="tags")
    campaign.tags.add(vip)
    client = client_for(Role.MANAGER)
    with django_assert_max_num_queries(12):
        response = client.get(campaign.get_absolute_url())
    assert response.context["preview"]["reachable"] == n


def test_the_customer_page_email_panel_is_constant_in_queries(
    client_for, users, django_assert_max_num_queries
):
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                customer=customer,
                to_address=customer.email,
                language="en",
                subject=f"Mail {i}",
                body="x",
                status="failed" if i == 29 else "sent",
            )
            for i in range(30)
        ]
    )
    client = client_for(Role.SALES_REP)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert 'data-testid="panel-email"' in page and "Mail 29" in page
    from marketing.panels import email_panel

    class Req:
        user = users[Role.SALES_REP]

    with django_assert_max_num_queries(2):  # the user's role, the emails
        context = email_panel(Req(), customer)
    assert len(context["emails"]) == 5


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.SALES_REP, False),
        (Role.SUPPORT_AGENT, False),
        (Role.MANAGER, True),
        (Role.ADMIN, True),
    ],
)
def test_the_marketing_nav_entries_are_for_managers_and_admins(client_for, role, shown):
    page = client_for(role).get("/customers/").content.decode()
    assert ('href="/marketing/"' in page) is shown
    assert ('href="/marketing/templates/"' in page) is shown


def test_anonymous_users_are_sent_to_login_but_links_in_emails_work(client):
    response = client.get(reverse("marketing:campaign_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("marketing:unsubscribe", args=["bad"])).status_code == 404
    assert client.get(reverse("marketing:track_open", args=["bad"])).status_code == 404
    assert client.get(reverse("marketing:track_click", args=["bad"])).status_code == 400
