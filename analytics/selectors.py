"""Page-shaped reads of job runs and results: a fixed number of queries each."""

from __future__ import annotations

from django.db.models import QuerySet

from sales.models import Product

from .choices import JobKind
from .models import CustomerScore, CustomerSegment, JobRun, Recommendation


def job_runs() -> QuerySet[JobRun]:
    return JobRun.objects.select_related("started_by")


def latest_runs() -> list[tuple[JobKind, JobRun | None]]:
    """Each job kind with its newest run (one query per kind: five, whatever the history)."""
    return [(kind, job_runs().filter(kind=kind).first()) for kind in JobKind]


def customer_insights(customer) -> dict:
    """Score, segment and recommendations of one customer in four queries."""
    score = CustomerScore.objects.filter(customer=customer).first()
    membership = CustomerSegment.objects.filter(customer=customer).select_related("segment").first()
    recs = list(
        Recommendation.objects.filter(customer=customer)
        .select_related("product")
        .order_by("rank")[:5]
    )
    attach_because_names(recs)
    return {
        "score": score,
        "segment": membership.segment if membership else None,
        "recommendations": recs,
    }


def attach_because_names(recs) -> None:
    """Give each recommendation the names of the products that triggered it
    (`because_names`), in one query for the whole list."""
    because_ids = {pid for r in recs for pid in r.because}
    names = (
        dict(Product.objects.filter(pk__in=because_ids).values_list("pk", "name"))
        if because_ids
        else {}
    )
    for r in recs:
        r.because_names = [names.get(pid, f"#{pid}") for pid in r.because]
