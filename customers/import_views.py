"""Views of the import flow, the customer export and the data-quality page.

Thin: they check the capability, call customers.import_services and render. The same
upload view serves customers, orders and products (the `kind` comes from the URL).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from crm import quality, roles
from crm.importing import CLEANING_LABELS, MAX_FILE_BYTES, MAX_ROWS, get_importer
from crm.mixins import CapabilityRequiredMixin, ScopedQuerysetMixin

from . import import_services
from .import_forms import ImportUploadForm
from .import_models import ImportBatch, ImportKind, ImportStatus

_UPLOAD_URLS = {
    ImportKind.CUSTOMERS: "customers:customer_import",
    ImportKind.ORDERS: "sales:order_import",
    ImportKind.PRODUCTS: "sales:product_import",
}


class ImportAccessMixin(CapabilityRequiredMixin):
    capability = "import_data"


class ImportUploadView(ImportAccessMixin, FormView):
    """Upload a CSV file of one kind; its reading is queued and the batch page opens."""

    form_class = ImportUploadForm
    template_name = "customers/import_upload.html"
    kind = ImportKind.CUSTOMERS

    def get_context_data(self, **kwargs):
        importer = get_importer(self.kind)
        recent = (
            roles.visible(self.request.user, ImportBatch)
            .filter(kind=self.kind)
            .select_related("created_by")[:5]
        )
        return super().get_context_data(
            importer=importer,
            kind=ImportKind(self.kind),
            header_line=",".join(importer.columns),
            max_mb=MAX_FILE_BYTES // (1024 * 1024),
            max_rows=MAX_ROWS,
            recent=recent,
            **kwargs,
        )

    def form_valid(self, form):
        batch = import_services.batch_create(
            kind=self.kind,
            upload=form.cleaned_data["file"],
            user=self.request.user,
            language=getattr(self.request, "LANGUAGE_CODE", ""),
        )
        return redirect(batch)


class ImportBatchListView(ImportAccessMixin, ListView):
    template_name = "customers/importbatch_list.html"
    context_object_name = "batches"
    paginate_by = 25

    def get_queryset(self):
        qs = roles.visible(self.request.user, ImportBatch).select_related(
            "created_by", "committed_by", "undone_by"
        )
        kind = self.request.GET.get("kind", "")
        if kind in ImportKind.values:
            qs = qs.filter(kind=kind)
        return qs

    def get_context_data(self, **kwargs):
        # The newest committed batch of each kind is the one that may be undone (one query).
        latest = (
            ImportBatch.objects.filter(status=ImportStatus.COMMITTED)
            .values("kind")
            .annotate(at=Max("committed_at"))
        )
        undoable = set(
            ImportBatch.objects.filter(status=ImportStatus.COMMITTED)
            .filter(
                committed_at__in=[row["at"] for row in latest],
            )
            .values_list("pk", flat=True)
        )
        return super().get_context_data(
            undoable=undoable,
            kinds=ImportKind.choices,
            kind=self.request.GET.get("kind", ""),
            upload_urls=_UPLOAD_URLS,
            **kwargs,
        )


class ImportBatchDetailView(ImportAccessMixin, ScopedQuerysetMixin, DetailView):
    """Progress while reading, then the preview with commit and cancel, then the result."""

    model = ImportBatch
    template_name = "customers/importbatch_detail.html"
    context_object_name = "batch"

    def get_queryset(self):
        return super().get_queryset().select_related("created_by", "committed_by", "undone_by")

    def get_context_data(self, **kwargs):
        batch = self.object
        importer = get_importer(batch.kind)
        cleaning = [
            (CLEANING_LABELS.get(code, code), count)
            for code, count in (batch.cleaning or {}).items()
            if count
        ]
        preview = batch.preview or {}
        return super().get_context_data(
            importer=importer,
            cleaning=cleaning,
            creates=preview.get("creates", {}),
            changes=preview.get("changes", []),
            rejects=preview.get("rejects", []),
            reject_lines=preview.get("reject_lines", 0),
            collapsed_into=preview.get("collapsed_into", []),
            ignored_columns=preview.get("ignored_columns", []),
            undo_blocker=import_services.undo_blocker(batch)
            if batch.status == ImportStatus.COMMITTED
            else "",
            upload_url=reverse(_UPLOAD_URLS[batch.kind]),
            **kwargs,
        )


class ImportBatchProgressView(ImportAccessMixin, ScopedQuerysetMixin, DetailView):
    """htmx polls this while the batch is busy; when it is done the page reloads."""

    model = ImportBatch
    template_name = "customers/partials/import_progress.html"
    context_object_name = "batch"

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if not self.object.is_running:
            response["HX-Refresh"] = "true"
        return response


class _BatchAction(ImportAccessMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        batch = get_object_or_404(roles.visible(request.user, ImportBatch), pk=pk)
        try:
            self.act(batch, request.user)
        except import_services.ImportError_ as exc:
            messages.error(request, exc.message)
        return redirect(batch)


class ImportBatchCommitView(_BatchAction):
    def act(self, batch, user):
        import_services.batch_request_commit(batch=batch, user=user)


class ImportBatchCancelView(_BatchAction):
    def act(self, batch, user):
        import_services.batch_cancel(batch=batch, user=user)
        messages.info(self.request, _("The import was cancelled; nothing was written."))


class ImportBatchUndoView(_BatchAction):
    def act(self, batch, user):
        import_services.batch_request_undo(batch=batch, user=user)


class ImportRejectsView(ImportAccessMixin, View):
    """The rejected rows as CSV: original values, row number and reason."""

    def get(self, request, pk):
        batch = get_object_or_404(roles.visible(request.user, ImportBatch), pk=pk)
        if not batch.rejects_file:
            raise Http404
        try:
            handle = batch.rejects_file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        name = batch.original_name.rsplit(".", 1)[0] + "-rejected.csv"
        return FileResponse(handle, as_attachment=True, filename=name, content_type="text/csv")


class DataQualityView(ImportAccessMixin, TemplateView):
    """Counts of each data problem with the first rows, each linked to where it is fixed.
    Two queries per check, whatever the data size."""

    template_name = "customers/data_quality.html"
    sample = 10

    def get_context_data(self, **kwargs):
        sections = []
        for check in quality.checks():
            rows = check.rows(self.request.user)
            count = rows.count()
            sample = list(rows[: self.sample]) if count else []
            sections.append(
                {
                    "check": check,
                    "count": count,
                    "rows": [(check.cells(r), check.link(r)) for r in sample],
                }
            )
        return super().get_context_data(sections=sections, **kwargs)


class DataQualityCheckView(ImportAccessMixin, TemplateView):
    """Every row of one check, paginated."""

    template_name = "customers/data_quality_check.html"

    def get_context_data(self, **kwargs):
        check = quality.get_check(self.kwargs["key"])
        if check is None:
            raise Http404
        page = Paginator(check.rows(self.request.user), 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            check=check,
            page_obj=page,
            rows=[(check.cells(r), check.link(r)) for r in page.object_list],
            **kwargs,
        )
