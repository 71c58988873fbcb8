import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import roles
from .celery import app as celery_app
from .roles import Role

logger = logging.getLogger(__name__)

# Where each role starts its day.
_HOME_BY_ROLE = {
    Role.SALES_REP: "customers:customer_list",
    Role.SUPPORT_AGENT: "service:ticket_list",
    Role.MANAGER: "analytics:index",
    Role.ADMIN: "analytics:index",
}


def home(request):
    """Send each user to the page their role starts from."""
    return redirect(_HOME_BY_ROLE.get(roles.role_of(request.user), "customers:customer_list"))


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except Exception:  # any driver error means "down" to a health check
        logger.exception("health check: database unreachable")
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return True
    except Exception:  # any transport error means "down" to a health check
        logger.exception("health check: broker unreachable")
        return False


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """200 with the state of the database and the broker, 503 when either is down."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "down" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; point them at the real icon."""
    return redirect(static("img/favicon.svg"), permanent=True)


def object_history(request, label: str, pk: int):
    """The audit trail of one object, for users who may see the object (else 404)."""
    from django.shortcuts import get_object_or_404, render

    from .history import audited_model, history_rows

    model = audited_model(label)
    if model is None:
        raise Http404
    obj = get_object_or_404(roles.visible(request.user, model), pk=pk)
    return render(
        request,
        "crm/object_history.html",
        {
            "object": obj,
            "rows": history_rows(obj, hidden=roles.hidden_fields(request.user, model)),
            "model_name": model._meta.verbose_name,
        },
    )


# The baseline page's body: fixed, about the size of a small HTML page's head.
BENCH_CONSTANT_BODY = ("bench constant response\n" + "x" * 1000 + "\n").encode()


@require_GET
def bench_constant(request):
    """A fixed body behind the same middleware as every page (session, login, CSRF):
    the floor that `make bench` compares pages against. 404 unless BENCH_ENDPOINTS=1."""
    if not settings.BENCH_ENDPOINTS:
        raise Http404
    return HttpResponse(BENCH_CONSTANT_BODY, content_type="text/plain; charset=utf-8")
