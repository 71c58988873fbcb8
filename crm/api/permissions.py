"""The role rules of crm.roles applied to API requests.

Reads are scoped by `roles.visible` in the viewsets' get_queryset (another user's object is
a 404); this class asks `roles.can` for the action: on the model for list and create, on the
object for the rest (visible but not allowed is a 403, as on the pages).
"""

from __future__ import annotations

from rest_framework import permissions

from crm import roles

# DRF action -> crm.roles action. Views may add their own in `role_actions` (not
# `action_map`: DRF sets that on every viewset instance to its HTTP method -> action map).
DEFAULT_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
    "bulk_create": "add",
    # upsert decides between "add" and "change" itself, once it knows whether the key exists.
    "upsert": "view",
}


def role_action(view) -> str:
    name = getattr(view, "action", None) or ""
    mapping = {**DEFAULT_ACTIONS, **getattr(view, "role_actions", {})}
    if name in mapping:
        return mapping[name]
    if view.request.method in permissions.SAFE_METHODS:
        return "view"
    # An action nobody mapped is denied rather than guessed.
    return "__unmapped__"


class RolePermission(permissions.BasePermission):
    """Authenticated users with a role; the action allowed by the model's policy."""

    def has_permission(self, request, view) -> bool:
        if roles.role_of(request.user) is None:
            return False
        capability = getattr(view, "required_capability", None)
        if capability and not roles.may(request.user, capability):
            # A whole resource the role has no business with (the analytics column of the
            # role table): 403, as the pages answer.
            return False
        if getattr(view, "action", "") is None:
            return True  # a method the view does not offer: DRF answers 405
        model = view.get_queryset().model
        if getattr(view, "view_needs_model_access", False) and not roles.can(
            request.user, "view", model
        ):
            # A role with no rows of the model at all (agents and deals or tasks) is
            # refused outright, whatever the action: 403, as the pages answer.
            return False
        action = role_action(view)
        if action == "view":
            # Reads are limited by the scoped queryset (and per object below); some roles
            # see only some rows (a rep, their customers' tickets), never "the model".
            return True
        if getattr(view, "detail", False):
            # Object actions are decided per object in has_object_permission; the model
            # question would deny a rep who may change their own customers.
            return True
        return roles.can(request.user, action, model)

    def has_object_permission(self, request, view, obj) -> bool:
        return roles.can(
            request.user, getattr(view, "object_action", None) or role_action(view), obj
        )


class HasRole(permissions.BasePermission):
    """Any authenticated user with a role (the API root, which shows no data)."""

    def has_permission(self, request, view) -> bool:
        return roles.role_of(request.user) is not None
