"""Per-token (else per-user) throttles: a short burst window and a daily ceiling.

Rates come from settings.API_THROTTLE_RATES at request time, so they can be changed without
a restart of the class definitions (and in tests); "100/10s" means 100 requests per 10 seconds.
DRF answers 429 with Retry-After when a throttle refuses.
"""

from __future__ import annotations

import re

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])\w*$")


def parse_rate(rate: str | None) -> tuple[int | None, int | None]:
    if not rate:
        return None, None
    match = _RATE.match(rate.strip())
    if match is None:
        raise ValueError(f"Bad throttle rate {rate!r}; use e.g. '100/10s' or '100000/day'.")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNITS[unit]


class TokenRateThrottle(SimpleRateThrottle):
    scope = ""

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def parse_rate(self, rate):
        return parse_rate(rate)

    def get_cache_key(self, request, view):
        token = request.auth
        if token is not None and hasattr(token, "prefix"):
            ident = f"token:{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"api-throttle:{self.scope}:{ident}"


class BurstRateThrottle(TokenRateThrottle):
    scope = "burst"


class SustainedRateThrottle(TokenRateThrottle):
    scope = "sustained"
