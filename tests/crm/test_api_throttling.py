"""Throttles per token: the burst window and the daily ceiling answer 429 with Retry-After."""

import pytest

from crm.api.throttling import parse_rate
from crm.roles import Role
from tests.api_support import token_client

pytestmark = pytest.mark.django_db


def test_parse_rate():
    assert parse_rate("100/10s") == (100, 10)
    assert parse_rate("100000/day") == (100000, 86400)
    assert parse_rate("5/m") == (5, 60)
    assert parse_rate(None) == (None, None)
    with pytest.raises(ValueError):
        parse_rate("lots")


def test_default_rates_are_the_documented_ones():
    from django.conf import settings

    assert settings.API_THROTTLE_RATES == {"burst": "100/10s", "sustained": "100000/day"}


def test_burst_limit_gives_429_with_retry_after(settings, users):
    settings.API_THROTTLE_RATES = {"burst": "3/10s", "sustained": "1000/day"}
    client = token_client(users[Role.SALES_REP])
    codes = [client.get("/api/v1/products/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/products/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 10
    # Another token of the same user has its own budget.
    assert token_client(users[Role.SALES_REP]).get("/api/v1/products/").status_code == 200


def test_daily_limit_gives_429_with_a_long_retry_after(settings, users):
    settings.API_THROTTLE_RATES = {"burst": "100/10s", "sustained": "2/day"}
    client = token_client(users[Role.MANAGER])
    assert [client.get("/api/v1/users/").status_code for _ in range(3)] == [200, 200, 429]
    assert int(client.get("/api/v1/users/")["Retry-After"]) > 3600
