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
        from crm.roles import Role

        from . import panels

        managers = frozenset({Role.MANAGER, Role.ADMIN})
        register_nav(NavEntry(_("Analytics"), "analytics:index", "bar-chart-line", managers, 60))
        register_nav(NavEntry(_("Jobs"), "analytics:jobrun_list", "cpu", managers, 61))
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
