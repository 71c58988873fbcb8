"""Session lifetime, session bookkeeping and two-factor enforcement.

- Idle timeout (SESSION_IDLE_TIMEOUT, 30 minutes) and absolute timeout
  (SESSION_ABSOLUTE_TIMEOUT, 12 hours): a session past either is logged out.
- Every login is recorded as a UserSession; deactivating a user deletes all their sessions
  at once, wherever they are logged in.
- Roles in OTP_REQUIRED_ROLES (managers and admins in production) must pass a TOTP check
  (django-otp) before they reach any page but the two-factor pages themselves.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.sessions.models import Session
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import roles
from .models import UserSession

_STARTED = "_crm_started"
_SEEN = "_crm_seen"


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            started = request.session.get(_STARTED, now)
            seen = request.session.get(_SEEN, now)
            idle = now - seen > settings.SESSION_IDLE_TIMEOUT
            expired = now - started > settings.SESSION_ABSOLUTE_TIMEOUT
            if idle or expired:
                logout(request)
                messages.info(request, _("Your session ended; please log in again."))
                return redirect(f"{reverse('login')}?next={request.path}")
            if _STARTED not in request.session:
                request.session[_STARTED] = started
            # Writing the session on every request costs a query; once a minute is enough
            # for a 30-minute idle limit.
            if now - seen > 60 or _SEEN not in request.session:
                request.session[_SEEN] = now
        return self.get_response(request)


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def record_login(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    if not request.session.session_key:
        request.session.save()
    request.session[_STARTED] = time.time()
    request.session[_SEEN] = time.time()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip_address": _client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )


def forget_logout(sender, request, user, **kwargs) -> None:
    if request is not None and getattr(request, "session", None) and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()


def end_sessions_of_inactive_user(sender, instance, **kwargs) -> None:
    """post_save of the user model: an inactive user keeps no session anywhere."""
    if instance.is_active:
        return
    keys = list(UserSession.objects.filter(user=instance).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=instance).delete()


# Paths a user who still owes the second factor may reach.
_OTP_EXEMPT_PREFIXES = (
    "/accounts/two-factor/",
    "/accounts/logout/",
    "/i18n/",
    "/static/",
    "/healthz",
)


class OTPRequiredMiddleware:
    """Send managers and admins (OTP_REQUIRED_ROLES) to the two-factor page until verified."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and roles.role_of(user) in settings.OTP_REQUIRED_ROLES
            and not user.is_verified()
            and not request.path.startswith(_OTP_EXEMPT_PREFIXES)
        ):
            return redirect(f"{reverse('two_factor')}?next={request.get_full_path()}")
        return self.get_response(request)


def safe_next(request, default: str) -> str:
    """The page to go back to after a form: the request's `next` when it is a path of this
    site, else `default`. Anything else (another host, a bare word Django's redirect() would
    take for a view name, a control character a Location header refuses) falls back."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and target.isprintable()
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    ):
        return target
    return default
