"""The issue's story in a real browser: a rep creates a deal from a customer's page, drags it
across the board to won, and finds the resulting order on the customer page."""

from decimal import Decimal

import pytest

from crm.roles import Role
from sales.models import Deal, Order
from tests.factories import CustomerFactory, ProductFactory
from tests.sales.factories import make_pipeline

pytestmark = [
    pytest.mark.e2e,
]


def test_rep_creates_a_deal_drags_it_to_won_and_finds_the_order(live_server, browser_page, users):
    page = browser_page
    pipeline = make_pipeline("New business")
    customer = CustomerFactory(name="Harbour Logistics", owner=users[Role.SALES_REP])
    ProductFactory(name="Forklift", sku="FORK-1", unit_price=Decimal("1250.00"))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", users[Role.SALES_REP].username)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    page.click("[data-testid=new-deal]")
    page.fill("input[name=title]", "Two forklifts")
    page.select_option("select[name=stage]", label=f"{pipeline.name} · Lead")
    page.select_option("select[name=lines-0-product]", label="Forklift (FORK-1)")
    page.fill("input[name=lines-0-quantity]", "2")
    page.click("main button[type=submit]")
    page.wait_for_url("**/sales/deals/*/")
    deal = Deal.objects.get(title="Two forklifts")
    assert deal.amount == Decimal("2500.00")

    page.goto(f"{live_server.url}/sales/deals/board/")
    won = pipeline.stages.get(name="Won")
    card = page.locator(f'[data-deal-card="{deal.pk}"]')
    for name in ("Proposal", "Won"):
        target = pipeline.stages.get(name=name)
        card.drag_to(page.locator(f'[data-stage-column="{target.pk}"] header'))
        page.locator("[data-board-alert].alert-success", has_text=f"is now in {name}").wait_for()
    assert page.locator(f'[data-stage-column="{won.pk}"] [data-column-count]').inner_text() == "1"
    order = Order.objects.get(customer=customer)
    assert order.total == Decimal("2500.00")

    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    assert (
        page.locator(f'[data-testid=panel-orders] a[href="{order.get_absolute_url()}"]').count()
        == 1
    )
    assert "$2,500.00" in page.locator("[data-testid=lifetime-value]").inner_text()
