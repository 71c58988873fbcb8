"""Page-shaped reads of customers."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower, Trim
from django.utils.translation import gettext as _

from crm import roles

from .models import Customer, CustomerMerge, LifecycleChange, SavedView, SimilarNamePair

# Models an interaction may be tied to, named by label so this app never imports them; a
# label whose app is not installed (or whose model does not exist yet) is skipped.
LINKABLE_MODELS = ("sales.deal", "service.ticket")
LINK_CHOICES_PER_MODEL = 25


def customer_list(*, user, search: str = "") -> QuerySet[Customer]:
    """Customers the user may see, with what the list shows, optionally matching a search on
    name, email, phone or city (see CustomerQuerySet.search)."""
    qs = (
        roles.visible(user, Customer)
        .select_related("owner", "organisation")
        .prefetch_related("tags")
    )
    return qs.search(search) if search else qs


def owner_choices() -> QuerySet:
    """Active users who can own customers (anyone with a role), for filters and forms."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__isnull=False) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def saved_views_for(user) -> QuerySet[SavedView]:
    return SavedView.objects.filter(user=user)


def lifecycle_history(customer: Customer, limit: int = 10) -> list[LifecycleChange]:
    return list(customer.lifecycle_changes.select_related("changed_by")[:limit])


def find_duplicates(
    *, email: str = "", phone: str = "", exclude_pk: int | None = None, limit: int = 10
) -> list[Customer]:
    """Customers that already have this (normalised) email or phone."""
    match = Q()
    if email:
        match |= Q(email=email)
    if phone:
        match |= Q(phone=phone)
    if not match:
        return []
    qs = Customer.objects.filter(match)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs.order_by("pk")[:limit])


def _linkable_models():
    for label in LINKABLE_MODELS:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        if any(f.name == "customer" for f in model._meta.get_fields()):
            yield label, model


def link_choices(*, user, customer: Customer) -> list[tuple[str, str]]:
    """("sales.deal:12", "Deal: Big renewal") for the customer's deals and tickets the user
    may see, newest first; one query per linkable model."""
    choices = []
    for label, model in _linkable_models():
        qs = roles.visible(user, model).filter(customer=customer).order_by("-pk")
        name = str(model._meta.verbose_name).capitalize()
        choices.extend(
            (f"{label}:{obj.pk}", f"{name}: {obj}") for obj in qs[:LINK_CHOICES_PER_MODEL]
        )
    return choices


def resolve_link(*, user, customer: Customer, value: str):
    """The deal or ticket named by a link value, if the user may see it and it belongs to
    the customer; None otherwise."""
    label, _, pk = (value or "").partition(":")
    models = dict(_linkable_models())
    if label not in models or not pk.isdigit():
        return None
    return roles.visible(user, models[label]).filter(customer=customer, pk=int(pk)).first()


@dataclass
class DuplicateGroup:
    reason: str  # "email", "phone" or "name_city"
    key: str
    customers: list[Customer] = field(default_factory=list)


DUPLICATE_REASONS = ("email", "phone", "name_city", "similar_name")


def duplicate_groups(
    *, user, reasons: tuple[str, ...] = DUPLICATE_REASONS, limit_per_reason: int = 50
) -> list[DuplicateGroup]:
    """Likely duplicates: customers sharing an email, a phone, or the same name (ignoring
    case and surrounding spaces) in the same city, and pairs with very similar names in the
    same city from the precomputed list (customers.duplicates). Grouping runs in the
    database on indexed columns; one query loads the members of every group and one the
    similar-name pairs, whatever the number of customers."""
    base = roles.visible(user, Customer)
    similar = _similar_name_groups(base, limit_per_reason) if "similar_name" in reasons else []
    return _exact_groups(base, reasons, limit_per_reason) + similar


def _similar_name_groups(base, limit: int) -> list[DuplicateGroup]:
    pairs = (
        SimilarNamePair.objects.filter(first__in=base, second__in=base)
        .select_related("first__owner", "second__owner")
        .order_by("-similarity", "first_id", "second_id")[:limit]
    )
    return [
        DuplicateGroup(
            "similar_name",
            f"{p.first.name} ≈ {p.second.name} · {p.first.city} · {p.similarity:.0%}",
            [p.first, p.second],
        )
        for p in pairs
    ]


def _exact_groups(base, reasons, limit_per_reason: int) -> list[DuplicateGroup]:
    groups: list[DuplicateGroup] = []
    for reason, column in (("email", "email"), ("phone", "phone")):
        if reason not in reasons:
            continue
        keys = (
            base.exclude(**{column: ""})
            .values(column)
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .order_by("-n", column)
            .values_list(column, flat=True)[:limit_per_reason]
        )
        groups.extend(DuplicateGroup(reason, key) for key in keys)
    name_keys = (
        []
        if "name_city" not in reasons
        else (
            base.exclude(city="")
            .annotate(lname=Lower(Trim("name")), lcity=Lower(Trim("city")))
            .values("lname", "lcity")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .order_by("-n", "lname")
            .values_list("lname", "lcity")[:limit_per_reason]
        )
    )
    groups.extend(DuplicateGroup("name_city", f"{n}\u0000{c}") for n, c in name_keys)
    if not groups:
        return []
    emails = [g.key for g in groups if g.reason == "email"]
    phones = [g.key for g in groups if g.reason == "phone"]
    names = [g.key.split("\u0000")[0] for g in groups if g.reason == "name_city"]
    members = (
        base.annotate(lname=Lower(Trim("name")), lcity=Lower(Trim("city")))
        .filter(Q(email__in=emails) | Q(phone__in=phones) | Q(lname__in=names))
        .select_related("owner")
        .order_by("pk")
    )
    by_key: dict[tuple[str, str], list[Customer]] = {}
    for c in members:
        by_key.setdefault(("email", c.email), []).append(c)
        by_key.setdefault(("phone", c.phone), []).append(c)
        by_key.setdefault(("name_city", f"{c.lname}\u0000{c.lcity}"), []).append(c)
    for g in groups:
        g.customers = by_key.get((g.reason, g.key), [])
        if g.reason == "name_city":
            g.key = g.key.replace("\u0000", ", ")
    return [g for g in groups if len(g.customers) > 1]


def related_counts(customer: Customer) -> dict[str, int]:
    """Rows in every other table that point at the customer, by relation name; used by the
    merge page to show what will move. One query per relation (a handful)."""
    counts = {}
    for rel in Customer._meta.related_objects:
        if rel.related_model is CustomerMerge:
            continue
        n = rel.related_model._base_manager.filter(**{rel.field.name: customer}).count()
        label = (
            _("contact persons")
            if rel.related_model is Customer
            else rel.related_model._meta.verbose_name_plural
        )
        counts[str(label)] = n
    counts[str(Customer._meta.get_field("tags").verbose_name)] = customer.tags.count()
    return counts
