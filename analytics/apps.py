from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from crm.registry import NavEntry, register_nav
        from crm.roles import Role

        managers = frozenset({Role.MANAGER, Role.ADMIN})
        register_nav(NavEntry(_("Analytics"), "analytics:index", "bar-chart-line", managers, 60))
