"""Every write that matters in sales: orders with their totals, deals and their moves,
tasks and their reminders. Views, the admin, tasks and the demo all go through these."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.history import attribute

from . import summaries
from .choices import LostReason, OrderStatus
from .models import (
    Deal,
    DealLine,
    DealStageChange,
    Notification,
    Order,
    OrderLine,
    Pipeline,
    PipelineStage,
    Product,
    Task,
)

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class LineInput:
    """One product line as the forms hand it over: quantity and unit price checked."""

    product: Product
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT)


def lines_total(lines: Iterable[LineInput | OrderLine | DealLine]) -> Decimal:
    """The sum of quantity × unit price, in Decimal, to the cent."""
    total = sum((Decimal(line.unit_price) * line.quantity for line in lines), Decimal("0"))
    return total.quantize(CENT)


class DealMoveError(ValidationError):
    """A stage move the rules refuse; the message says why, for the user."""


# ---------------------------------------------------------------- orders


@transaction.atomic
def order_create(
    *,
    customer,
    lines: Sequence[LineInput],
    created_by=None,
    status: str = OrderStatus.CONFIRMED,
    ordered_at: datetime | None = None,
    external_id: str = "",
) -> Order:
    """An order with its lines; `total` is the sum of the lines."""
    if not lines:
        raise ValidationError(_("An order needs at least one line."))
    now = timezone.now()
    order = Order(
        customer=customer,
        status=status,
        ordered_at=ordered_at or now,
        created_by=created_by,
        created_at=now,
        external_id=external_id,
        total=lines_total(lines),
    )
    attribute(order, created_by)
    order.save(force_insert=True)
    OrderLine.objects.bulk_create(
        OrderLine(order=order, product=li.product, quantity=li.quantity, unit_price=li.unit_price)
        for li in lines
    )
    summaries.refresh(
        summaries.Footprint(
            frozenset({summaries.local_day(order.ordered_at)}),
            frozenset(li.product.pk for li in lines),
        )
    )
    return order


@transaction.atomic
def order_set_status(*, order: Order, status: str) -> Order:
    """Change an order's status (confirmed, shipped, completed, cancelled...)."""
    if status not in OrderStatus.values:
        raise ValidationError(_("Unknown order status."))
    order.status = status
    order.save(update_fields=["status"])
    summaries.refresh_orders([order.pk])
    return order


# ---------------------------------------------------------------- deals


def _check_stage(pipeline: Pipeline, stage: PipelineStage) -> None:
    if stage.pipeline_id != pipeline.pk:
        raise DealMoveError(
            _("The stage “%(stage)s” does not belong to the pipeline “%(pipeline)s”.")
            % {"stage": stage.name, "pipeline": pipeline.name}
        )


def _check_lost_reason(stage: PipelineStage, lost_reason: str) -> None:
    if stage.is_lost and lost_reason not in LostReason.values:
        raise DealMoveError(
            _("Choose why the deal was lost before moving it to “%(stage)s”.")
            % {"stage": stage.name}
        )


def _replace_lines(deal: Deal, lines: Sequence[LineInput]) -> None:
    deal.lines.all().delete()
    DealLine.objects.bulk_create(
        DealLine(deal=deal, product=li.product, quantity=li.quantity, unit_price=li.unit_price)
        for li in lines
    )


def _order_from_deal(deal: Deal, user) -> Order | None:
    """The deal's one order: created from its lines the first time it is won."""
    if deal.order_id is not None:
        return None
    lines = [
        LineInput(product=li.product, quantity=li.quantity, unit_price=li.unit_price)
        for li in deal.lines.select_related("product")
    ]
    order = order_create(customer=deal.customer, lines=lines, created_by=user)
    deal.order = order
    return order


@transaction.atomic
def deal_create(
    *,
    customer,
    title: str,
    pipeline: Pipeline,
    stage: PipelineStage,
    owner,
    user,
    amount: Decimal = Decimal("0"),
    expected_close: date | None = None,
    lines: Sequence[LineInput] = (),
    lost_reason: str = "",
) -> Deal:
    """A new deal in a stage of its pipeline; its creation is the first stage change.
    With lines, the amount is their sum."""
    _check_stage(pipeline, stage)
    _check_lost_reason(stage, lost_reason)
    if stage.is_won and not lines:
        raise DealMoveError(
            _("Add the products sold before marking a deal won: they become the order.")
        )
    now = timezone.now()
    deal = Deal(
        customer=customer,
        title=title,
        pipeline=pipeline,
        stage=stage,
        owner=owner,
        amount=lines_total(lines) if lines else Decimal(amount).quantize(CENT),
        expected_close=expected_close,
        lost_reason=lost_reason if stage.is_lost else "",
        stage_entered_at=now,
        closed_at=now if stage.is_closed else None,
        created_at=now,
    )
    attribute(deal, user)
    deal.save(force_insert=True)
    _replace_lines(deal, lines)
    DealStageChange.objects.create(
        deal=deal, from_stage=None, to_stage=stage, user=user, changed_at=now
    )
    if stage.is_won:
        _order_from_deal(deal, user)
        deal.save(update_fields=["order"])
    return deal


@transaction.atomic
def deal_update(
    *,
    deal: Deal,
    title: str,
    owner,
    amount: Decimal,
    expected_close: date | None,
    lines: Sequence[LineInput] | None = None,
) -> Deal:
    """Change a deal's details and, when lines are given, replace them (the amount is then
    their sum, or `amount` without lines). The stage changes only through deal_move."""
    deal.title = title
    deal.owner = owner
    deal.expected_close = expected_close
    if lines is not None:
        _replace_lines(deal, lines)
        deal.amount = lines_total(lines) if lines else Decimal(amount).quantize(CENT)
    deal.save()
    return deal


@dataclass(frozen=True)
class MoveResult:
    deal: Deal
    moved: bool
    order: Order | None  # the order created by this move, if any


@transaction.atomic
def deal_move(
    *,
    deal: Deal,
    stage: PipelineStage,
    user,
    lost_reason: str = "",
    lost_note: str = "",
) -> MoveResult:
    """Move a deal to a stage of its own pipeline and record the change.

    A lost stage needs a lost reason; a won stage needs at least one product line and
    creates the deal's order the first time (never a second one). Moving to the stage the
    deal is in already changes nothing. The deal row is locked, so two quick moves of the
    same card cannot both create an order.
    """
    deal = Deal.objects.select_for_update().select_related("pipeline", "customer").get(pk=deal.pk)
    _check_stage(deal.pipeline, stage)
    _check_lost_reason(stage, lost_reason)
    if stage.pk == deal.stage_id and not stage.is_lost:
        return MoveResult(deal=deal, moved=False, order=None)
    if stage.is_won and deal.order_id is None and not deal.lines.exists():
        raise DealMoveError(
            _("Add the products sold before marking a deal won: they become the order.")
        )
    now = timezone.now()
    moved = stage.pk != deal.stage_id
    if moved:
        seconds = max(int((now - deal.stage_entered_at).total_seconds()), 0)
        DealStageChange.objects.create(
            deal=deal,
            from_stage_id=deal.stage_id,
            to_stage=stage,
            user=user,
            changed_at=now,
            seconds_in_from_stage=seconds,
        )
        deal.stage = stage
        deal.stage_entered_at = now
        deal.closed_at = now if stage.is_closed else None
    deal.lost_reason = lost_reason if stage.is_lost else ""
    deal.lost_note = lost_note.strip() if stage.is_lost else ""
    order = _order_from_deal(deal, user) if stage.is_won else None
    attribute(deal, user)
    deal.save()
    return MoveResult(deal=deal, moved=moved, order=order)


# ---------------------------------------------------------------- tasks


@transaction.atomic
def task_create(
    *,
    title: str,
    due_at: datetime,
    assignee,
    created_by,
    customer=None,
    deal: Deal | None = None,
    notes: str = "",
) -> Task:
    """A follow-up about a customer or a deal (a deal's task is also its customer's)."""
    if deal is not None and customer is None:
        customer = deal.customer
    if customer is None:
        raise ValidationError(_("A task is about a customer or a deal."))
    return Task.objects.create(
        title=title,
        due_at=due_at,
        assignee=assignee,
        created_by=created_by,
        customer=customer,
        deal=deal,
        notes=notes,
    )


@transaction.atomic
def task_set_done(*, task: Task, done: bool) -> Task:
    task.done = done
    task.done_at = timezone.now() if done else None
    task.save(update_fields=["done", "done_at"])
    return task


def _reminder_text(task: Task) -> tuple[str, str]:
    about = task.deal.title if task.deal_id else (task.customer.name if task.customer_id else "")
    subject = _("Task due: %(title)s") % {"title": task.title}
    due = timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")
    body = _("Your task “%(title)s” about %(about)s is due at %(due)s.") % {
        "title": task.title,
        "about": about,
        "due": due,
    }
    return subject, body


def send_due_task_reminders(*, now: datetime | None = None, batch: int = 500) -> int:
    """Remind the assignee of every open task that is due, by email and in-app, once.

    Each task is claimed by a conditional UPDATE (reminder_sent_at still empty) in its own
    transaction with the sending: two workers never both send, and a failed send rolls the
    claim back so the next run tries again. Returns how many reminders went out.
    """
    now = now or timezone.now()
    ids = list(
        Task.objects.due_for_reminder(now).order_by("due_at").values_list("id", flat=True)[:batch]
    )
    sent = 0
    for task_id in ids:
        try:
            with transaction.atomic():
                claimed = Task.objects.filter(
                    pk=task_id, reminder_sent_at__isnull=True, done=False
                ).update(reminder_sent_at=now)
                if not claimed:
                    continue
                task = Task.objects.select_related("assignee", "customer", "deal").get(pk=task_id)
                subject, body = _reminder_text(task)
                Notification.objects.create(
                    user=task.assignee, task=task, message=subject, url=task.get_absolute_url()
                )
                if task.assignee.email:
                    send_mail(subject, body, None, [task.assignee.email])
                sent += 1
        except Exception:  # one bad address must not stop the others; retried next run
            logger.exception("task reminder %s failed", task_id)
    return sent


@transaction.atomic
def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
