"""Readiness and metrics endpoints (liveness, /healthz, is in crm.views)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm import roles

from . import metrics
from .health import readiness


@login_not_required
@never_cache
@require_GET
def readyz(request):
    """200 when this instance can serve: database, broker, migrations applied and a live
    worker on every queue; else 503 with a JSON body naming what is down."""
    body = readiness()
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)


def _address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        ip in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_IPS
    )


@login_not_required
@never_cache
@require_GET
def metrics_view(request):
    """Prometheus metrics, for admins and for the addresses in METRICS_ALLOWED_IPS.

    REMOTE_ADDR only, never X-Forwarded-For (a client could forge it); behind a proxy the
    proxy must not pass /metrics from outside (deploy/nginx/crm.conf refuses it). Anyone
    else gets a 404, as if there were nothing here."""
    allowed = _address_allowed(request.META.get("REMOTE_ADDR", "")) or (
        request.user.is_authenticated and roles.role_of(request.user) == roles.Role.ADMIN
    )
    if not allowed:
        raise Http404
    payload, content_type = metrics.render()
    return HttpResponse(payload, content_type=content_type)
