from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from crm.registry import CustomerPanel, NavEntry, register_customer_panel, register_nav
        from crm.roles import Role

        from . import panels

        managers = frozenset({Role.MANAGER, Role.ADMIN})
        register_nav(NavEntry(_("Campaigns"), "marketing:campaign_list", "megaphone", managers, 65))
        register_nav(
            NavEntry(
                _("Email templates"), "marketing:template_list", "envelope-paper", managers, 66
            )
        )
        register_customer_panel(
            CustomerPanel(
                key="marketing_email",
                template="marketing/panels/customer_email.html",
                get_context=panels.email_panel,
                roles=panels.PANEL_ROLES,
                order=15,
            )
        )
