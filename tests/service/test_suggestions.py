"""Suggested answers: ranking on a small known corpus, in English and in Chinese."""

import pytest
from django.utils import timezone

from crm.roles import Role
from service import selectors, services
from service.models import SuggestionIndex
from service.suggestions import Document, Index, build_index, rank
from tests.factories import TicketFactory
from tests.service.factories import ArticleFactory

CORPUS = [
    Document("ticket", 1, "Device does not turn on\nAfter charging overnight it will not start."),
    Document("ticket", 2, "Order arrived late\nMy order was promised for Monday, came Friday."),
    Document("ticket", 3, "How do I change my delivery address?\nI moved and want a new address."),
    Document("ticket", 4, "无法连接蓝牙\n耳机和手机配对不上，试了很多次。"),
    Document("ticket", 5, "申请退货\n买的东西不合适，想退货退款。"),
    Document("article", 6, "发票怎么开\n增值税发票需要抬头和税号。"),
    Document("article", 7, "Resetting a device that will not power on\nHold power for 15 s."),
]


@pytest.fixture(scope="module")
def index():
    return build_index(CORPUS)


def test_english_query_finds_the_same_problem(index):
    ranked = rank(index, "my device won't turn on even after charging")
    assert [(k, i) for k, i, _ in ranked[:2]] == [("ticket", 1), ("article", 7)]
    scores = [s for _, _, s in ranked]
    assert scores == sorted(scores, reverse=True)


def test_chinese_query_finds_the_same_problem(index):
    ranked = rank(index, "蓝牙耳机连接不上")
    assert ranked[0][:2] == ("ticket", 4)
    ranked = rank(index, "我想退货，怎么退款？")
    assert ranked[0][:2] == ("ticket", 5)
    ranked = rank(index, "请帮我开发票")
    assert ranked[0][:2] == ("article", 6)


def test_unrelated_text_and_exclusions(index):
    assert rank(index, "") == []
    assert rank(index, "zzzz qqqq") == []
    ranked = rank(index, "Order arrived late", exclude=[("ticket", 2)])
    assert ("ticket", 2) not in [(k, i) for k, i, _ in ranked]


def test_index_survives_pickling(index):
    again = Index.loads(index.dumps())
    assert rank(again, "delivery address change")[0][:2] == ("ticket", 3)


def test_nothing_to_index():
    assert build_index([Document("ticket", 1, "  ")]) is None


@pytest.mark.django_db
def test_rebuild_job_and_lookup(users):
    solved = TicketFactory(
        subject="Printer paper jam",
        problem="Paper jams in the printer tray every time",
        solution="Cleaned the rollers and replaced the tray.",
        status="resolved",
        resolved_at=timezone.now(),
    )
    TicketFactory(subject="Invoice copy", problem="Need a copy", status="open")  # not solved
    ArticleFactory(title="Paper jam guide", body="Open the tray and remove the paper.")
    ArticleFactory(title="Secret draft about paper jams", status="draft")
    row = services.suggestion_index_rebuild()
    assert row.documents == 2
    assert SuggestionIndex.objects.count() == 1
    new = TicketFactory(subject="Paper jam again", problem="The printer jams with paper")
    found = selectors.suggestions_for(ticket=new)
    assert [s.kind for s in found] == ["ticket", "article"] or [s.kind for s in found] == [
        "article",
        "ticket",
    ]
    by_kind = {s.kind: s for s in found}
    assert by_kind["ticket"].answer == solved.solution
    assert by_kind["ticket"].url == solved.get_absolute_url()
    # A rebuild replaces the row.
    services.suggestion_index_rebuild()
    assert SuggestionIndex.objects.count() == 1


@pytest.mark.django_db
def test_resolving_enough_tickets_rebuilds_the_index(
    users, office_policy, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(services, "REBUILD_AFTER_RESOLUTIONS", 2)
    services.suggestion_index_rebuild()  # empty corpus: no row
    agent = users[Role.SUPPORT_AGENT]
    tickets = [TicketFactory(status="open", customer__email="") for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resolve(ticket=tickets[0], user=agent, solution="Fixed it")
    assert SuggestionIndex.objects.get().documents == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resolve(ticket=tickets[1], user=agent, solution="Fixed it too")
    # One resolution since the last build is below the threshold of two.
    assert SuggestionIndex.objects.get().documents == 1
