from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        from crm.registry import NavEntry, register_nav
        from crm.roles import Role, register_policy

        from .models import Ticket
        from .policies import TicketPolicy

        register_policy(Ticket, TicketPolicy())

        register_nav(
            NavEntry(_("Tickets"), "service:ticket_list", "life-preserver", frozenset(Role), 40)
        )

        from . import api

        api.register()  # REST API resources and webhook events
