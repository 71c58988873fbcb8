"""Sessions, lockout, two-factor and headers."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog, AccessLog
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.models import UserSession
from crm.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _login(username, password=PASSWORD):
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response


def test_idle_session_ends_after_30_minutes(client_for):
    client = client_for(Role.SALES_REP)
    assert client.get("/customers/").status_code == 200
    session = client.session
    session["_crm_seen"] = time.time() - 31 * 60
    session.save()
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get("/customers/").status_code == 302  # really logged out


def test_session_ends_after_12_hours_even_when_active(client_for):
    client = client_for(Role.SALES_REP)
    client.get("/customers/")
    session = client.session
    session["_crm_started"] = time.time() - 12 * 3600 - 5
    session.save()
    assert client.get("/customers/").status_code == 302


def test_deactivating_a_user_ends_all_their_sessions():
    user = UserFactory(username="leaver", role=Role.SALES_REP)
    laptop, _ = _login("leaver")
    phone, _ = _login("leaver")
    assert UserSession.objects.filter(user=user).count() == 2
    assert laptop.get("/customers/").status_code == 200
    user.is_active = False
    user.save()
    assert laptop.get("/customers/").status_code == 302
    assert phone.get("/customers/").status_code == 302
    assert not UserSession.objects.filter(user=user).exists()


@override_settings(AXES_ENABLED=True)
def test_five_failures_lock_the_account_for_15_minutes():
    UserFactory(username="target", role=Role.SALES_REP)
    for _ in range(5):
        _, response = _login("target", "wrong-password")
    _, locked = _login("target")  # even the right password is refused now
    assert locked.status_code == 429
    assert "15 minutes" in locked.content.decode()
    # Sixteen minutes later (axes keeps the attempt time and its expiry).
    past = timezone.now() - timedelta(minutes=16)
    AccessAttempt.objects.update(attempt_time=past)
    AccessAttemptExpiration.objects.update(expires_at=past + timedelta(minutes=15))
    _, after = _login("target")
    assert after.status_code == 302, after.content.decode()[-3000:]


@override_settings(OTP_REQUIRED_ROLES=["manager", "admin"])
def test_managers_must_set_up_and_pass_two_factor():
    UserFactory(username="boss", role=Role.MANAGER)
    client, response = _login("boss")
    page = client.get("/analytics/")
    assert page.status_code == 302 and page["Location"].startswith(reverse("two_factor"))
    setup = client.get(page["Location"])
    assert 'data-testid="totp-secret"' in setup.content.decode()
    device = TOTPDevice.objects.get(user__username="boss")
    wrong = client.post(reverse("two_factor"), {"token": "000000", "next": "/analytics/"})
    assert "not valid" in wrong.content.decode()
    time.sleep(1.2)  # django-otp throttles the next try for a second after a failure
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    ok = client.post(reverse("two_factor"), {"token": code, "next": "/analytics/"})
    assert ok.status_code == 302 and ok["Location"] == "/analytics/"
    assert client.get("/analytics/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    # Next login asks for a code again, without a new set-up.
    again, _ = _login("boss")
    verify = again.get(reverse("two_factor"))
    assert 'data-testid="totp-secret"' not in verify.content.decode()


@override_settings(OTP_REQUIRED_ROLES=["manager", "admin"])
def test_reps_are_not_forced_into_two_factor():
    UserFactory(username="seller", role=Role.SALES_REP)
    client, _ = _login("seller")
    assert client.get("/customers/").status_code == 200


def test_content_security_policy_forbids_inline_scripts(client_for):
    response = client_for(Role.SALES_REP).get("/customers/")
    policy = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in policy
    body = response.content.decode()
    assert "<script>" not in body and " onclick=" not in body


@override_settings(AXES_ENABLED=True)
def test_admins_read_the_login_history_of_successes_and_failures(client_for):
    UserFactory(username="walker", role=Role.SALES_REP)
    browser = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "Mozilla/5.0 TestBrowser/1.0"}
    for password in ("wrong-password", PASSWORD):
        Client(**browser).post(reverse("login"), {"username": "walker", "password": password})
    admin = client_for(Role.ADMIN)
    for url, marker in (
        ("/admin/axes/accesslog/", "walker"),
        ("/admin/axes/accessfailurelog/", "walker"),
    ):
        page = admin.get(url).content.decode()
        assert marker in page and "203.0.113.7" in page and "TestBrowser/1.0" in page, url
    # Read-only: no add, no change, no delete, even for an admin.
    failure = AccessFailureLog.objects.get(username="walker")
    assert admin.get("/admin/axes/accessfailurelog/add/").status_code == 403
    assert (
        admin.post(
            f"/admin/axes/accessfailurelog/{failure.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    change = admin.post(f"/admin/axes/accessfailurelog/{failure.pk}/change/", {"username": "x"})
    assert change.status_code == 403
    assert AccessFailureLog.objects.filter(username="walker").count() == 1
    assert AccessLog.objects.filter(username="walker", ip_address="203.0.113.7").count() == 1
    # The admin site is the admin's: a manager is sent to its login page.
    response = client_for(Role.MANAGER).get("/admin/axes/accesslog/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
