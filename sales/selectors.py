"""Page-shaped reads for sales: each returns in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from crm import roles
from crm.roles import Role

from .models import Deal, Order, Pipeline, PipelineStage, Task

# Cards drawn per board column; the column header still counts and sums every deal in it.
BOARD_CARDS_PER_STAGE = 50


def deal_queryset(*, user) -> QuerySet[Deal]:
    return roles.visible(user, Deal).select_related("customer", "stage", "pipeline", "owner")


def order_queryset(*, user) -> QuerySet[Order]:
    return roles.visible(user, Order).select_related("customer")


def task_queryset(*, user) -> QuerySet[Task]:
    """Open tasks first, overdue ones (the oldest due) before the rest, then done ones."""
    now = timezone.now()
    return (
        roles.visible(user, Task)
        .select_related("customer", "deal", "assignee")
        .annotate(
            overdue_rank=Case(
                When(done=False, due_at__lt=now, then=Value(0)),
                When(done=False, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("overdue_rank", "due_at", "id")
    )


def sellers() -> QuerySet:
    """Users who can own deals: reps, managers and admins (for owner pickers and filters)."""
    User = get_user_model()
    names = [Role.SALES_REP.value, Role.MANAGER.value, Role.ADMIN.value]
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=names) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def active_pipelines() -> list[Pipeline]:
    return list(Pipeline.objects.filter(active=True))


@dataclass
class BoardColumn:
    stage: PipelineStage
    count: int = 0
    total: Decimal = Decimal("0")
    deals: list[Deal] = field(default_factory=list)
    move_options: str = ""  # the <option>s of the cards' Move form (the board view's)

    @property
    def hidden(self) -> int:
        return self.count - len(self.deals)


def board_columns(*, deals: QuerySet[Deal], pipeline: Pipeline) -> list[BoardColumn]:
    """One column per stage of the pipeline: the count and sum of all its deals (one
    aggregate query) and the first cards of each (one windowed query)."""
    columns = {s.pk: BoardColumn(stage=s) for s in pipeline.stages.all()}
    in_pipeline = deals.filter(pipeline=pipeline)
    for row in in_pipeline.order_by().values("stage_id").annotate(n=Count("id"), s=Sum("amount")):
        column = columns.get(row["stage_id"])
        if column is not None:
            column.count, column.total = row["n"], row["s"] or Decimal("0")
    # Rank the deals alone (ids), then load the few cards with their joins: ranking the
    # joined rows made the database join every customer of the pipeline first (135 ms for a
    # rep's 8,000 deals against a few ms).
    ranked = (
        in_pipeline.order_by()
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("stage_id")],
                order_by=[
                    F("closed_at").desc(nulls_last=True),
                    F("expected_close").asc(nulls_last=True),
                    F("id").asc(),
                ],
            )
        )
        .filter(rank__lte=BOARD_CARDS_PER_STAGE)
        .values_list("id", flat=True)
    )
    ids = list(ranked.order_by("stage_id", "rank"))
    cards = in_pipeline.filter(pk__in=ids).order_by().in_bulk(ids) if ids else {}
    for pk in ids:
        deal = cards.get(pk)
        if deal is not None:
            columns[deal.stage_id].deals.append(deal)
    return list(columns.values())


def column_totals(*, deals: QuerySet[Deal], pipeline_id: int) -> dict[int, dict]:
    """Count and sum per stage, for the board to refresh its headers after a move."""
    rows = (
        deals.filter(pipeline_id=pipeline_id)
        .order_by()
        .values("stage_id")
        .annotate(n=Count("id"), s=Sum("amount"))
    )
    return {r["stage_id"]: {"count": r["n"], "total": r["s"] or Decimal("0")} for r in rows}
