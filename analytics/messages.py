"""Plain messages for runs that stopped because the data was too thin (InsufficientData)."""

from django.utils.translation import gettext_lazy as _

INSUFFICIENT = {
    "segmentation_customers": _(
        "Segmentation needs at least %(minimum)s customers with orders; found %(found)s."
    ),
    "rules_baskets": _(
        "Cross-sell rules need at least %(minimum)s orders with two or more products; "
        "found %(found)s."
    ),
    "forecast_periods": _(
        "The forecast needs at least %(minimum)s complete periods (%(granularity)s) of orders; "
        "found %(found)s."
    ),
    "churn_customers": _(
        "Churn needs at least %(minimum)s customers with %(months)s months of history and "
        "enough of both churned and staying customers; found %(found)s."
    ),
    "customer_value_customers": _(
        "Customer value needs at least %(minimum)s customers with orders; found %(found)s."
    ),
    "customer_value_repeat": _(
        "Predicted value needs at least %(minimum)s customers who bought more than once; "
        "found %(found)s."
    ),
}


def insufficient_message(code: str, params: dict) -> str:
    template = INSUFFICIENT.get(code)
    if template is None:
        return str(code)
    if "granularity" in params:
        from .choices import Granularity

        params = {**params, "granularity": Granularity(params["granularity"]).label}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)
