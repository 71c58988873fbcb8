from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        from crm.roles import register_policy

        from .models import Ticket
        from .policies import TicketPolicy

        register_policy(Ticket, TicketPolicy())
