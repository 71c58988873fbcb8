"""The admin site is for the admin role only (DESIGN.md role table): managers may hold
staff status for other reasons, but the site stays closed to them."""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
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


class ReadOnlyLoginHistory:
    """Login history (axes: successes with their logout time, and failures) is evidence:
    admins read and search it, nobody edits or deletes it (run_retention ages it out)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for _model, _admin in (
    (AccessLog, axes_admin.AccessLogAdmin),
    (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, type(_admin.__name__, (ReadOnlyLoginHistory, _admin), {}))


class LockoutAdmin(axes_admin.AccessAttemptAdmin):
    """The failure counters behind a lockout: an admin deletes one to unlock a user at once,
    but does not edit them (every field is read-only; a "save" only logged a change)."""

    def has_change_permission(self, request, obj=None):
        return False


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, LockoutAdmin)
