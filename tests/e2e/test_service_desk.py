"""The service desk's "done when", in a real browser: an agent takes a new ticket, sees a
suggested answer from a similar solved ticket, replies and resolves; the customer's survey
link records a rating once; the manager sees it in the satisfaction figures."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from crm.roles import Role, sync_role_permissions
from service import services
from tests.e2e.conftest import VARIANTS
from tests.factories import TicketFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _end_server_sessions():
    yield
    if connection.vendor == "postgresql":
        # A server request thread can end without closing its database connection, which
        # then blocks dropping the test database; end such sessions of the test database.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.mark.parametrize("variant", VARIANTS)
def test_agent_resolves_with_a_suggestion_and_the_rating_reaches_the_manager(
    live_server, open_session, variant, settings
):
    settings.SITE_URL = live_server.url
    sync_role_permissions()  # an earlier transactional test may have flushed the groups
    agent = UserFactory(username="e2e_agent", role=Role.SUPPORT_AGENT)
    UserFactory(username="e2e_manager", role=Role.MANAGER)
    TicketFactory(
        subject="无法连接蓝牙",
        problem="耳机和手机配对不上，试了很多次。",
        solution="清除配对记录并重置耳机，连接成功。",
        status="resolved",
        resolved_at=timezone.now(),
    )
    services.suggestion_index_rebuild()
    new = TicketFactory(subject="蓝牙耳机连不上", problem="新买的耳机和手机配对失败。")

    agent_session = open_session(variant)
    agent_session.log_in("e2e_agent", "correct-horse-battery")
    page = agent_session.page
    agent_session.goto("/service/tickets/?tab=unassigned")
    agent_session.shot("queue")
    page.click(f"text=#{new.pk} 蓝牙耳机连不上")
    page.click("[data-testid=take-ticket]")
    suggestions = page.locator("[data-testid=suggestions]")
    assert "无法连接蓝牙" in suggestions.inner_text()
    suggestions.locator("[data-use-answer='#id_body']").first.click()
    assert page.input_value("#id_body") == "清除配对记录并重置耳机，连接成功。"
    page.click("[data-testid=reply-form] button[type=submit]")
    assert "清除配对记录" in page.locator("[data-testid=conversation]").inner_text()
    suggestions.locator("[data-use-answer='#id_solution']").first.click()
    page.click("[data-testid=resolve-form] button[type=submit]")
    page.wait_for_load_state()
    agent_session.shot("ticket-resolved")
    new.refresh_from_db()
    assert new.status == "resolved"
    assert new.assignee == agent

    survey = next(m for m in mail.outbox if "/service/survey/" in m.body)
    link = re.search(r"https?://\S+/service/survey/\S+", survey.body).group(0)
    customer_session = open_session(variant)
    customer = customer_session.page
    customer.goto(link)
    customer.click("label[for=id_csat_4]")
    customer.click("label[for=id_ces_6]")
    customer.click("label[for=id_nps_10]")
    customer.fill("textarea", "很快就解决了")
    customer.click("main button[type=submit]")
    assert customer.locator("[data-testid=survey-thanks]").is_visible()
    customer_session.shot("survey-thanks")
    path = link.removeprefix(live_server.url)
    customer_session.expect_status(path, 410)
    assert customer.goto(link).status == 410  # works once

    manager_session = open_session(variant)
    manager_session.log_in("e2e_manager", "correct-horse-battery")
    manager_session.goto("/service/satisfaction/")
    kpis = manager_session.page.locator("[data-testid=satisfaction-kpis]").inner_text()
    assert "1" in kpis and "100.0%" in kpis
    assert "e2e_agent" in manager_session.page.locator("[data-testid=per-agent]").inner_text()
    manager_session.shot("satisfaction")
