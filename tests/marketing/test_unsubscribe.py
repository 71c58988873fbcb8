"""The unsubscribe link of a campaign email: a GET only asks (mail scanners and link
previews fetch links), a POST (the page's button or a mail client's RFC 8058 one-click)
withdraws the marketing consent, once."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm.roles import Role
from customers.models import Interaction
from marketing import services
from marketing.models import Campaign, CampaignRecipient
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


def send_to_one(template, users, on_commit, *, country: str):
    """A campaign sent to one consenting customer in `country`: (customer, the email, the
    unsubscribe link from its List-Unsubscribe header)."""
    vip = TagFactory(name="vip")
    customer = CustomerFactory(marketing_consent=True, country=country)
    customer.tags.add(vip)
    campaign = Campaign.objects.create(
        name="Spring", template=template, created_by=users[Role.MANAGER], target_kind="tags"
    )
    campaign.tags.set([vip])
    with on_commit():
        services.campaign_start(campaign_id=campaign.pk)
    (message,) = mail.outbox
    return customer, message, message.extra_headers["List-Unsubscribe"].strip("<>")


@pytest.fixture
def sent(template, users, on_commit):
    return send_to_one(template, users, on_commit, country="GB")


def path_of(url: str) -> str:
    assert url.startswith(SITE)
    return url.removeprefix(SITE)


def timeline(customer) -> int:
    return Interaction.objects.filter(customer=customer).count()


def test_the_headers_and_the_footer_carry_the_same_link(sent):
    customer, message, url = sent
    assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body
    assert path_of(url) == reverse("marketing:unsubscribe", args=[url.rstrip("/").split("/")[-1]])


def test_a_get_asks_and_changes_nothing(sent):
    customer, message, url = sent
    before = timeline(customer)
    for _ in range(2):  # a scanner, then a link preview
        response = Client().get(path_of(url))
        assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="unsubscribe-confirm"' in page
    assert customer.email in page and "crm@localhost" in page
    assert f'<form method="post" action="{path_of(url)}">' in page
    assert ">Unsubscribe</button>" in page
    customer.refresh_from_db()
    assert customer.marketing_consent is True
    assert timeline(customer) == before
    assert CampaignRecipient.objects.get(customer=customer).unsubscribed_at is None


def test_the_button_withdraws_the_consent_once(sent):
    customer, message, url = sent
    before = timeline(customer)
    # A browser without a session or cookies, with CSRF checks on: the form still works.
    browser = Client(enforce_csrf_checks=True)
    assert browser.get(path_of(url)).status_code == 200
    done = browser.post(path_of(url), {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert 'data-testid="unsubscribe-done"' in done.content.decode()
    customer.refresh_from_db()
    assert customer.marketing_consent is False
    recipient = CampaignRecipient.objects.get(customer=customer)
    assert recipient.unsubscribed_at is not None
    withdrawn = Interaction.objects.get(customer=customer, direction="inbound")
    assert withdrawn.subject == "Unsubscribed from marketing emails"
    assert timeline(customer) == before + 1

    again = browser.post(path_of(url), {"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    page = again.content.decode()
    assert "You are already unsubscribed" in page
    assert 'data-testid="unsubscribe-button"' not in page
    assert (
        CampaignRecipient.objects.get(pk=recipient.pk).unsubscribed_at == recipient.unsubscribed_at
    )
    assert timeline(customer) == before + 1

    # The link opened later says so, with no button.
    later = Client().get(path_of(url)).content.decode()
    assert 'data-testid="unsubscribe-already"' in later
    assert 'data-testid="unsubscribe-button"' not in later


def test_one_click_from_a_mail_client_works_without_cookies_or_csrf(sent):
    customer, message, url = sent
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path_of(url),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not client.cookies.get("sessionid")
    customer.refresh_from_db()
    assert customer.marketing_consent is False
    assert Interaction.objects.filter(customer=customer, direction="inbound").count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_unknown_token_is_a_404_that_changes_nothing(sent, method):
    customer, message, url = sent
    token = url.rstrip("/").split("/")[-1]
    before = timeline(customer)
    client = Client(enforce_csrf_checks=True)
    for bad in ("nope", token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
        response = getattr(client, method)(reverse("marketing:unsubscribe", args=[bad]))
        assert response.status_code == 404
        assert 'data-testid="unsubscribe-invalid"' in response.content.decode()
    # A well-signed token of a recipient that does not exist.
    unknown = services.unsubscribe_url(10**9)
    assert getattr(client, method)(path_of(unknown)).status_code == 404
    customer.refresh_from_db()
    assert customer.marketing_consent is True and timeline(customer) == before


def test_the_page_speaks_the_language_of_the_email(template, users, on_commit):
    customer, _message, url = send_to_one(template, users, on_commit, country="CN")
    # An English-speaking browser still gets the email's language.
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(path_of(url))
    page = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert "退订营销邮件？" in page and ">退订</button>" in page
    done = Client().post(path_of(url)).content.decode()
    assert "您将不再收到我们的营销邮件。" in done

    # A language the visitor chose with the page's switcher wins.
    chooser = Client()
    chooser.post(reverse("set_language"), {"language": "en", "next": path_of(url)})
    assert "You are already unsubscribed" in chooser.get(path_of(url)).content.decode()
