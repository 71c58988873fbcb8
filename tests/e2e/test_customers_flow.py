"""In the browser: a rep finds a customer by part of a phone number, opens the page, logs a
call with the htmx quick-log, and sees it on the timeline without a page reload."""

import pytest

from crm.roles import Role
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def target():
    """The rows, written before Playwright starts its event loop in this thread: a database
    connection opened inside that loop belongs to another context and would outlive the test."""
    UserFactory(username="rita", role=Role.SALES_REP)
    CustomerFactory.create_batch(30)
    return CustomerFactory(name="Margaret Hamilton", phone="+16175550142", city="Boston")


def test_rep_finds_customer_logs_a_call_and_sees_it(live_server, target, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]")
    page.goto(f"{live_server.url}/customers/")
    page.fill("input[name=q]", "555-0142")
    page.press("input[name=q]", "Enter")
    page.get_by_role("link", name="Margaret Hamilton").click()
    page.wait_for_url(f"**/customers/{target.pk}/")
    page.select_option("select[name=channel]", "phone")
    page.fill("input[name=subject]", "Discussed the renewal")
    page.fill("textarea[name=body]", "Call back next week.")
    page.fill("input[name=duration_minutes]", "15")
    marker = page.evaluate("() => { window.__noReload = true; return true; }")
    page.click("[data-testid=log-submit]")
    timeline = page.locator("[data-testid=timeline]")
    timeline.get_by_text("Discussed the renewal").wait_for()
    assert page.evaluate("() => window.__noReload === true") and marker
    assert "Call back next week." in timeline.inner_text()
    assert page.locator("#interaction-form-card input[name=subject]").input_value() == ""
