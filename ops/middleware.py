"""Request id and request metrics; both sit first in MIDDLEWARE so they see every
response, redirects and errors included."""

from __future__ import annotations

import time

from .context import REQUEST_ID_HEADER, clean_request_id, request_id_var
from .metrics import observe_request


class RequestIdMiddleware:
    """Take the caller's X-Request-ID (nginx sets one) or make one; expose it as
    `request.id`, to log lines and to Celery tasks sent during the request, and send it
    back on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.id = request_id
        # Not reset on the way out: Django logs 4xx/5xx responses after the middleware
        # has returned. The request_finished signal clears it (ops.apps).
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class MetricsMiddleware:
    """Count requests by view, method and status and time them (Prometheus)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The URL pattern's name, never the raw path: ids in paths would make a time
        # series per object.
        view = (match.view_name or match._func_path) if match else "<unmatched>"
        observe_request(
            view=view,
            method=request.method,
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response


def clear_request_id(**kwargs) -> None:
    """request_finished handler: the id belongs to the request that just ended."""
    request_id_var.set(None)
