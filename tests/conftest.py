"""Fixtures shared by the whole suite."""

import pytest
from django.core.cache import cache

from crm.roles import Role
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield


@pytest.fixture
def users(db):
    """One user per role: users[Role.SALES_REP] and so on, plus a second rep ("peer")."""
    made = {role: UserFactory(username=role.value, role=role) for role in Role}
    made["peer"] = UserFactory(username="peer_rep", role=Role.SALES_REP)
    return made


@pytest.fixture
def client_for(client, users):
    """client_for(Role.MANAGER) is a test client logged in as that role's user."""

    def login(role):
        client.force_login(users[role])
        return client

    return login


from tests.api_support import api_for  # noqa: E402, F401  (API clients with tokens)
