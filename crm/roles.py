"""Roles and permissions: the one place that answers "who may do what".

The four roles of DESIGN.md are auth groups (created by a data migration, kept in step with
the models by `sync_role_permissions` after every migrate). Object rules that Django's model
permissions cannot express ("a rep changes only their own customers") live in policies:
each app registers one `Policy` per model in its AppConfig.ready(), and every view, export
and API endpoint asks through `visible()` and `can()` here, so the rules exist once.
This module imports no app code: apps register into it (lower never imports higher).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import Model, QuerySet

    User = AbstractBaseUser | AnonymousUser


class Role(models.TextChoices):
    """A role is an auth group with this name; superusers are always admins."""

    SALES_REP = "sales_rep", _("Sales rep")
    SUPPORT_AGENT = "support_agent", _("Support agent")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


# When a user is in several groups the strongest role wins.
_ROLE_ORDER = [Role.ADMIN, Role.MANAGER, Role.SUPPORT_AGENT, Role.SALES_REP]

# Capabilities that belong to no single object (the role table's "analytics" and "admin"
# columns, import and export).
CAPABILITIES: dict[str, frozenset[Role]] = {
    "view_manager_dashboard": frozenset({Role.MANAGER, Role.ADMIN}),
    "view_service_figures": frozenset({Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN}),
    "view_my_scores": frozenset({Role.SALES_REP, Role.MANAGER, Role.ADMIN}),
    "run_jobs": frozenset({Role.MANAGER, Role.ADMIN}),
    "import_data": frozenset({Role.MANAGER, Role.ADMIN}),
    "export_data": frozenset({Role.MANAGER, Role.ADMIN}),
    "view_sensitive_fields": frozenset({Role.MANAGER, Role.ADMIN}),
    "reassign_work": frozenset({Role.MANAGER, Role.ADMIN}),
    "use_admin_site": frozenset({Role.ADMIN}),
    # Personal data of one customer (GDPR/PIPL requests): export for managers and admins,
    # irreversible erasure for admins only.
    "export_personal_data": frozenset({Role.MANAGER, Role.ADMIN}),
    "erase_personal_data": frozenset({Role.ADMIN}),
    # Email templates and campaigns (marketing app).
    "manage_marketing": frozenset({Role.MANAGER, Role.ADMIN}),
}

# Django model permissions per role, for the admin site and for anything that asks
# user.has_perm(). "app_label.model": actions. Object-level rules are in the policies.
ROLE_PERMISSIONS: dict[Role, dict[str, tuple[str, ...]]] = {
    Role.SALES_REP: {
        "customers.customer": ("view", "add", "change"),
        "customers.interaction": ("view", "add"),
        "customers.tag": ("view",),
        "sales.product": ("view",),
        "sales.order": ("view", "add"),
        "sales.orderline": ("view", "add"),
        "sales.pipeline": ("view",),
        "sales.pipelinestage": ("view",),
        "sales.deal": ("view", "add", "change"),
        "sales.dealline": ("view", "add", "change", "delete"),
        "sales.dealstagechange": ("view", "add"),
        "sales.task": ("view", "add", "change"),
        "service.ticket": ("view", "add"),
        "service.ticketcomment": ("view",),
        "service.article": ("view",),
    },
    Role.SUPPORT_AGENT: {
        "customers.customer": ("view", "change"),
        "customers.interaction": ("view", "add"),
        "customers.tag": ("view",),
        "sales.product": ("view",),
        "sales.order": ("view",),
        "sales.orderline": ("view",),
        "service.ticket": ("view", "add", "change"),
        "service.ticketcomment": ("view", "add"),
        "service.feedback": ("view", "add"),
        "service.article": ("view", "add", "change"),
        "service.articlecategory": ("view", "add", "change"),
        "service.cannedreply": ("view", "add", "change", "delete"),
    },
    Role.MANAGER: {
        label: ("view", "add", "change", "delete")
        for label in (
            "customers.customer",
            "customers.interaction",
            "customers.tag",
            "sales.product",
            "sales.order",
            "sales.orderline",
            "sales.pipeline",
            "sales.pipelinestage",
            "sales.deal",
            "sales.dealline",
            "sales.dealstagechange",
            "sales.task",
            "service.ticket",
            "service.ticketcomment",
            "service.feedback",
            "service.article",
            "service.articlecategory",
            "service.cannedreply",
            "service.slapolicy",
            "service.businesshours",
            "service.holiday",
        )
    },
}


def role_of(user: User | None) -> Role | None:
    """The user's role, or None for anonymous, inactive or role-less users.

    Cached on the user object, so a request asks the database at most once.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cached = getattr(user, "_crm_role", False)
    if cached is not False:
        return cached
    role: Role | None
    if user.is_superuser:
        role = Role.ADMIN
    else:
        names = set(user.groups.values_list("name", flat=True))
        role = next((r for r in _ROLE_ORDER if r.value in names), None)
    user._crm_role = role
    return role


def has_role(user: User | None, roles: Iterable[Role]) -> bool:
    return role_of(user) in set(roles)


def may(user: User | None, capability: str) -> bool:
    """Whether the user has a capability that is not about one object."""
    return role_of(user) in CAPABILITIES[capability]


class Policy:
    """What each role may see and do with one model.

    Subclasses override `scope` (which rows the user may see) and `allows` (an action on
    one object, or on the model when obj is None). The default denies everything, so a
    model nobody wrote a policy for is invisible rather than open.
    """

    def scope(self, user: User, role: Role, qs: QuerySet) -> QuerySet:
        return qs.none()

    def allows(self, user: User, role: Role, action: str, obj: Model | None) -> bool:
        return False


class FullAccessForManagers(Policy):
    """Managers and admins do everything; other roles as the subclass says."""

    def scope(self, user, role, qs):
        if role in (Role.MANAGER, Role.ADMIN):
            return qs
        return self.scope_for_staff(user, role, qs)

    def allows(self, user, role, action, obj):
        if role in (Role.MANAGER, Role.ADMIN):
            return True
        return self.allows_for_staff(user, role, action, obj)

    def scope_for_staff(self, user, role, qs):
        return qs.none()

    def allows_for_staff(self, user, role, action, obj):
        return False


_policies: dict[str, Policy] = {}


def register_policy(model: type[Model], policy: Policy) -> None:
    _policies[model._meta.label_lower] = policy


def _policy_for(model: type[Model]) -> Policy:
    return _policies.get(model._meta.label_lower, Policy())


def visible(user: User | None, model_or_qs: type[Model] | QuerySet) -> QuerySet:
    """The rows of a model (or a queryset of it) that the user may see."""
    qs = model_or_qs if hasattr(model_or_qs, "query") else model_or_qs._default_manager.all()
    role = role_of(user)
    if role is None:
        return qs.none()
    return _policy_for(qs.model).scope(user, role, qs)


def can(user: User | None, action: str, obj_or_model: Model | type[Model]) -> bool:
    """Whether the user may do `action` to an object, or to the model when given a class.

    Actions are "view", "add", "change", "delete" and model-specific ones documented on each
    policy (for example "change_contact" on customers). An object the user may not see is
    never allowed, whatever the action.
    """
    role = role_of(user)
    if role is None:
        return False
    if isinstance(obj_or_model, type):
        return _policy_for(obj_or_model).allows(user, role, action, None)
    obj = obj_or_model
    policy = _policy_for(type(obj))
    return policy.allows(user, role, action, obj)


_sensitive: dict[str, frozenset[str]] = {}


def register_sensitive_fields(model: type[Model], names: Iterable[str]) -> None:
    """Fields of a model that only the "view_sensitive_fields" roles may see (DESIGN.md:
    annual income and birth date); generic views such as the history page hide them."""
    _sensitive[model._meta.label_lower] = frozenset(names)


def hidden_fields(user: User | None, model: type[Model]) -> frozenset[str]:
    """The fields of `model` that `user` may not see (empty for managers and admins)."""
    if may(user, "view_sensitive_fields"):
        return frozenset()
    return _sensitive.get(model._meta.label_lower, frozenset())


def may_see_rows_of(user: User | None, model: type[Model]) -> bool:
    """Whether the role may see some rows of `model` at all (the role table of DESIGN.md,
    as ROLE_PERMISSIONS holds it); which rows is visible()'s business. Exports ask this."""
    role = role_of(user)
    if role is None:
        return False
    if role is Role.ADMIN:
        return True
    return "view" in ROLE_PERMISSIONS.get(role, {}).get(model._meta.label_lower, ())


def sync_role_permissions(**kwargs) -> None:
    """Give each role group exactly the model permissions of ROLE_PERMISSIONS.

    Runs after every migrate (post_migrate), so new models and permissions are picked up;
    the admin group gets every permission. Idempotent.
    """
    from django.contrib.auth.models import Group, Permission

    all_perms = Permission.objects.select_related("content_type")
    by_key = {(p.content_type.app_label, p.content_type.model, p.codename): p for p in all_perms}
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        if role is Role.ADMIN:
            group.permissions.set(by_key.values())
            continue
        wanted = []
        for label, actions in ROLE_PERMISSIONS.get(role, {}).items():
            app_label, model = label.split(".")
            for action in actions:
                perm = by_key.get((app_label, model, f"{action}_{model}"))
                if perm is not None:
                    wanted.append(perm)
        group.permissions.set(wanted)
