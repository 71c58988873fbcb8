"""API tokens: hashed storage, Bearer/Token authentication, revocation, expiry, the token
page and the admin's tokens for service users."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm.api import tokens
from crm.api.models import ApiToken
from crm.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_token_is_stored_only_as_a_hash(users):
    token, full = ApiToken.issue(user=users[Role.SALES_REP], name="ERP")
    prefix, secret = tokens.split(full)
    assert full.startswith("crm_") and token.prefix == prefix
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(secret not in str(value) for value in stored.values())


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_bearer_and_token_keywords_authenticate(users, keyword):
    token, full = ApiToken.issue(user=users[Role.SALES_REP], name="ERP")
    response = _client(f"{keyword} {full}").get("/api/v1/customers/")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer crm_nope",
        "Bearer crm_abcdef012345_wrongsecret",
        "Bearer not-a-token",
        "Bearer a b",
    ],
)
def test_bad_tokens_are_401(users, header):
    ApiToken.issue(user=users[Role.SALES_REP], name="ERP")
    response = _client(header).get("/api/v1/customers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_wrong_secret_with_a_real_prefix_is_401(users):
    _token, full = ApiToken.issue(user=users[Role.SALES_REP], name="ERP")
    assert _client(f"Bearer {full[:-2]}xx").get("/api/v1/customers/").status_code == 401


def test_no_credentials_is_401_not_a_login_redirect(db):
    response = APIClient().get("/api/v1/customers/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


def test_revoked_expired_and_inactive_are_refused(users):
    revoked, revoked_text = ApiToken.issue(user=users[Role.SALES_REP], name="old")
    revoked.revoke()
    _expired, expired_text = ApiToken.issue(
        user=users[Role.SALES_REP], name="short", expires_at=timezone.now() - timedelta(days=1)
    )
    idle = UserFactory(username="gone", role=Role.SALES_REP)
    _t, idle_text = ApiToken.issue(user=idle, name="x")
    idle.is_active = False
    idle.save()
    for text in (revoked_text, expired_text, idle_text):
        assert _client(f"Bearer {text}").get("/api/v1/customers/").status_code == 401


def test_user_without_a_role_is_403(db):
    nobody = UserFactory(username="nobody")
    _t, text = ApiToken.issue(user=nobody, name="x")
    assert _client(f"Bearer {text}").get("/api/v1/customers/").status_code == 403


def test_session_works_for_the_browsable_api(client_for):
    response = client_for(Role.MANAGER).get("/api/v1/customers/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Customer" in response.content


def test_token_page_creates_shows_once_and_revokes(client_for, users):
    client = client_for(Role.SALES_REP)
    assert client.get("/accounts/tokens/").status_code == 200
    response = client.post("/accounts/tokens/", {"name": "ERP sync", "expires_in": "30"})
    assert response.status_code == 200
    full = response.context["new_token"]
    assert full and full in response.content.decode()
    token = ApiToken.objects.get(user=users[Role.SALES_REP])
    assert token.name == "ERP sync" and token.expires_at is not None
    assert _client(f"Bearer {full}").get("/api/v1/customers/").status_code == 200
    # Shown once: the list never shows it again.
    assert full not in client.get("/accounts/tokens/").content.decode()
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert _client(f"Bearer {full}").get("/api/v1/customers/").status_code == 401


def test_token_page_rejects_a_blank_name(client_for):
    response = client_for(Role.SALES_REP).post("/accounts/tokens/", {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_nobody_revokes_another_users_token(client_for, users):
    token, _full = ApiToken.issue(user=users["peer"], name="theirs")
    response = client_for(Role.SALES_REP).post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_admin_creates_a_token_for_a_service_user(client_for, users):
    service = UserFactory(username="erp-service", role=Role.MANAGER)
    client = client_for(Role.ADMIN)
    response = client.post(
        "/admin/crm/apitoken/add/",
        {"user": service.pk, "name": "ERP", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=service)
    message = next(str(m) for m in response.context["messages"])
    full = next(word for word in message.split() if word.startswith("crm_"))
    assert tokens.matches(tokens.split(full)[1], token.token_hash)
    assert _client(f"Bearer {full}").get("/api/v1/users/").status_code == 200
