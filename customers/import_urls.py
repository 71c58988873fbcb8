"""URLs of the import flow, the customer export and the data-quality page (included by
customers/urls.py)."""

from django.urls import path

from crm.exporting import CsvExportView

from . import exporting, import_views
from .import_models import ImportKind
from .models import Customer

urlpatterns = [
    path(
        "import/",
        import_views.ImportUploadView.as_view(kind=ImportKind.CUSTOMERS),
        name="customer_import",
    ),
    path("import/batches/", import_views.ImportBatchListView.as_view(), name="importbatch_list"),
    path(
        "import/<int:pk>/", import_views.ImportBatchDetailView.as_view(), name="importbatch_detail"
    ),
    path(
        "import/<int:pk>/progress/",
        import_views.ImportBatchProgressView.as_view(),
        name="importbatch_progress",
    ),
    path(
        "import/<int:pk>/commit/",
        import_views.ImportBatchCommitView.as_view(),
        name="importbatch_commit",
    ),
    path(
        "import/<int:pk>/cancel/",
        import_views.ImportBatchCancelView.as_view(),
        name="importbatch_cancel",
    ),
    path(
        "import/<int:pk>/undo/", import_views.ImportBatchUndoView.as_view(), name="importbatch_undo"
    ),
    path(
        "import/<int:pk>/rejected.csv",
        import_views.ImportRejectsView.as_view(),
        name="importbatch_rejects",
    ),
    path(
        "export/",
        CsvExportView.as_view(
            filename="customers",
            header=exporting.header_for,
            rows=exporting.export_customers,
            model=Customer,
        ),
        name="customer_export",
    ),
    path("data-quality/", import_views.DataQualityView.as_view(), name="data_quality"),
    path(
        "data-quality/<slug:key>/",
        import_views.DataQualityCheckView.as_view(),
        name="data_quality_check",
    ),
]
