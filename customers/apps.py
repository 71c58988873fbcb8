from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from crm.registry import register_personal_data

        from .privacy import customer_source as personal_data_source

        register_personal_data(personal_data_source)
        from crm.history import register_audited
        from crm.registry import NavEntry, register_nav, register_timeline_source
        from crm.roles import Role, register_policy, register_sensitive_fields

        from .models import (
            Customer,
            CustomerMerge,
            Interaction,
            LifecycleChange,
            Need,
            SavedView,
            Tag,
        )
        from .policies import (
            CustomerPolicy,
            InteractionPolicy,
            NeedPolicy,
            OwnRowsOnly,
            ReadOnlyForStaff,
        )
        from .timeline import interaction_events

        register_audited(Customer, sensitive=("annual_income", "birth_date"))
        register_audited(Interaction)
        register_policy(Customer, CustomerPolicy())
        register_sensitive_fields(Customer, ("birth_date", "annual_income"))
        register_policy(Interaction, InteractionPolicy())
        register_policy(Tag, ReadOnlyForStaff())
        register_policy(Need, NeedPolicy())
        register_policy(LifecycleChange, ReadOnlyForStaff())
        register_policy(CustomerMerge, ReadOnlyForStaff())
        register_policy(SavedView, OwnRowsOnly())
        register_timeline_source("interaction", interaction_events)

        register_nav(
            NavEntry(_("Customers"), "customers:customer_list", "people", frozenset(Role), 10)
        )

        from . import api

        api.register()  # REST API resources and webhook events

        from .import_setup import ready as imports_ready

        imports_ready()
