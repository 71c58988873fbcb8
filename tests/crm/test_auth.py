import pytest
from django.core import mail
from django.urls import reverse

from crm.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_with_good_and_bad_password(client):
    UserFactory(username="sam", role=Role.SALES_REP)
    bad = client.post(reverse("login"), {"username": "sam", "password": "wrong-password"})
    assert bad.status_code == 200
    assert "correct username and password" in bad.content.decode()
    good = client.post(reverse("login"), {"username": "sam", "password": "correct-horse-battery"})
    assert good.status_code == 302
    assert client.get("/customers/").status_code == 200


def test_logout_ends_the_session(client_for):
    client = client_for(Role.SALES_REP)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/customers/").status_code == 302


def test_password_change_enforces_length(client_for, users):
    client = client_for(Role.SALES_REP)
    short = client.post(
        reverse("password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "short1",
            "new_password2": "short1",
        },
    )
    assert "at least 12 characters" in short.content.decode()
    ok = client.post(
        reverse("password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "a-much-longer-passphrase",
            "new_password2": "a-much-longer-passphrase",
        },
    )
    assert ok.status_code == 302
    users[Role.SALES_REP].refresh_from_db()
    assert users[Role.SALES_REP].check_password("a-much-longer-passphrase")


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    UserFactory(username="ann", email="ann@example.com")
    response = client.post(reverse("password_reset"), {"email": "ann@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link[link.index("/accounts/reset/") :].strip()
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-passphrase", "new_password2": "brand-new-passphrase"},
    )
    assert done.status_code == 302
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(username="ann").check_password("brand-new-passphrase")
