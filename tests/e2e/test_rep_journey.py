"""The sales rep's day, as issue 12 describes it, on a desktop, on a phone and in Chinese:
log in, search a customer, open the page, log a call, create a deal, move it across the
board to won, see the order on the customer page, complete a task."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.roles import Role
from sales.models import Deal, Order, Task
from tests.e2e.conftest import VARIANTS
from tests.factories import CustomerFactory, ProductFactory, UserFactory
from tests.sales.factories import TaskFactory, make_pipeline

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_rep_works_a_customer_from_search_to_won_deal(open_session, variant):
    rep = UserFactory(username="riley", role=Role.SALES_REP, password="correct-horse-battery")
    pipeline = make_pipeline("New business")
    CustomerFactory.create_batch(5, owner=rep)
    customer = CustomerFactory(
        name="Harbour Logistics", phone="+16175550142", city="Boston", owner=rep
    )
    ProductFactory(name="Forklift", sku="FORK-1", unit_price=Decimal("1250.00"))
    task = TaskFactory(
        title="Send the forklift brochure",
        customer=customer,
        assignee=rep,
        due_at=timezone.now() - timedelta(hours=2),
    )

    s = open_session(variant)
    page = s.page
    s.log_in("riley", "correct-horse-battery")

    # Search by part of the phone number and open the customer.
    s.goto("/customers/")
    page.fill("input[name=q]", "555-0142")
    page.press("input[name=q]", "Enter")
    page.get_by_role("link", name="Harbour Logistics").first.click()
    page.wait_for_url(f"**/customers/{customer.pk}/")
    s.shot("customer-page")

    # Log a call with the quick-log form; it appears on the timeline without a reload.
    page.select_option("select[name=channel]", "phone")
    page.fill("input[name=subject]", "Discussed two forklifts")
    page.fill("input[name=duration_minutes]", "15")
    page.click("[data-testid=log-submit]")
    page.locator("[data-testid=timeline]").get_by_text("Discussed two forklifts").wait_for()

    # Create a deal from the customer page.
    page.click("[data-testid=new-deal]")
    page.fill("input[name=title]", "Two forklifts")
    page.select_option("select[name=stage]", label=f"{pipeline.name} · Lead")
    page.select_option("select[name=lines-0-product]", label="Forklift (FORK-1)")
    page.fill("input[name=lines-0-quantity]", "2")
    page.click("main button[type=submit]")
    page.wait_for_url("**/sales/deals/*/")
    deal = Deal.objects.get(title="Two forklifts")
    assert deal.amount == Decimal("2500.00")

    # Move it across the board to won: drag and drop on a desktop, the Move form on a phone.
    s.goto("/sales/deals/board/")
    s.shot("board")
    card = page.locator(f'[data-deal-card="{deal.pk}"]')
    for name in ("Proposal", "Won"):
        target = pipeline.stages.get(name=name)
        if s.is_phone:
            card = page.locator(f'[data-deal-card="{deal.pk}"]')
            card.locator("summary").click()
            card.locator("select[name=stage]").select_option(str(target.pk))
            card.locator("form button[type=submit]").click()
            page.wait_for_load_state()
        else:
            card.drag_to(page.locator(f'[data-stage-column="{target.pk}"] header'))
            # The column's count updates from the server's answer to the move.
            count = page.locator(f'[data-stage-column="{target.pk}"] [data-column-count]')
            expect(count).to_have_text("1")
        deal.refresh_from_db()
        assert deal.stage == target
    order = Order.objects.get(customer=customer)
    assert order.total == Decimal("2500.00")

    # The order is on the customer page.
    s.goto(customer.get_absolute_url())
    assert (
        page.locator(f'[data-testid=panel-orders] a[href="{order.get_absolute_url()}"]').count()
        == 1
    )
    s.shot("customer-with-order")

    # Complete the overdue task.
    s.goto("/sales/tasks/")
    row = page.locator(f"[data-testid=task-{task.pk}]")
    row.locator("[data-testid=task-toggle]").click()
    page.locator(f"[data-testid=task-{task.pk}] .btn-success").wait_for()
    s.shot("tasks")
    assert Task.objects.get(pk=task.pk).done
