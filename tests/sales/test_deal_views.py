"""The board, the move endpoint, the deal list and the deal form, by role."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.roles import Role
from sales.models import Deal, DealLine, Order
from tests.factories import CustomerFactory, ProductFactory
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db

R, A, M, AD = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN
JSON = {"HTTP_ACCEPT": "application/json"}


def _move(client, deal, target, **extra):
    return client.post(
        reverse("sales:deal_move", args=[deal.pk]), {"stage": target.pk, **extra}, **JSON
    )


@pytest.mark.parametrize(
    ("url_name", "expected"),
    [
        ("sales:deal_board", {R: 200, A: 403, M: 200, AD: 200}),
        ("sales:deal_list", {R: 200, A: 403, M: 200, AD: 200}),
        ("sales:order_list", {R: 200, A: 200, M: 200, AD: 200}),
        ("sales:task_list", {R: 200, A: 403, M: 200, AD: 200}),
        ("sales:report_index", {R: 200, A: 403, M: 200, AD: 200}),
    ],
)
@pytest.mark.parametrize("role", [R, A, M, AD])
def test_pages_by_role(client_for, pipeline, url_name, expected, role):
    assert client_for(role).get(reverse(url_name)).status_code == expected[role]


def test_rep_moves_own_deal_and_the_board_gets_new_figures(client_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[R], lines=[(Decimal("5.00"), 2)])
    proposal = stage(pipeline, "Proposal")
    response = _move(client_for(R), deal, proposal)
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] and data["stage"] == proposal.pk
    assert data["columns"][str(proposal.pk)]["count"] == 1
    assert data["columns"][str(proposal.pk)]["total"] == "$10.00"
    assert data["columns"][str(stage(pipeline, "Lead").pk)]["count"] == 0
    deal.refresh_from_db()
    assert deal.stage == proposal


def test_another_reps_deal_is_404_and_unchanged(client_for, users, pipeline):
    theirs = make_deal(pipeline=pipeline, owner=users["peer"])
    rep = client_for(R)
    assert _move(rep, theirs, stage(pipeline, "Proposal")).status_code == 404
    assert rep.get(theirs.get_absolute_url()).status_code == 404
    assert rep.get(reverse("sales:deal_update", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.stage.name == "Lead"


def test_agent_gets_403_on_deal_pages_and_moves(client_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[R])
    agent = client_for(A)
    assert agent.get(deal.get_absolute_url()).status_code == 403
    assert _move(agent, deal, stage(pipeline, "Proposal")).status_code == 403
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"


def test_manager_moves_anyones_deal(client_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users["peer"])
    assert _move(client_for(M), deal, stage(pipeline, "Proposal")).status_code == 200
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
    assert deal.stage_changes.order_by("-id").first().user == users[M]


def test_stage_of_another_pipeline_is_400_with_a_message(
    client_for, users, pipeline, other_pipeline
):
    deal = make_deal(pipeline=pipeline, owner=users[R])
    response = _move(client_for(R), deal, stage(other_pipeline, "Due"))
    assert response.status_code == 400
    assert "does not belong to the pipeline" in response.json()["message"]
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"


def test_lost_without_reason_is_400_then_with_reason_saved(client_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[R])
    client = client_for(R)
    lost = stage(pipeline, "Lost")
    response = _move(client, deal, lost)
    assert response.status_code == 400 and "lost" in response.json()["message"]
    # The no-JS form shows the deal page with the message at the field.
    page = client.post(reverse("sales:deal_move", args=[deal.pk]), {"stage": lost.pk})
    assert page.status_code == 400
    assert "Choose why the deal was lost" in page.content.decode()
    ok = client.post(
        reverse("sales:deal_move", args=[deal.pk]),
        {"stage": lost.pk, "lost_reason": "budget", "lost_note": "Q3 freeze"},
    )
    assert ok.status_code == 302
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.lost_note) == (lost, "budget", "Q3 freeze")


def test_plain_form_move_to_won_redirects_back_and_creates_one_order(client_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[R])
    client = client_for(R)
    board = reverse("sales:deal_board") + f"?pipeline={pipeline.pk}"
    won = stage(pipeline, "Won")
    for _ in range(2):  # a double submit must not create a second order
        response = client.post(
            reverse("sales:deal_move", args=[deal.pk]), {"stage": won.pk, "next": board}
        )
        assert response.status_code == 302 and response["Location"] == board
    assert Order.objects.filter(customer=deal.customer).count() == 1


def test_rep_creates_a_deal_from_the_customer_page_and_wins_it(client_for, users, pipeline):
    """The issue's story: create from the customer page, move to won, find the order there."""
    client = client_for(R)
    customer = CustomerFactory(owner=users["peer"])  # reps may sell to any customer they see
    page = client.get(customer.get_absolute_url()).content.decode()
    create_url = reverse("sales:deal_create") + f"?customer={customer.pk}"
    assert create_url.replace("&", "&amp;") in page
    product = ProductFactory(unit_price=Decimal("99.50"))
    form = {
        "title": "Fleet renewal",
        "stage": stage(pipeline, "Lead").pk,
        "amount": "",
        "expected_close": "2030-01-31",
        "lost_reason": "",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": product.pk,
        "lines-0-quantity": "3",
        "lines-0-unit_price": "",
        "lines-1-product": "",
        "lines-1-quantity": "",
        "lines-1-unit_price": "",
    }
    response = client.post(create_url, form)
    deal = Deal.objects.get(title="Fleet renewal")
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert deal.owner == users[R] and deal.pipeline == pipeline
    assert deal.amount == Decimal("298.50")
    assert DealLine.objects.get(deal=deal).unit_price == Decimal("99.50")
    assert _move(client, deal, stage(pipeline, "Won")).json()["order_url"]
    order = Order.objects.get(customer=customer)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert order.get_absolute_url() in page
    assert "$298.50" in page


def test_deal_form_errors_keep_everything_unsaved(client_for, users, pipeline, other_pipeline):
    client = client_for(R)
    customer = CustomerFactory()
    url = reverse("sales:deal_create") + f"?customer={customer.pk}"
    form = {
        "title": "",
        "stage": stage(pipeline, "Lost").pk,
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": ProductFactory().pk,
        "lines-0-quantity": "0",
    }
    response = client.post(url, form)
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required" in body
    assert "Choose why the deal was lost" in body
    assert "greater than or equal to 1" in body
    assert not Deal.objects.exists()


def test_rep_cannot_pick_another_owner(client_for, users, pipeline):
    client = client_for(R)
    customer = CustomerFactory()
    url = reverse("sales:deal_create") + f"?customer={customer.pk}"
    form = {
        "title": "Mine",
        "stage": stage(pipeline, "Lead").pk,
        "owner": users["peer"].pk,
        "amount": "10",
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
    }
    assert client.post(url, form).status_code == 302
    assert Deal.objects.get().owner == users[R]


def test_edit_replaces_lines_and_recomputes_amount(client_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[R], lines=[(Decimal("10.00"), 1)])
    product = ProductFactory(unit_price=Decimal("7.25"))
    form = {
        "title": "Renamed",
        "amount": "",
        "expected_close": "",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": deal.lines.get().product_id,
        "lines-0-quantity": "1",
        "lines-0-unit_price": "10.00",
        "lines-0-DELETE": "on",
        "lines-1-product": product.pk,
        "lines-1-quantity": "4",
        "lines-1-unit_price": "",
    }
    response = client_for(R).post(reverse("sales:deal_update", args=[deal.pk]), form)
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "Renamed" and deal.amount == Decimal("29.00")
    assert list(deal.lines.values_list("product_id", "quantity")) == [(product.pk, 4)]


def test_deal_list_filters_and_sorts(client_for, users, pipeline):
    rep = users[R]
    make_deal(pipeline=pipeline, owner=rep, title="Alpha small", lines=[(Decimal("1.00"), 1)])
    make_deal(pipeline=pipeline, owner=rep, title="Beta big", lines=[(Decimal("500.00"), 1)])
    make_deal(pipeline=pipeline, owner=rep, title="Gamma lost", stage_name="Lost")
    make_deal(pipeline=pipeline, owner=users["peer"], title="Peer deal")
    client = client_for(R)
    page = client.get(reverse("sales:deal_list")).content.decode()
    assert "Alpha small" in page and "Peer deal" not in page
    page = client.get(
        reverse("sales:deal_list"), {"status": "open", "sort": "-amount"}
    ).content.decode()
    assert "Gamma lost" not in page
    assert page.index("Beta big") < page.index("Alpha small")
    page = client.get(reverse("sales:deal_list"), {"q": "beta"}).content.decode()
    assert "Beta big" in page and "Alpha small" not in page
    manager_page = (
        client_for(M).get(reverse("sales:deal_list"), {"owner": users["peer"].pk}).content.decode()
    )
    assert "Peer deal" in manager_page and "Alpha small" not in manager_page


def test_board_shows_columns_with_count_and_sum_for_own_deals_only(client_for, users, pipeline):
    make_deal(pipeline=pipeline, owner=users[R], title="Mine one", lines=[(Decimal("10.00"), 1)])
    make_deal(pipeline=pipeline, owner=users[R], title="Mine two", lines=[(Decimal("2.50"), 2)])
    make_deal(pipeline=pipeline, owner=users["peer"], title="Not mine")
    response = client_for(R).get(reverse("sales:deal_board"))
    columns = {c.stage.name: c for c in response.context["columns"]}
    assert list(columns) == ["Lead", "Proposal", "Won", "Lost"]
    assert (columns["Lead"].count, columns["Lead"].total) == (2, Decimal("15.00"))
    body = response.content.decode()
    assert "Mine one" in body and "Not mine" not in body
    assert 'data-move-url="/sales/deals/' in body
    assert "<script>" not in body and " onclick=" not in body


def test_a_won_deals_lines_are_locked_but_its_details_can_change(client_for, users, pipeline):
    from sales import services

    deal = make_deal(pipeline=pipeline, owner=users[R], lines=[(Decimal("10.00"), 3)])
    services.deal_move(deal=deal, stage=stage(pipeline, "Won"), user=users[R])
    client = client_for(R)
    page = client.get(reverse("sales:deal_update", args=[deal.pk])).content.decode()
    assert "became order" in page and "lines-TOTAL_FORMS" not in page
    response = client.post(
        reverse("sales:deal_update", args=[deal.pk]), {"title": "Closed deal", "amount": "1"}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "Closed deal" and deal.amount == Decimal("30.00")
    assert deal.lines.count() == 1


def test_new_deal_without_a_customer_points_to_the_customers(client_for):
    response = client_for(R).get(reverse("sales:deal_create"))
    assert response.status_code == 302 and response["Location"] == reverse(
        "customers:customer_list"
    )
    assert client_for(A).get(reverse("sales:deal_create")).status_code == 403


def test_a_forged_line_count_is_refused_at_the_form(client_for, users, pipeline):
    """lines-TOTAL_FORMS is the browser's word: a huge one is a message, not 2,000 forms."""
    client = client_for(R)
    url = reverse("sales:deal_create") + f"?customer={CustomerFactory().pk}"
    form = {
        "title": "Forged",
        "stage": stage(pipeline, "Lead").pk,
        "lines-TOTAL_FORMS": "99999999999999999999",
        "lines-INITIAL_FORMS": "0",
    }
    response = client.post(url, form)
    assert response.status_code == 400
    assert "Please submit at most 100 forms." in response.content.decode()
    assert not Deal.objects.exists()


@pytest.mark.parametrize(
    "nxt", ["customer_list", "/ok\r\nSet-Cookie: x=1", "https://evil.example/"]
)
def test_a_bad_next_falls_back_to_the_deal(client_for, users, pipeline, nxt):
    """A word (Django's redirect() would look it up as a view name), a header injection or
    another host: the redirect goes to the default page instead of a 500 or elsewhere."""
    deal = make_deal(pipeline=pipeline, owner=users[R])
    client = client_for(R)
    response = client.post(
        reverse("sales:deal_move", args=[deal.pk]),
        {"stage": stage(pipeline, "Proposal").pk, "next": nxt},
    )
    assert response.status_code == 302
    assert response["Location"] == deal.get_absolute_url()
