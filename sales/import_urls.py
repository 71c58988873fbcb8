"""URLs of the order and product import and the order export (included by sales/urls.py)."""

from django.urls import path

from crm.exporting import CsvExportView
from customers.import_models import ImportKind
from customers.import_views import ImportUploadView

from . import exporting
from .models import Deal, Order

urlpatterns = [
    path("orders/import/", ImportUploadView.as_view(kind=ImportKind.ORDERS), name="order_import"),
    path(
        "products/import/",
        ImportUploadView.as_view(kind=ImportKind.PRODUCTS),
        name="product_import",
    ),
    path(
        "orders/export/",
        CsvExportView.as_view(
            filename="orders",
            header=exporting.HEADER,
            rows=exporting.export_order_lines,
            model=Order,
        ),
        name="order_export",
    ),
    path(
        "deals/export/",
        CsvExportView.as_view(
            filename="deals",
            header=exporting.DEAL_HEADER,
            rows=exporting.export_deals,
            model=Deal,
        ),
        name="deal_export",
    ),
]
