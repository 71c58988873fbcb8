"""The replica router: reads go to the replica only inside use_replica(), never writes,
never inside a transaction, never right after the user wrote something."""

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View

from crm import db_router
from crm.db_router import (
    PIN_COOKIE,
    ReplicaPinMiddleware,
    ReplicaReadMixin,
    ReplicaRouter,
    reading_from_replica,
    use_replica,
)
from customers.models import Customer

router = ReplicaRouter()


@pytest.fixture
def replica(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)


def test_without_a_replica_everything_reads_the_primary():
    with use_replica():
        assert router.db_for_read(Customer) is None
    assert router.db_for_write(Customer) == "default"


def test_reads_go_to_the_replica_only_inside_use_replica(replica):
    assert router.db_for_read(Customer) is None
    with use_replica():
        assert router.db_for_read(Customer) == "replica"
        assert router.db_for_write(Customer) == "default"
        with use_replica(False):
            assert router.db_for_read(Customer) is None
        assert router.db_for_read(Customer) == "replica"
    assert router.db_for_read(Customer) is None


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_reads_stay_on_the_primary(replica):
    with use_replica():
        with transaction.atomic():
            assert router.db_for_read(Customer) is None
        assert router.db_for_read(Customer) == "replica"


def test_use_replica_as_a_decorator(replica):
    @use_replica()
    def report():
        return reading_from_replica()

    assert report() is True
    assert reading_from_replica() is False


def test_migrations_never_run_on_the_replica():
    assert router.allow_migrate("replica", "customers") is False
    assert router.allow_migrate("default", "customers") is True


class _Probe(ReplicaReadMixin, View):
    def get(self, request):
        return HttpResponse("replica" if reading_from_replica() else "primary")

    def post(self, request):
        return HttpResponse("replica" if reading_from_replica() else "primary")


def test_the_mixin_reads_the_replica_unless_the_user_just_wrote(replica):
    rf = RequestFactory()
    view = _Probe.as_view()
    assert view(rf.get("/")).content == b"replica"
    assert view(rf.post("/")).content == b"primary"
    pinned = rf.get("/")
    pinned.COOKIES[PIN_COOKIE] = "1"
    assert view(pinned).content == b"primary"


def test_a_write_pins_the_user_to_the_primary(replica, settings):
    settings.REPLICA_PIN_SECONDS = 7
    middleware = ReplicaPinMiddleware(lambda request: HttpResponse("ok"))
    rf = RequestFactory()
    assert PIN_COOKIE not in middleware(rf.get("/")).cookies
    cookie = middleware(rf.post("/")).cookies[PIN_COOKIE]
    assert cookie["max-age"] == 7
    assert cookie["httponly"]


def test_no_pin_cookie_without_a_replica(settings):
    middleware = ReplicaPinMiddleware(lambda request: HttpResponse("ok"))
    assert PIN_COOKIE not in middleware(RequestFactory().post("/")).cookies
