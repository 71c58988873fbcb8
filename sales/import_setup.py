"""Wiring of the order and product import, export and data-quality checks, called from
SalesConfig.ready()."""


def ready() -> None:
    from crm.importing import register_importer

    from . import quality
    from .importing import OrderImporter, ProductImporter

    register_importer(OrderImporter())
    register_importer(ProductImporter())
    quality.register_sales_checks()
