"""The benchmark's constant baseline page exists only while BENCH_ENDPOINTS is on."""

import pytest
from django.urls import reverse

from crm.roles import Role
from crm.views import BENCH_CONSTANT_BODY

URL = "/__bench__/constant/"


def test_url_name():
    assert reverse("bench_constant") == URL


@pytest.mark.django_db
def test_is_404_unless_enabled(client_for, settings):
    settings.BENCH_ENDPOINTS = False
    resp = client_for(Role.SALES_REP).get(URL)
    assert resp.status_code == 404
    assert BENCH_CONSTANT_BODY not in resp.content


def test_is_off_by_default():
    from crm import settings as base

    assert base.BENCH_ENDPOINTS is False


@pytest.mark.django_db
def test_serves_a_fixed_body_when_enabled(client_for, settings):
    settings.BENCH_ENDPOINTS = True
    client = client_for(Role.SALES_REP)
    first = client.get(URL)
    second = client.get(URL)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content == BENCH_CONSTANT_BODY


@pytest.mark.django_db
def test_needs_a_login_like_every_page(client, settings):
    settings.BENCH_ENDPOINTS = True
    resp = client.get(URL)
    assert resp.status_code == 302
    assert resp["Location"].startswith(reverse("login"))
