from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from crm.registry import NavEntry, register_nav
        from crm.roles import Role, register_policy

        from .models import Customer, Interaction, Need, Tag
        from .policies import CustomerPolicy, InteractionPolicy, ReadOnlyForStaff

        register_policy(Customer, CustomerPolicy())
        register_policy(Interaction, InteractionPolicy())
        register_policy(Tag, ReadOnlyForStaff())
        register_policy(Need, InteractionPolicy())

        register_nav(
            NavEntry(_("Customers"), "customers:customer_list", "people", frozenset(Role), 10)
        )

        from .import_setup import ready as imports_ready

        imports_ready()
