"""`Authorization: Bearer <token>` (or `Token <token>`) authentication against ApiToken."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from . import tokens
from .models import ApiToken

# Writing last_used_at on every request would turn each read into a write; once a minute
# is precise enough to tell a live integration from a dead one.
LAST_USED_RESOLUTION = timedelta(minutes=1)
KEYWORDS = ("bearer", "token")


class TokenAuthentication(authentication.BaseAuthentication):
    """Authenticates as the token's user; request.auth is the ApiToken (the throttles key on
    it). A malformed, unknown, revoked or expired token, or an inactive user, is a 401."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: give the token after the keyword.")
            )
        try:
            full = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from exc
        return self.authenticate_token(full)

    def authenticate_token(self, full: str):
        parts = tokens.split(full)
        if parts is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        prefix, secret = parts
        token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None or not tokens.matches(secret, token.token_hash):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.is_active:
            raise exceptions.AuthenticationFailed(_("This token has been revoked or has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token's user is inactive."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request) -> str:
        # A WWW-Authenticate header makes DRF answer 401 (not 403) without credentials.
        return 'Bearer realm="api"'


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "crm.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from /accounts/tokens/: `Authorization: Bearer crm_…`.",
        }
