"""A manager's campaign in the browser, on a desktop in English and in Chinese: write a
template, create a campaign for a tag, read the preview (recipients and one message), send
it, follow a message's links as a customer would, and read the results with their charts.

Tasks run inline here (the test settings' eager Celery), so the send finishes within the
request; the progress bar's polling is covered by tests/marketing.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from crm.roles import Role
from marketing.models import Campaign
from tests.e2e.conftest import VARIANTS
from tests.factories import CustomerFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = [v for v in VARIANTS if v.id in ("desktop-en", "desktop-zh")]


@pytest.mark.parametrize("variant", DESKTOP)
def test_manager_creates_previews_sends_and_reads_a_campaign(open_session, variant, settings):
    UserFactory(username="mia", role=Role.MANAGER, password="correct-horse-battery")
    vip = TagFactory(name="vip")
    for i in range(10):
        c = CustomerFactory(name=f"Vip Customer {i}", marketing_consent=i != 0)
        c.tags.add(vip)

    s = open_session(variant)
    page = s.page
    s.log_in("mia", "correct-horse-battery")
    settings.SITE_URL = s.base_url

    # A template in both languages; a broken one is refused at its field first.
    s.goto("/marketing/templates/new/")
    page.fill("#id_name", "Spring")
    page.fill("#id_subject_en", "Hello {{ first_name }}")
    page.fill("#id_body_en", "Dear {{ name }},\nsee https://example.com/spring\n")
    page.fill("#id_subject_zh", "{{ name }}，您好")
    page.fill("#id_body_zh", "{{ name }}，春季优惠 {% if %}")
    page.click("[data-testid=save-template]")
    expect(page.locator("#id_body_zh.is-invalid")).to_be_visible()
    page.fill("#id_body_zh", "{{ name }}，春季优惠 https://example.com/spring")
    page.click("[data-testid=save-template]")
    expect(page.locator("text=Spring").first).to_be_visible()

    # The campaign, from the nav.
    s.goto("/marketing/")
    page.click("[data-testid=new-campaign]")
    page.fill("#id_name", "Spring sale")
    page.select_option("#id_template", label="Spring")
    page.select_option("#id_language_mode", "en")
    page.check("input[name=target_kind][value=tags]")
    expect(page.locator("[data-target-field=segment]")).to_be_hidden()
    page.check(f"input[name=tags][value='{vip.pk}']")
    page.fill("#id_holdout_percent", "20")
    page.click("[data-testid=save-campaign]")

    preview = page.locator("[data-testid=campaign-preview]")
    expect(preview).to_be_visible()
    assert page.inner_text("[data-testid=preview-to-send]") == "7"  # 9 consenting, 2 held out
    expect(page.locator("[data-testid=campaign-sample]")).to_contain_text("Hello Vip")
    s.shot("campaign-preview")

    page.once("dialog", lambda dialog: dialog.accept())  # "Send this campaign to 7 ...?"
    page.click("[data-testid=send-now]")
    progress = page.locator("[data-testid=campaign-progress]")
    expect(progress).to_have_attribute("data-status", "sent")
    assert len(mail.outbox) == 7

    # A customer clicks the link in the message, then unsubscribes.
    body = mail.outbox[0].body
    click = re.search(r"http\S+/marketing/c/\S+", body).group(0)
    unsubscribe = re.search(r"http\S+/marketing/u/\S+", body).group(0)
    followed = page.request.get(click, max_redirects=0)
    assert followed.status == 302
    assert followed.headers["location"] == "https://example.com/spring"
    # Opening the link only asks (mail scanners open links too); the button unsubscribes.
    page.goto(unsubscribe)
    expect(page.locator("[data-testid=unsubscribe-confirm]")).to_be_visible()
    page.click("[data-testid=unsubscribe-button]")
    expect(page.locator("[data-testid=unsubscribe-done]")).to_be_visible()
    page.goto(unsubscribe)
    expect(page.locator("[data-testid=unsubscribe-already]")).to_be_visible()

    campaign = Campaign.objects.get()
    s.goto(f"/marketing/campaigns/{campaign.pk}/results/")
    expect(page.locator("[data-testid=kpi-delivered]")).to_have_text("7")
    expect(page.locator("[data-testid=kpi-clicked]")).to_have_text("1")
    expect(page.locator("[data-testid=kpi-unsubscribed]")).to_have_text("1")
    # Chart.js drew both charts (a drawn canvas gets a size from Chart.js).
    for key in ("funnel", "revenue"):
        canvas = page.locator(f"canvas[data-chart={key}]")
        expect(canvas).to_have_attribute("style", re.compile("height"))
    assert page.locator("[data-testid=recipients] tbody tr").count() == 9
    s.shot("campaign-results")

    # One email to one customer from the customer page: template, preview, send, timeline.
    mail.outbox.clear()
    customer = campaign.recipients.select_related("customer").first().customer
    s.goto(customer.get_absolute_url())
    page.click("[data-testid=write-email]")
    page.select_option("#id_template", label="Spring")
    page.select_option("#id_language", "en")
    page.click("[data-testid=preview]")
    expect(page.locator("[data-testid=email-preview]")).to_contain_text(f"Dear {customer.name}")
    expect(page.locator("#id_subject")).to_have_value("Hello {{ first_name }}")
    s.shot("email-compose")
    page.click("[data-testid=send]")
    expect(page.locator("[data-testid=panel-email] [data-testid=email-status]")).to_have_count(1)
    assert [m.to for m in mail.outbox] == [[customer.email]]
    expect(page.locator("[data-testid=panel-email]")).to_contain_text("Hello Vip")
