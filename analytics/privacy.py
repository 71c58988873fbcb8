"""What the analytics results hold about a customer, for the personal-data export and
erasure (registered in crm.registry from AnalyticsConfig.ready)."""

from __future__ import annotations

from crm.privacy import rows_of
from crm.registry import PersonalDataSource

from .models import CustomerScore, CustomerSegment, Recommendation


def collect(customer) -> dict[str, list[dict]]:
    return {
        "scores": rows_of(CustomerScore.objects.filter(customer=customer)),
        "segment": rows_of(
            CustomerSegment.objects.filter(customer=customer), "segment__name", "segment_id"
        ),
        "recommendations": rows_of(Recommendation.objects.filter(customer=customer)),
    }


def erase(customer, user) -> dict[str, int]:
    """The per-customer results (a profile of the person) go; the aggregates (segments,
    rules, forecasts, rates) stay. The next job run recomputes from the kept orders."""
    return {
        "scores": CustomerScore.objects.filter(customer=customer).delete()[0],
        "segment": CustomerSegment.objects.filter(customer=customer).delete()[0],
        "recommendations": Recommendation.objects.filter(customer=customer).delete()[0],
    }


source = PersonalDataSource(key="analytics", collect=collect, erase=erase, order=40)
