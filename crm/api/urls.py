"""/api/v1/ (the router of every registered viewset), /api/schema/ and the docs."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.decorators import method_decorator
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from . import registry
from .permissions import HasRole


@method_decorator(login_not_required, name="dispatch")
class ApiRootView(DefaultRouter.APIRootView):
    """The CRM's REST API. Authenticate with `Authorization: Bearer <token>` (tokens at
    /accounts/tokens/) or a browser session; the schema is at /api/schema/."""

    permission_classes = [HasRole]


class ApiRouter(DefaultRouter):
    APIRootView = ApiRootView


router = ApiRouter()
for prefix, (viewset, basename) in registry.viewsets().items():
    router.register(prefix, viewset, basename=basename)


@login_not_required
def api_not_found(request, *args, **kwargs):
    """Anything under /api/ that matches no route: JSON, like the rest of the API."""
    return JsonResponse({"detail": "Not found."}, status=404)


# The schema and the docs describe the API, they hold no data: readable without a login,
# so other systems' developers and code generators can fetch them.
urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="api_schema"),
    # The split view serves its start-up script as a file: no inline <script> (CSP).
    path(
        "docs/",
        login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api_schema")),
        name="api_docs",
    ),
    path(
        "redoc/",
        login_not_required(SpectacularRedocView.as_view(url_name="api_schema")),
        name="api_redoc",
    ),
    re_path(r"^.*$", api_not_found),
]
