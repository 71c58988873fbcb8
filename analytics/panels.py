"""Customer-page panels (registered in AnalyticsConfig.ready through crm.registry)."""

from __future__ import annotations

from crm import roles
from crm.roles import Role

from . import selectors
from .labels import FEATURE_LABELS, SENSITIVE_FEATURES

# Reps see their own customers' scores; managers and admins everyone's (DESIGN.md roles).
PANEL_ROLES = frozenset({Role.SALES_REP, Role.MANAGER, Role.ADMIN})


def _readable(value):
    """Whole numbers for counts and days, one decimal for small ratios."""
    if value is None:
        return None
    value = round(float(value)) if abs(float(value)) >= 10 else round(float(value), 1)
    return int(value) if float(value).is_integer() else value


def _may_see(request, customer) -> bool:
    if not roles.may(request.user, "view_my_scores"):
        return False
    if roles.role_of(request.user) is Role.SALES_REP:
        return customer.owner_id == request.user.pk
    return True


def _insights(request, customer) -> dict | None:
    if not _may_see(request, customer):
        return None
    cache = request.__dict__.setdefault("_analytics_insights", {})
    if customer.pk not in cache:
        cache[customer.pk] = selectors.customer_insights(customer)
    return cache[customer.pk]


def insights_context(request, customer) -> dict | None:
    data = _insights(request, customer)
    if data is None:
        return None
    score = data["score"]
    drivers = []
    sensitive_ok = roles.may(request.user, "view_sensitive_fields")
    if score and score.churn_drivers:
        for d in score.churn_drivers:
            hidden = d.get("feature") in SENSITIVE_FEATURES and not sensitive_ok
            drivers.append(
                {
                    "label": FEATURE_LABELS.get(d.get("feature"), d.get("feature")),
                    "value": None if hidden else _readable(d.get("value")),
                    "points": round(100 * float(d.get("effect") or 0)),
                }
            )
    churn_pct = (
        round(100 * score.churn_probability)
        if score and score.churn_probability is not None
        else None
    )
    return {
        "score": score,
        "segment": data["segment"],
        "churn_pct": churn_pct,
        "churn_high": churn_pct is not None and churn_pct >= 50,
        "drivers": drivers,
    }


def recommendations_context(request, customer) -> dict | None:
    data = _insights(request, customer)
    if data is None:
        return None
    return {"recommendations": data["recommendations"]}
