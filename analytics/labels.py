"""Readable names for the features the jobs compute (churn drivers, segment profiles)."""

from django.utils.translation import gettext_lazy as _

# Churn-model features that are a customer's sensitive fields (DESIGN.md: birth date and
# annual income): their values are shown to managers and admins only, in pages and API.
SENSITIVE_FEATURES = frozenset({"age", "income"})

FEATURE_LABELS = {
    "recency_days": _("Days since last order"),
    "frequency": _("Orders"),
    "monetary": _("Total spend"),
    "avg_order_value": _("Average order value"),
    "tenure_days": _("Days as a customer"),
    "overdue_ratio": _("Overdue against usual rhythm"),
    "orders_90d": _("Orders in the last 90 days"),
    "orders_prev_90d": _("Orders in the 90 days before"),
    "spend_trend": _("Spending trend"),
    "tickets_365d": _("Tickets in the last year"),
    "complaints_365d": _("Complaints in the last year"),
    "sla_breaches_365d": _("Missed service targets"),
    "satisfaction": _("Satisfaction (CSAT)"),
    "interactions_180d": _("Contacts in the last 6 months"),
    "age": _("Age"),
    "income": _("Annual income"),
    "tickets": _("Tickets"),
}

JOB_DESCRIPTIONS = {
    "segmentation": _("Groups customers with similar behaviour and names each group."),
    "association_rules": _(
        "Finds products bought together and recommends each customer what they lack."
    ),
    "forecast": _("Predicts revenue for the next 6 months and weeks, checked against history."),
    "churn": _("Scores each active customer's risk of not ordering in the next 90 days."),
    "customer_value": _("RFM scores, loyalty tiers and the predicted value of the next 12 months."),
}
