from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from crm.registry import register_personal_data

        from .privacy import source as personal_data_source

        register_personal_data(personal_data_source)
        from crm.registry import CustomerPanel, NavEntry, register_customer_panel, register_nav
        from crm.roles import Role, register_policy

        from . import api, panels
        from .models import (
            AssociationRule,
            ChurnRate,
            CustomerScore,
            CustomerSegment,
            Forecast,
            Recommendation,
            SatisfactionPeriod,
            Segment,
        )
        from .policies import CustomerResultPolicy, ManagerResultPolicy, ServiceFiguresPolicy

        register_policy(CustomerScore, CustomerResultPolicy())
        register_policy(Recommendation, CustomerResultPolicy())
        register_policy(CustomerSegment, CustomerResultPolicy())
        for model in (Segment, AssociationRule, Forecast, ChurnRate):
            register_policy(model, ManagerResultPolicy())
        register_policy(SatisfactionPeriod, ServiceFiguresPolicy())

        managers = frozenset({Role.MANAGER, Role.ADMIN})
        register_nav(NavEntry(_("Analytics"), "analytics:index", "bar-chart-line", managers, 60))
        register_nav(NavEntry(_("Jobs"), "analytics:jobrun_list", "cpu", managers, 61))
        # Reps and agents start from their own day; managers reach it from the dashboard.
        workers = frozenset({Role.SALES_REP, Role.SUPPORT_AGENT})
        register_nav(NavEntry(_("My day"), "analytics:my_day", "sunrise", workers, 5))
        register_customer_panel(
            CustomerPanel(
                key="analytics_insights",
                template="analytics/panels/insights.html",
                get_context=panels.insights_context,
                roles=panels.PANEL_ROLES,
                order=50,
            )
        )
        register_customer_panel(
            CustomerPanel(
                key="analytics_recommendations",
                template="analytics/panels/recommendations.html",
                get_context=panels.recommendations_context,
                roles=panels.PANEL_ROLES,
                order=55,
            )
        )
        api.register()  # read-only REST API of the results
