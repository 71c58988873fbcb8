"""Fixtures for API tests: clients that authenticate with a real token of a role's user."""

import pytest
from rest_framework.test import APIClient

from crm.api.models import ApiToken


def token_client(user) -> APIClient:
    """An APIClient sending `Authorization: Bearer <a fresh token of user>`."""
    _token, full = ApiToken.issue(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {full}")
    return client


@pytest.fixture
def api_for(users):
    """api_for(Role.MANAGER) or api_for("peer"): an APIClient with that user's token."""
    made = {}

    def get(key):
        if key not in made:
            made[key] = token_client(users[key])
        return made[key]

    return get
