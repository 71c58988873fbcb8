"""Wiring of the import, export and data-quality features, called from CustomersConfig.ready()."""

from django.utils.translation import gettext_lazy as _


def ready() -> None:
    from crm.importing import register_importer
    from crm.registry import NavEntry, register_nav
    from crm.roles import FullAccessForManagers, Role, register_policy

    from . import (
        import_tasks,  # noqa: F401 (registers the Celery tasks with the worker)
        quality,
    )
    from .import_models import ImportBatch, ImportRecord
    from .importing import CustomerImporter

    register_importer(CustomerImporter())
    # Managers and admins see every batch; nobody else sees any (the default of the base).
    register_policy(ImportBatch, FullAccessForManagers())
    register_policy(ImportRecord, FullAccessForManagers())
    quality.register_customer_checks()
    register_nav(
        NavEntry(
            _("Data"),
            "customers:importbatch_list",
            "database-up",
            frozenset({Role.MANAGER, Role.ADMIN}),
            80,
        )
    )
