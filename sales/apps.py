from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from crm.registry import NavEntry, register_nav
        from crm.roles import Role, register_policy
        from customers.policies import ReadOnlyForStaff

        from .models import Order, OrderLine, Product
        from .policies import OrderPolicy

        register_policy(Product, ReadOnlyForStaff())
        register_policy(Order, OrderPolicy())
        register_policy(OrderLine, OrderPolicy())

        register_nav(NavEntry(_("Orders"), "sales:index", "receipt", frozenset(Role), 20))

        from .import_setup import ready as imports_ready

        imports_ready()
