"""A manager imports customers in a real browser: upload, preview, commit, undo."""

import pytest
from django.urls import reverse

from crm.roles import Role
from customers.import_models import ImportBatch, ImportStatus
from customers.models import Customer
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_imports_previews_commits_and_undoes(live_server, browser_page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    UserFactory(username="boss", role=Role.MANAGER, password="correct-horse-battery")
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "external_id,name,email,phone\n"
        "W1,Wang Wei,WANG@example.com,(415) 555-2671\n"
        "W2,Bad Mail,not-an-email,\n",
        encoding="utf-8",
    )
    page = browser_page
    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]")

    page.goto(live_server.url + reverse("customers:customer_import"))
    page.set_input_files("input[type=file]", str(csv_file))
    page.click("[data-testid=import-form] button[type=submit]")

    page.wait_for_selector("[data-testid=commit]")
    assert "not-an-email" in page.inner_text("[data-testid=rejects]")
    assert "wang@example.com" in page.inner_text("[data-testid=creates]")
    page.click("[data-testid=commit]")

    page.wait_for_selector("[data-testid=undo]")
    assert Customer.objects.get(external_id="W1").phone == "+14155552671"
    page.click("[data-testid=undo]")
    page.wait_for_function(
        "document.querySelector('[data-testid=batch-status]').textContent.includes('Undone')"
    )
    assert ImportBatch.objects.get().status == ImportStatus.UNDONE
    assert not Customer.objects.exists()
