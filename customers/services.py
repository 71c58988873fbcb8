"""Every write to customers that matters: saving with history, bulk changes, the interaction
log, needs, saved views and the merge of duplicates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, UniqueConstraint
from django.forms.models import model_to_dict
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import registry, roles
from crm.history import attribute, is_audited, record_snapshot

from .choices import BulkAction, NeedStatus
from .models import (
    Customer,
    CustomerMerge,
    Interaction,
    LifecycleChange,
    Need,
    SavedView,
    Tag,
)

# Fields a merge copies from the merged customer when the kept one has them empty.
MERGE_FILL_FIELDS = (
    "external_id",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "birth_date",
    "gender",
    "annual_income",
    "education",
    "occupation",
    "industry",
    "size",
    "website",
    "organisation",
    "owner",
    "source",
)


def tags_for_names(names: Iterable[str]) -> list[Tag]:
    """Tags for these names (lower-case), creating the missing ones."""
    wanted = sorted({n.strip().lower() for n in names if n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    for name in wanted:
        if name not in existing:
            existing[name] = Tag.objects.create(name=name)
    return [existing[n] for n in wanted]


@transaction.atomic
def customer_save(*, user, customer: Customer, tag_names: list[str] | None = None) -> Customer:
    """Create or update a customer (already validated by its form).

    A new customer, or a changed lifecycle stage, gets a LifecycleChange row dated now;
    consent is stamped with the time it was given when the form left it empty, and cleared
    when it is withdrawn. A rep creating a customer owns it unless an owner was chosen.
    """
    now = timezone.now()
    is_new = customer.pk is None
    old_stage, old_owner = "", None
    if not is_new:
        old_stage, old_owner = (
            Customer.objects.select_for_update()
            .values_list("lifecycle_stage", "owner_id")
            .get(pk=customer.pk)
        )
    if is_new and customer.owner_id is None and roles.role_of(user) is roles.Role.SALES_REP:
        customer.owner = user
    stage_changed = is_new or old_stage != customer.lifecycle_stage
    if stage_changed:
        customer.lifecycle_changed_at = now
    if customer.marketing_consent:
        customer.consent_at = customer.consent_at or now
    else:
        customer.consent_at = None
        customer.consent_method = ""
    attribute(customer, user)
    customer.save()
    if stage_changed:
        LifecycleChange.objects.create(
            customer=customer,
            from_stage=old_stage,
            to_stage=customer.lifecycle_stage,
            changed_at=now,
            changed_by=user,
        )
    if tag_names is not None:
        customer.tags.set(tags_for_names(tag_names))
    if not is_new and old_owner != customer.owner_id:
        registry.customers_reassigned([customer.pk])
    return customer


@transaction.atomic
def customer_change_stage(*, user, customer: Customer, stage: str) -> bool:
    """Move one customer to a lifecycle stage, with a dated history row; False if it was
    already there."""
    current = (
        Customer.objects.select_for_update()
        .values_list("lifecycle_stage", flat=True)
        .get(pk=customer.pk)
    )
    if current == stage:
        return False
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        lifecycle_stage=stage, lifecycle_changed_at=now, updated_at=now
    )
    record_snapshot(Customer, [customer.pk], user=user, when=now)
    LifecycleChange.objects.create(
        customer=customer, from_stage=current, to_stage=stage, changed_at=now, changed_by=user
    )
    customer.lifecycle_stage, customer.lifecycle_changed_at = stage, now
    return True


@transaction.atomic
def customers_bulk_update(*, user, ids: Iterable[int], action: str, value: Any) -> tuple[int, int]:
    """Apply one bulk action to the customers with these ids; returns (changed, skipped).

    Each customer is checked with crm.roles.can: a rep changes only their own, assigning an
    owner needs the "reassign_work" capability. Customers the user may not touch are
    skipped and counted, never changed.
    """
    customers = list(
        roles.visible(user, Customer).filter(pk__in=list(ids)).select_for_update().order_by("pk")
    )
    allowed = [c for c in customers if roles.can(user, "change", c)]
    if action == BulkAction.ASSIGN_OWNER and not roles.may(user, "reassign_work"):
        allowed = []
    skipped = len(customers) - len(allowed)
    if not allowed:
        return 0, skipped
    pks = [c.pk for c in allowed]
    now = timezone.now()
    # Each branch ends with one set-based history snapshot of the rows it changed, so the
    # audit trail shows the bulk change with its user, as a single save would.
    if action == BulkAction.ASSIGN_OWNER:
        Customer.objects.filter(pk__in=pks).update(owner=value, updated_at=now)
        record_snapshot(Customer, pks, user=user, when=now, reason=_("Bulk action: assign owner"))
        owner_id = getattr(value, "pk", value)
        registry.customers_reassigned(c.pk for c in allowed if c.owner_id != owner_id)
    elif action == BulkAction.ADD_TAG:
        Through = Customer.tags.through
        have = set(
            Through.objects.filter(tag=value, customer_id__in=pks).values_list(
                "customer_id", flat=True
            )
        )
        tagged = [pk for pk in pks if pk not in have]
        Through.objects.bulk_create([Through(customer_id=pk, tag_id=value.pk) for pk in tagged])
        Customer.objects.filter(pk__in=tagged).update(updated_at=now)
        record_snapshot(
            Customer,
            tagged,
            user=user,
            when=now,
            reason=_("Bulk action: tag “%(tag)s” added") % {"tag": value.name},
        )
    elif action == BulkAction.CHANGE_STAGE:
        moving = [c for c in allowed if c.lifecycle_stage != value]
        Customer.objects.filter(pk__in=[c.pk for c in moving]).update(
            lifecycle_stage=value, lifecycle_changed_at=now, updated_at=now
        )
        record_snapshot(
            Customer,
            [c.pk for c in moving],
            user=user,
            when=now,
            reason=_("Bulk action: change stage"),
        )
        LifecycleChange.objects.bulk_create(
            LifecycleChange(
                customer=c,
                from_stage=c.lifecycle_stage,
                to_stage=value,
                changed_at=now,
                changed_by=user,
            )
            for c in moving
        )
    else:
        raise ValueError(f"unknown bulk action {action!r}")
    return len(allowed), skipped


@transaction.atomic
def interaction_log(
    *, user, customer: Customer, data: dict, related: Model | None = None
) -> Interaction:
    """Log one interaction by `user`, optionally tied to a deal or ticket of the customer."""
    interaction = Interaction(customer=customer, user=user, **data)
    if related is not None:
        interaction.related_type = ContentType.objects.get_for_model(related)
        interaction.related_id = related.pk
    interaction.save()
    return interaction


@transaction.atomic
def need_save(*, need: Need) -> Need:
    """Create or update a need; resolved_at follows the status (set when met or dropped,
    cleared when reopened)."""
    closed = need.status in (NeedStatus.MET, NeedStatus.DROPPED)
    if closed and need.resolved_at is None:
        need.resolved_at = timezone.now()
    elif not closed:
        need.resolved_at = None
    need.save()
    return need


def clean_query_string(query: str) -> str:
    """The list page's query string without the page number or empty values."""
    params = QueryDict(query or "", mutable=True)
    pairs = [(k, v) for k in params for v in params.getlist(k) if v and k != "page"]
    return urlencode(pairs)


@transaction.atomic
def saved_view_save(*, user, name: str, query: str) -> SavedView:
    """Save (or overwrite, by name) one of the user's list views."""
    view, _ = SavedView.objects.update_or_create(
        user=user, name=name.strip(), defaults={"query_string": clean_query_string(query)}
    )
    return view


def _snapshot(customer: Customer) -> dict:
    data = model_to_dict(customer, exclude=["tags"])
    return {
        k: (str(v) if v is not None and not isinstance(v, bool | int | str) else v)
        for k, v in data.items()
    }


def _generic_foreign_keys():
    for model in apps.get_models():
        for f in model._meta.private_fields:
            if isinstance(f, GenericForeignKey):
                yield model, f


def _drop_unique_conflicts(model, name: str, *, keep: Customer, drop: Customer) -> int:
    """Delete the rows of `drop` that would break a uniqueness rule containing the customer
    once re-pointed (a score or recommendation per customer and product that `keep` already
    has); `keep`'s row wins. Returns how many were deleted."""
    field = model._meta.get_field(name)
    groups = [tuple(u) for u in model._meta.unique_together if name in u]
    groups += [
        tuple(c.fields)
        for c in model._meta.constraints
        if isinstance(c, UniqueConstraint) and name in c.fields and c.condition is None
    ]
    if field.unique:
        groups.append((name,))
    manager = model._base_manager
    removed = 0
    for group in groups:
        others = [f for f in group if f != name]
        clash = manager.filter(**{name: keep}, **{o: OuterRef(o) for o in others})
        removed += manager.filter(**{name: drop}).filter(Exists(clash)).delete()[0]
    return removed


@transaction.atomic
def customer_merge(*, user, keep: Customer, drop: Customer) -> CustomerMerge:
    """Fold `drop` into `keep` and delete `drop`, losing nothing.

    Every row of every app that points at `drop` is re-pointed at `keep`, found generically
    through Customer._meta.related_objects (orders, deals, tickets, interactions, needs,
    contacts ... whatever apps exist) and through generic foreign keys, so this app never
    imports the apps above it. Tags are united; empty fields of `keep` are filled from
    `drop`. A one-to-one row (a score) is kept from `keep` when both have one. All of it
    runs in one transaction with both rows locked, and a CustomerMerge records what moved.
    """
    if keep.pk == drop.pk:
        raise ValueError("a customer cannot be merged into itself")
    locked = {
        c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[keep.pk, drop.pk])
    }
    keep, drop = locked[keep.pk], locked[drop.pk]
    snapshot = _snapshot(drop)
    moved: dict[str, int] = {}
    # Rows of audited models that move to `keep` get a history record each (one set-based
    # snapshot per model, after the move), so their history says who moved them and why.
    audited_moves: dict = {}
    reason = _("Merged customer #%(id)s (%(name)s) into #%(kept)s") % {
        "id": drop.pk,
        "name": drop.name,
        "kept": keep.pk,
    }
    for rel in Customer._meta.related_objects:
        model, name = rel.related_model, rel.field.name
        label = model._meta.label_lower + "." + name
        manager = model._base_manager
        if rel.one_to_one:
            if manager.filter(**{name: keep}).exists():
                manager.filter(**{name: drop}).delete()
                continue
            moved[label] = manager.filter(**{name: drop}).update(**{name: keep})
        elif rel.one_to_many:
            removed = _drop_unique_conflicts(model, name, keep=keep, drop=drop)
            if removed:
                moved[label + ".duplicates_removed"] = removed
            if is_audited(model):
                ids = list(manager.filter(**{name: drop}).values_list("pk", flat=True))
                audited_moves.setdefault(model, []).extend(ids)
            moved[label] = manager.filter(**{name: drop}).update(**{name: keep})
        elif rel.many_to_many:
            through = rel.through
            src = rel.field.m2m_reverse_field_name()  # the column pointing at Customer
            other = rel.field.m2m_field_name()
            rows = through._base_manager.filter(**{src: drop})
            already = set(through._base_manager.filter(**{src: keep}).values_list(other, flat=True))
            moved[label] = rows.exclude(**{f"{other}__in": already}).update(**{src: keep})
            rows.delete()
    ct = ContentType.objects.get_for_model(Customer)
    for model, gfk in _generic_foreign_keys():
        label = f"{model._meta.label_lower}.{gfk.name}"
        rows = model._base_manager.filter(**{gfk.ct_field: ct, gfk.fk_field: drop.pk})
        if is_audited(model):
            audited_moves.setdefault(model, []).extend(rows.values_list("pk", flat=True))
        moved[label] = rows.update(**{gfk.fk_field: keep.pk})
    for model, ids in audited_moves.items():
        record_snapshot(model, ids, user=user, reason=reason)
    drop_tags = list(drop.tags.all())
    moved["customers.customer.tags"] = len(drop_tags)
    keep.tags.add(*drop_tags)
    changed = []
    for name in MERGE_FILL_FIELDS:
        f = Customer._meta.get_field(name)
        if getattr(keep, f.attname) in (None, "") and getattr(drop, f.attname) not in (None, ""):
            setattr(keep, f.attname, getattr(drop, f.attname))
            changed.append(f.attname)
    if keep.organisation_id == drop.pk:
        keep.organisation_id = None
        changed.append("organisation_id")
    if drop.marketing_consent and not keep.marketing_consent:
        keep.marketing_consent = True
        keep.consent_at, keep.consent_method = drop.consent_at, drop.consent_method
        changed += ["marketing_consent", "consent_at", "consent_method"]
    keep.created_at = min(keep.created_at, drop.created_at)
    if drop.external_id and "external_id" in changed:
        # The unique external id must leave the merged row before the kept one takes it.
        Customer.objects.filter(pk=drop.pk).update(external_id="")
    attribute(keep, user, reason)
    keep.save()
    merge = CustomerMerge.objects.create(
        kept=keep,
        merged_id=drop.pk,
        merged_name=drop.name,
        snapshot=snapshot,
        moved={k: v for k, v in moved.items() if v},
        merged_by=user,
    )
    attribute(drop, user, reason)
    drop.delete()
    registry.customers_reassigned([keep.pk])  # the dropped customer's orders are keep's now
    return merge
