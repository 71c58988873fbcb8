"""The admin site is for the admin role only (DESIGN.md role table): managers may hold
staff status for other reasons, but the site stays closed to them."""

from django.contrib import admin

from . import roles
from .api import admin as _api_admin  # noqa: F401  (API tokens and webhooks)


def _admin_site_permission(request) -> bool:
    return request.user.is_active and roles.may(request.user, "use_admin_site")


admin.site.has_permission = _admin_site_permission
