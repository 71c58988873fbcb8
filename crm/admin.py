"""The admin site is for the admin role only (DESIGN.md role table): managers may hold
staff status for other reasons, but the site stays closed to them."""

from django.contrib import admin

from . import roles
from .api import admin as _api_admin  # noqa: F401  (API tokens and webhooks)
from .models import UserSession


def _admin_site_permission(request) -> bool:
    return request.user.is_active and roles.may(request.user, "use_admin_site")


admin.site.has_permission = _admin_site_permission


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    """Where each user is logged in now; read only (login history is axes' access log)."""

    list_display = ["user", "created_at", "ip_address", "user_agent"]
    list_select_related = ["user"]
    search_fields = ["user__username", "ip_address"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
