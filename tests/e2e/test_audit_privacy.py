"""In the browser: an admin edits a customer, reads the change on the History page (old →
new), downloads the personal-data export and erases the customer after typing the name."""

import json
import zipfile

import pytest

from crm.roles import Role
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def target():
    """Rows written before Playwright starts its event loop in this thread."""
    UserFactory(username="ada", role=Role.ADMIN)
    return CustomerFactory(
        name="Grace Hopper", email="grace@example.com", phone="+16175550199", city="Boston"
    )


def test_admin_edits_reads_history_exports_and_erases(live_server, target, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]")
    page.goto(f"{live_server.url}/customers/{target.pk}/edit/")
    page.fill("input[name=city]", "Chicago")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"**/customers/{target.pk}/")

    page.click("[data-testid=history-link]")
    history = page.locator("[data-testid=history]")
    history.wait_for()
    text = history.inner_text()
    assert "Boston" in text and "Chicago" in text and "ada" in text

    page.goto(f"{live_server.url}/customers/{target.pk}/")
    with page.expect_download() as download_info:
        page.click("[data-testid=export-personal-data]")
    path = tmp_path / "export.zip"
    download_info.value.save_as(path)
    data = json.loads(zipfile.ZipFile(path).read("data.json"))
    assert data["sections"]["customer"][0]["email"] == "grace@example.com"

    page.click("[data-testid=erase-personal-data]")
    page.fill("input[name=confirm_name]", "Grace Hopper")
    page.click("[data-testid=erase-confirm]")
    page.wait_for_url(f"**/customers/{target.pk}/")
    assert f"Erased customer #{target.pk}" in page.locator("main").inner_text()
    assert "grace@example.com" not in page.content()
