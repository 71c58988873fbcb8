"""The service desk pages: role rules, the queue, the ticket page, and their query counts."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from service import services
from service.models import Feedback, Ticket, TicketStatusChange
from tests.factories import CustomerFactory, OrderFactory, TicketFactory
from tests.service.factories import (
    ArticleFactory,
    CannedReplyFactory,
    FeedbackFactory,
    TicketCommentFactory,
)

pytestmark = pytest.mark.django_db

R, A, M, AD = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN


def detail(ticket):
    return reverse("service:ticket_detail", args=[ticket.pk])


# --- roles ------------------------------------------------------------------------------


def test_rep_sees_only_tickets_of_own_customers_read_only(client_for, users):
    mine = TicketFactory(customer__owner=users[R], subject="Mine")
    theirs = TicketFactory(customer__owner=users["peer"], subject="Theirs")
    client = client_for(R)
    page = client.get(reverse("service:ticket_list") + "?tab=all")
    assert [t.pk for t in page.context["tickets"]] == [mine.pk]
    assert client.get(detail(theirs)).status_code == 404
    response = client.get(detail(mine))
    assert response.status_code == 200
    assert b'data-testid="reply-form"' not in response.content
    assert b'data-testid="suggestions"' not in response.content
    for name in ("ticket_reply", "ticket_resolve", "ticket_assign", "ticket_merge"):
        url = reverse(f"service:{name}", args=[mine.pk])
        assert client.post(url, {"body": "x", "public": "1", "solution": "x"}).status_code == 403
    # Another rep's ticket is a 404 for actions too, never a 403 that confirms it exists.
    assert client.post(reverse("service:ticket_reply", args=[theirs.pk])).status_code == 404
    mine.refresh_from_db()
    assert mine.status == "new"
    assert client.post(reverse("service:ticket_bulk"), {"tickets": [mine.pk]}).status_code == 403


def test_rep_opens_a_ticket_for_own_customer_only(client_for, users):
    own = CustomerFactory(owner=users[R])
    other = CustomerFactory(owner=users["peer"])
    client = client_for(R)
    data = {
        "subject": "Broken lid",
        "problem": "The lid broke.",
        "category": "after_sales",
        "priority": "normal",
        "channel": "phone",
    }
    response = client.post(reverse("service:ticket_create"), {**data, "customer": other.pk})
    assert response.status_code == 200
    assert "customer" in response.context["form"].errors
    response = client.post(reverse("service:ticket_create"), {**data, "customer": own.email})
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(ticket)
    assert ticket.customer == own
    assert ticket.first_response_due is not None


def test_order_of_another_customer_is_a_field_error(client_for, users):
    customer = CustomerFactory()
    response = client_for(A).post(
        reverse("service:ticket_create"),
        {
            "customer": customer.pk,
            "subject": "x",
            "problem": "y",
            "category": "question",
            "priority": "low",
            "channel": "email",
            "order": OrderFactory(external_id="ORD-1").external_id,
        },
    )
    assert response.status_code == 200
    assert "order" in response.context["form"].errors
    assert not Ticket.objects.exists()
    own = OrderFactory(customer=customer, external_id="ORD-2")
    response = client_for(A).post(
        reverse("service:ticket_create"),
        {
            "customer": customer.email,
            "subject": "x",
            "problem": "y",
            "category": "question",
            "priority": "low",
            "channel": "email",
            "order": "ord-2",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Ticket.objects.get().order == own


@pytest.mark.parametrize("role", [A, M, AD])
def test_staff_who_work_tickets_see_them_all(client_for, users, role):
    ticket = TicketFactory(customer__owner=users["peer"])
    response = client_for(role).get(detail(ticket))
    assert response.status_code == 200
    assert b'data-testid="reply-form"' in response.content


# --- queue ------------------------------------------------------------------------------


def test_queue_tabs(client_for, users):
    now = timezone.now()
    unassigned = TicketFactory(status="new")
    mine = TicketFactory(status="open", assignee=users[A])
    breaching = TicketFactory(
        status="open", assignee=users[M], resolution_due=now + timedelta(minutes=30)
    )
    closed = TicketFactory(status="closed")
    client = client_for(A)

    def ids(tab):
        page = client.get(reverse("service:ticket_list") + f"?tab={tab}")
        return {t.pk for t in page.context["tickets"]}

    assert ids("unassigned") == {unassigned.pk}
    assert ids("mine") == {mine.pk}
    assert ids("breaching") == {breaching.pk}
    assert ids("open") == {unassigned.pk, mine.pk, breaching.pk}
    assert ids("all") == {unassigned.pk, mine.pk, breaching.pk, closed.pk}
    page = client.get(reverse("service:ticket_list"))
    assert page.context["tab"] == "unassigned"
    counts = {key: n for key, _, n in page.context["tabs"]}
    assert counts == {"unassigned": 1, "mine": 1, "breaching": 1, "open": 3, "all": 4}


def test_queue_filters_and_sorting(client_for):
    a = TicketFactory(subject="Alpha printer", priority="low", category="technical")
    b = TicketFactory(subject="Beta invoice", priority="urgent", category="question")
    c = TicketFactory(subject="Gamma printer", priority="high", category="technical")
    client = client_for(A)
    url = reverse("service:ticket_list")

    def ids(query):
        return [t.pk for t in client.get(url + "?tab=all&" + query).context["tickets"]]

    assert set(ids("q=printer")) == {a.pk, c.pk}
    assert ids(f"q=%23{b.pk}") == [b.pk]
    assert set(ids("category=technical&priority=high&priority=low")) == {a.pk, c.pk}
    assert ids("sort=priority") == [b.pk, c.pk, a.pk]
    assert ids("sort=-priority") == [a.pk, c.pk, b.pk]
    # A bad filter value is reported, not a 500.
    response = client.get(url + "?tab=all&status=nonsense")
    assert response.status_code == 200
    assert response.context["filter"].errors


def test_bulk_close(client_for):
    tickets = TicketFactory.create_batch(3, status="open")
    client = client_for(A)
    response = client.post(
        reverse("service:ticket_bulk"),
        {"action": "close", "tickets": [tickets[0].pk, tickets[1].pk], "next": "/service/tickets/"},
    )
    assert response.status_code == 302
    assert sorted(Ticket.objects.filter(status="closed").values_list("pk", flat=True)) == sorted(
        [tickets[0].pk, tickets[1].pk]
    )
    response = client.post(reverse("service:ticket_bulk"), {"action": "close"}, follow=True)
    assert "Select at least one ticket." in response.content.decode()


def test_queue_query_count_is_constant(client_for, users, django_assert_max_num_queries):
    for i in range(35):
        TicketFactory(
            status="open" if i % 2 else "new",
            assignee=users[A] if i % 3 else None,
            resolution_due=timezone.now() + timedelta(hours=i),
        )
    client = client_for(A)
    for tab in ("unassigned", "mine", "breaching", "open", "all"):
        with django_assert_max_num_queries(10):
            response = client.get(reverse("service:ticket_list") + f"?tab={tab}&sort=due")
        assert response.status_code == 200
    with django_assert_max_num_queries(10):
        assert len(client.get(reverse("service:ticket_list") + "?tab=all").context["tickets"]) == 30


# --- ticket page ----------------------------------------------------------------------------


def test_ticket_page_query_count_is_constant(client_for, users, django_assert_max_num_queries):
    customer = CustomerFactory()
    ticket = TicketFactory(customer=customer, status="open", assignee=users[A])
    for i in range(35):
        TicketCommentFactory(ticket=ticket, author=users[A if i % 2 else M], is_public=bool(i % 2))
        TicketStatusChange.objects.create(ticket=ticket, to_status="open", changed_by=users[A])
        OrderFactory(customer=customer)
        TicketFactory(customer=customer)
        CannedReplyFactory()
    FeedbackFactory(customer=customer, ticket=ticket)
    services.suggestion_index_rebuild()
    client = client_for(A)
    with django_assert_max_num_queries(16):
        response = client.get(detail(ticket))
    assert response.status_code == 200
    assert response.content.decode().count('id="comment-') == 35


def test_agent_replies_and_notes_from_the_page(
    client_for, users, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(status="new")
    client = client_for(A)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("service:ticket_reply", args=[ticket.pk]),
            {"body": "We are on it.", "public": "1", "then_status": ""},
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("service:ticket_reply", args=[ticket.pk]),
            {"body": "Customer sounds upset.", "public": "0", "then_status": "pending"},
        )
    assert len(mail.outbox) == 1
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    page = client.get(detail(ticket)).content.decode()
    assert "We are on it." in page
    assert "Customer sounds upset." in page
    # An empty reply is a message at the field, nothing saved.
    response = client.post(
        reverse("service:ticket_reply", args=[ticket.pk]), {"body": " ", "public": "1"}
    )
    assert response.status_code == 400
    assert response.context["reply_form"].errors
    assert ticket.comments.count() == 2


def test_merge_from_the_page(client_for):
    customer = CustomerFactory()
    main = TicketFactory(customer=customer)
    dup = TicketFactory(customer=customer)
    stranger = TicketFactory()
    client = client_for(A)
    response = client.post(reverse("service:ticket_merge", args=[dup.pk]), {"into": stranger.pk})
    assert response.status_code == 400
    assert response.context["merge_form"].errors["into"]
    response = client.post(reverse("service:ticket_merge", args=[dup.pk]), {"into": 999999})
    assert response.status_code == 400
    response = client.post(reverse("service:ticket_merge", args=[dup.pk]), {"into": main.pk})
    assert response.status_code == 302
    dup.refresh_from_db()
    assert dup.merged_into == main
    page = client.get(detail(dup)).content.decode()
    assert f"merged into #{main.pk}" in page


def test_take_and_assign(client_for, users):
    ticket = TicketFactory()
    client = client_for(A)
    client.post(reverse("service:ticket_assign", args=[ticket.pk]), {"take": "1"})
    ticket.refresh_from_db()
    assert ticket.assignee == users[A]
    assert ticket.status == "open"
    response = client.post(
        reverse("service:ticket_assign", args=[ticket.pk]), {"assignee": users[R].pk}
    )
    assert response.status_code == 400  # reps are not in the list of assignees


def test_breach_warning_on_the_page(client_for):
    ticket = TicketFactory(status="open", resolution_due=timezone.now() - timedelta(minutes=1))
    page = client_for(A).get(detail(ticket)).content.decode()
    assert 'data-testid="sla-warning"' in page
    assert "has been missed" in page


# --- the whole job --------------------------------------------------------------------------


def test_agent_works_a_ticket_and_the_manager_sees_the_rating(
    client, users, django_capture_on_commit_callbacks
):
    TicketFactory(
        subject="Device does not turn on",
        problem="After charging overnight the device still will not start.",
        solution="Hold the power button for 15 seconds to reset it.",
        status="resolved",
        resolved_at=timezone.now(),
    )
    services.suggestion_index_rebuild()
    new = TicketFactory(
        subject="My device won't turn on",
        problem="It will not start even after charging.",
        category="technical",
    )
    client.force_login(users[A])
    queue = client.get(reverse("service:ticket_list") + "?tab=unassigned")
    assert new in queue.context["tickets"]
    client.post(reverse("service:ticket_assign", args=[new.pk]), {"take": "1"})
    page = client.get(detail(new))
    suggestion = page.context["suggestions"][0]
    assert "Hold the power button" in suggestion.answer
    assert "Hold the power button" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("service:ticket_reply", args=[new.pk]),
            {"body": "Please hold the power button for 15 seconds.", "public": "1"},
        )
        client.post(
            reverse("service:ticket_resolve", args=[new.pk]), {"solution": suggestion.answer}
        )
    new.refresh_from_db()
    assert new.status == "resolved"
    survey_mail = mail.outbox[-1]
    link = next(x for x in survey_mail.body.split() if "/service/survey/" in x)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    client.logout()
    assert client.post(path, {"csat": "5", "ces": "7", "nps": "10"}).status_code == 200
    assert client.post(path, {"csat": "1", "ces": "1", "nps": "0"}).status_code == 410
    client.force_login(users[M])
    figures = client.get(reverse("service:satisfaction"))
    assert figures.context["overall"]["answers"] == 1
    assert figures.context["overall"]["csat_pct"] == 100
    assert figures.context["overall"]["nps"] == 100
    per_agent = figures.context["per_agent"]
    assert per_agent[0]["agent__username"] == users[A].username
    assert figures.context["per_category"][0]["category"] == "technical"


# --- satisfaction, knowledge base, canned replies ------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [(R, 403), (A, 200), (M, 200), (AD, 200)])
def test_satisfaction_page_by_role(client_for, role, status):
    assert client_for(role).get(reverse("service:satisfaction")).status_code == status


def test_satisfaction_figures(client_for, users, django_assert_max_num_queries):
    for csat, nps in [(5, 10), (4, 9), (2, 3), (3, 7)] * 10:
        FeedbackFactory(csat=csat, nps=nps, ces=5, agent=users[A], category="question")
    client = client_for(M)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("service:satisfaction"))
    overall = response.context["overall"]
    assert overall["answers"] == 40
    assert overall["csat_pct"] == 50.0  # 4 and 5 are satisfied
    assert overall["nps"] == 25  # 50 % promoters - 25 % detractors
    assert response.context["chart"]["answers"] == [40]
    bad = client.get(reverse("service:satisfaction") + "?start=2026-02-01&end=2026-01-01")
    assert bad.context["form"].errors["end"]


def test_knowledge_base_roles_and_search(client_for):
    published = ArticleFactory(title="Reset a router", body="Unplug it for ten seconds.")
    draft = ArticleFactory(title="Unfinished router notes", status="draft")
    rep = client_for(R)
    listing = rep.get(reverse("service:article_list") + "?q=router")
    assert [a.pk for a in listing.context["articles"]] == [published.pk]
    assert rep.get(reverse("service:article_detail", args=[draft.pk])).status_code == 404
    assert rep.get(reverse("service:article_create")).status_code == 403
    agent = client_for(A)
    listing = agent.get(reverse("service:article_list") + "?q=router")
    assert {a.pk for a in listing.context["articles"]} == {published.pk, draft.pk}
    response = agent.post(
        reverse("service:article_create"),
        {"title": "路由器重启", "body": "拔掉电源十秒钟。", "status": "published"},
    )
    assert response.status_code == 302
    zh = rep.get(reverse("service:article_list") + "?q=路由器")
    assert [a.title for a in zh.context["articles"]] == ["路由器重启"]


def test_canned_replies_are_for_agents(client_for):
    reply = CannedReplyFactory(title="Greeting")
    assert client_for(R).get(reverse("service:cannedreply_list")).status_code == 403
    agent = client_for(A)
    assert agent.get(reverse("service:cannedreply_list")).status_code == 200
    agent.post(
        reverse("service:cannedreply_update", args=[reply.pk]),
        {"title": "Hello", "body": "Hi {customer}", "category": ""},
    )
    reply.refresh_from_db()
    assert reply.title == "Hello"
    ticket = TicketFactory()
    assert 'data-body="Hi {customer}"' in agent.get(detail(ticket)).content.decode()


# --- customer page -----------------------------------------------------------------------------


def test_customer_page_panel_and_timeline(client_for, users, django_assert_max_num_queries):
    customer = CustomerFactory(owner=users[R])
    for i in range(30):
        t = TicketFactory(customer=customer, subject=f"Issue {i}", assignee=users[A])
        Feedback.objects.create(customer=customer, ticket=t, csat=4, nps=8, comment=f"ok {i}")
    client = client_for(R)
    url = reverse("customers:customer_detail", args=[customer.pk])
    # The whole page with every app's panels and timeline sources: constant, not per row.
    with django_assert_max_num_queries(32):
        response = client.get(url)
    html = response.content.decode()
    assert 'data-testid="panel-service"' in html
    assert "Tickets: 30, open: 30." in html
    assert 'data-kind="ticket"' in html
    assert 'data-kind="feedback"' in html
    assert reverse("service:ticket_create") + f"?customer={customer.pk}" in html
    # Another rep's customer: the page shows no tickets of it to this rep.
    other = CustomerFactory(owner=users["peer"])
    TicketFactory(customer=other, subject="Hidden issue")
    html = client.get(reverse("customers:customer_detail", args=[other.pk])).content.decode()
    assert "Hidden issue" not in html


def test_changing_priority_recomputes_due_times(client_for, users, office_policy):
    ticket = services.ticket_create(
        user=users[A],
        customer=CustomerFactory(),
        subject="Slow",
        problem="It is slow.",
        category="technical",
        priority="urgent",
        channel="chat",
    )
    urgent_due = ticket.resolution_due
    client = client_for(A)
    response = client.post(
        reverse("service:ticket_update", args=[ticket.pk]),
        {
            "subject": "Slow app",
            "problem": "It is slow.",
            "category": "technical",
            "priority": "normal",
            "channel": "chat",
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.subject == "Slow app"
    assert ticket.resolution_due != urgent_due
    assert client_for(R).get(reverse("service:ticket_update", args=[ticket.pk])).status_code == 404


def test_rep_sees_the_create_form_prefilled(client_for, users):
    customer = CustomerFactory(owner=users[R])
    page = client_for(R).get(reverse("service:ticket_create") + f"?customer={customer.pk}")
    assert page.status_code == 200
    assert page.context["form"]["customer"].value() == str(customer.pk)
    assert page.context["for_customer"] == customer


# --- the status select ------------------------------------------------------------------


def _status_options(response):
    """(value, selected) of each option of the "Set status" select, in page order."""
    import re

    html = response.content.decode()
    form = html[
        html.index(reverse("service:ticket_status", args=[response.context["ticket"].pk])) :
    ]
    select = form[form.index("<select") : form.index("</select>")]
    return [
        (m.group(2), bool(m.group(1) or m.group(3)))
        for m in re.finditer(r"<option( selected)? value=\"([^\"]*)\"( selected)?", select)
    ]


def test_status_select_starts_at_the_current_status(client_for, users):
    client = client_for(A)
    ticket = TicketFactory(customer__owner=users[R])
    services.ticket_resolve(ticket=ticket, user=users[A], solution="Replaced the lid.")
    options = _status_options(client.get(detail(ticket)))
    assert options[0] == ("resolved", True)
    assert [v for v, selected in options if selected] == ["resolved"]
    assert {v for v, _ in options} == {"resolved", "closed", "reopened"}

    # Saving the select unchanged says so at the field and changes nothing.
    response = client.post(
        reverse("service:ticket_status", args=[ticket.pk]), {"status": "resolved"}
    )
    assert response.status_code == 400
    assert "already has this status" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "resolved"

    response = client.post(
        reverse("service:ticket_status", args=[ticket.pk]), {"status": "reopened"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "reopened"
    options = _status_options(client.get(detail(ticket)))
    assert options[0] == ("reopened", True)
    assert {v for v, _ in options} == {"reopened", "open", "pending", "closed"}
