"""View mixins that apply crm.roles to class-based views."""

from django.core.exceptions import PermissionDenied

from . import roles


class CapabilityRequiredMixin:
    """403 unless the user has `capability` (see roles.CAPABILITIES)."""

    capability: str = ""

    def dispatch(self, request, *args, **kwargs):
        if not roles.may(request.user, self.capability):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ScopedQuerysetMixin:
    """Restrict a list or detail view to the rows the user may see, so another user's
    object by id is a 404 rather than data."""

    def get_queryset(self):
        return roles.visible(self.request.user, super().get_queryset())


class ObjectActionMixin(ScopedQuerysetMixin):
    """For update and delete views: the object must be visible (else 404) and the user
    must be allowed `object_action` on it (else 403)."""

    object_action: str = "change"

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if not roles.can(self.request.user, self.object_action, obj):
            raise PermissionDenied
        return obj
