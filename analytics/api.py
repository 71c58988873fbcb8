"""REST API for the analytics results, read only: segments, customer scores (churn risk,
value), recommendations, association rules, the revenue forecast and satisfaction figures.

Each resource needs the role table's analytics capability (another role gets 403) and is
scoped by analytics.policies (a rep's request for another rep's customer's score is a 404).
Sensitive inputs (a customer's age and income) never appear in a churn driver for reps and
agents. `register()` is called from AnalyticsConfig.ready.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.db.models import DecimalField, F, FloatField, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm import roles
from crm.api.registry import register_viewset
from crm.api.viewsets import ScopedReadOnlyViewSet

from .choices import SegmentName
from .labels import SENSITIVE_FEATURES
from .models import (
    AssociationRule,
    CustomerScore,
    Forecast,
    Recommendation,
    SatisfactionPeriod,
    Segment,
)

_DRIVERS_SCHEMA = {
    "type": "array",
    "nullable": True,
    "items": {
        "type": "object",
        "properties": {
            "feature": {"type": "string"},
            "value": {"type": "number", "nullable": True},
            "effect": {"type": "number"},
        },
    },
}


@extend_schema_field(_DRIVERS_SCHEMA)
class ChurnDriversField(serializers.JSONField):
    """The features that drive a churn score, each with its value and effect; the value of
    a sensitive feature is left out for users who may not see sensitive fields."""

    def to_representation(self, value):
        if not value:
            return value
        request = self.context.get("request")
        if request is not None and roles.may(request.user, "view_sensitive_fields"):
            return value
        return [
            {k: v for k, v in d.items() if k != "value"}
            if d.get("feature") in SENSITIVE_FEATURES
            else d
            for d in value
        ]


class SegmentSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = Segment
        fields = ["id", "run", "number", "name", "variant", "label", "size", "profile"]
        read_only_fields = fields


class CustomerScoreSerializer(serializers.ModelSerializer):
    segment = serializers.IntegerField(
        source="segment_id",
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("The customer's segment (managers and admins see /segments/)."),
    )
    segment_name = serializers.ChoiceField(
        choices=SegmentName.choices, read_only=True, allow_null=True
    )
    churn_drivers = ChurnDriversField(read_only=True)

    class Meta:
        model = CustomerScore
        fields = [
            "customer",
            "segment",
            "segment_name",
            "recency_days",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "historic_value",
            "predicted_purchases_12m",
            "predicted_value_12m",
            "p_alive",
            "loyalty_tier",
            "churn_probability",
            "churn_drivers",
            "value_scored_at",
            "churn_scored_at",
        ]
        read_only_fields = fields


class RecommendationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recommendation
        fields = ["id", "customer", "product", "rank", "confidence", "lift", "because"]
        read_only_fields = fields


class AssociationRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssociationRule
        fields = [
            "id",
            "run",
            "antecedents",
            "consequents",
            "support",
            "confidence",
            "lift",
            "baskets",
        ]
        read_only_fields = fields


class ForecastSerializer(serializers.ModelSerializer):
    class Meta:
        model = Forecast
        fields = [
            "id",
            "run",
            "granularity",
            "period_start",
            "row_kind",
            "actual",
            "predicted",
            "lower",
            "upper",
            "baseline",
        ]
        read_only_fields = fields


class SatisfactionPeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = SatisfactionPeriod
        fields = ["id", "month", "responses", "csat", "csat_satisfied_share", "ces", "nps"]
        read_only_fields = fields


class SegmentFilter(django_filters.FilterSet):
    class Meta:
        model = Segment
        fields = ["run", "name"]


class CustomerScoreFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    segment = django_filters.NumberFilter(field_name="customer__segment_membership__segment")
    churn_probability_min = django_filters.NumberFilter(
        field_name="churn_probability", lookup_expr="gte"
    )
    predicted_value_min = django_filters.NumberFilter(
        field_name="predicted_value_12m", lookup_expr="gte"
    )

    class Meta:
        model = CustomerScore
        fields = ["customer", "segment", "loyalty_tier"]


class RecommendationFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    product = django_filters.NumberFilter(field_name="product_id")

    class Meta:
        model = Recommendation
        fields = ["customer", "product"]


class AssociationRuleFilter(django_filters.FilterSet):
    min_lift = django_filters.NumberFilter(field_name="lift", lookup_expr="gte")
    min_confidence = django_filters.NumberFilter(field_name="confidence", lookup_expr="gte")
    min_support = django_filters.NumberFilter(field_name="support", lookup_expr="gte")

    class Meta:
        model = AssociationRule
        fields = ["run"]


class ForecastFilter(django_filters.FilterSet):
    period_after = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_before = django_filters.DateFilter(field_name="period_start", lookup_expr="lt")

    class Meta:
        model = Forecast
        fields = ["run", "granularity", "row_kind"]


class SatisfactionFilter(django_filters.FilterSet):
    month_after = django_filters.DateFilter(field_name="month", lookup_expr="gte")

    class Meta:
        model = SatisfactionPeriod
        fields = ["month"]


class SegmentViewSet(ScopedReadOnlyViewSet):
    """The customer segments of the last segmentation run: managers and admins."""

    required_capability = "view_manager_dashboard"
    queryset = Segment.objects.all()
    serializer_class = SegmentSerializer
    filterset_class = SegmentFilter
    ordering_fields = ["id", "number", "size"]


class CustomerScoreViewSet(ScopedReadOnlyViewSet):
    """Each customer's RFM scores, value and churn risk, by customer id. Reps: their own
    customers'; managers and admins: everyone's; agents: none.
    Order by `-churn_risk` or `-predicted_value` for the riskiest or most valuable first
    (customers not scored yet come last)."""

    required_capability = "view_my_scores"
    queryset = CustomerScore.objects.all()
    serializer_class = CustomerScoreSerializer
    filterset_class = CustomerScoreFilter
    ordering = ["-customer_id"]
    ordering_fields = ["customer_id", "churn_risk", "predicted_value"]

    def optimize(self, qs):
        # Unscored values sort as -1 so the cursor never compares with NULL.
        return qs.select_related("customer").annotate(
            segment_id=F("customer__segment_membership__segment"),
            segment_name=F("customer__segment_membership__segment__name"),
            churn_risk=Coalesce("churn_probability", Value(-1.0), output_field=FloatField()),
            predicted_value=Coalesce(
                "predicted_value_12m",
                Value(Decimal("-1")),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
        )


class RecommendationViewSet(ScopedReadOnlyViewSet):
    """Products to offer each customer ("bought X, often also buys Y"). Reps: their own
    customers'; managers and admins: everyone's; agents: none."""

    required_capability = "view_my_scores"
    queryset = Recommendation.objects.all()
    serializer_class = RecommendationSerializer
    filterset_class = RecommendationFilter
    ordering_fields = ["id", "rank", "lift", "confidence"]

    def optimize(self, qs):
        return qs.select_related("customer")


class AssociationRuleViewSet(ScopedReadOnlyViewSet):
    """Cross-sell rules (product id sets) with support, confidence and lift: managers and
    admins."""

    required_capability = "view_manager_dashboard"
    queryset = AssociationRule.objects.all()
    serializer_class = AssociationRuleSerializer
    filterset_class = AssociationRuleFilter
    ordering_fields = ["id", "lift", "confidence", "support"]


class ForecastViewSet(ScopedReadOnlyViewSet):
    """Revenue per period: history, the held-back test periods and the forecast with its
    interval: managers and admins."""

    required_capability = "view_manager_dashboard"
    queryset = Forecast.objects.all()
    serializer_class = ForecastSerializer
    filterset_class = ForecastFilter
    ordering_fields = ["id", "period_start"]


class SatisfactionViewSet(ScopedReadOnlyViewSet):
    """CSAT, CES and NPS per month (the service figures): agents, managers and admins."""

    required_capability = "view_service_figures"
    queryset = SatisfactionPeriod.objects.all()
    serializer_class = SatisfactionPeriodSerializer
    filterset_class = SatisfactionFilter
    ordering_fields = ["id", "month"]


def register() -> None:
    register_viewset("segments", SegmentViewSet, "segment")
    register_viewset("scores", CustomerScoreViewSet, "customerscore")
    register_viewset("recommendations", RecommendationViewSet, "recommendation")
    register_viewset("association-rules", AssociationRuleViewSet, "associationrule")
    register_viewset("forecasts", ForecastViewSet, "forecast")
    register_viewset("satisfaction", SatisfactionViewSet, "satisfaction")
