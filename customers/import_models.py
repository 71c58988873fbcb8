"""Import batches and what undoing them needs. Imported into customers.models.

A batch is one uploaded file of one kind (customers, orders or products): parsed and
previewed by a Celery task, then committed or cancelled by the user, and possibly undone
later. Batches of every kind live here, in the lowest app that imports rows, so the sales
importers record into them without this app knowing sales' models.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    ORDERS = "orders", _("Orders")
    PRODUCTS = "products", _("Products")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be read")
    PARSING = "parsing", _("Reading")
    READY = "ready", _("Ready to commit")
    FAILED = "failed", _("Failed")
    COMMITTING = "committing", _("Committing")
    COMMITTED = "committed", _("Committed")
    CANCELLED = "cancelled", _("Cancelled")
    UNDOING = "undoing", _("Undoing")
    UNDONE = "undone", _("Undone")


RUNNING_STATUSES = (
    ImportStatus.PENDING,
    ImportStatus.PARSING,
    ImportStatus.COMMITTING,
    ImportStatus.UNDOING,
)


class ImportBatch(models.Model):
    """One CSV file imported (or being imported) into one kind of rows.

    Counts are those of the preview until the batch is committed, then those written.
    `preview` holds samples for the preview page (rows to create, changes to updated rows,
    the first rejects); every reject is in `rejects_file` with its original values.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=ImportKind)
    # Blank for imports run from the command line, which read the file where it is.
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=255, blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus, default=ImportStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    message = models.TextField(_("message"), blank=True, default="")
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    encoding = models.CharField(_("encoding"), max_length=30, blank=True, default="")
    delimiter = models.CharField(_("separator"), max_length=2, blank=True, default="")
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    to_create = models.PositiveIntegerField(_("to create"), default=0)
    to_update = models.PositiveIntegerField(_("to update"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    collapsed = models.PositiveIntegerField(_("duplicates collapsed"), default=0)
    cleaning = models.JSONField(_("cleaning applied"), default=dict, blank=True)
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    rejects_file = models.FileField(
        _("rejected rows"), upload_to="imports/rejects/%Y/%m/", blank=True, max_length=255
    )
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("committed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    committed_at = models.DateTimeField(_("committed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    # Set when the retention policy deleted the stored files (customers.import_files).
    files_removed_at = models.DateTimeField(_("files removed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        indexes = [models.Index(fields=["kind", "status", "-committed_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_name}"

    def get_absolute_url(self) -> str:
        return reverse("customers:importbatch_detail", args=[self.pk])

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING_STATUSES


class ImportRecord(models.Model):
    """What undoing a committed batch needs, one row per stored row it touched.

    `previous` is None for a row the batch created (undo deletes it), else the stored
    values before the batch changed it (undo writes them back). `model` is an app label
    ("customers.customer", "sales.order") so no foreign key points upward.
    """

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="records"
    )
    model = models.CharField(_("model"), max_length=60)
    object_id = models.BigIntegerField(_("object ID"))
    previous = models.JSONField(_("previous values"), null=True, blank=True)

    class Meta:
        verbose_name = _("import record")
        verbose_name_plural = _("import records")
        indexes = [models.Index(fields=["batch", "model"])]

    def __str__(self) -> str:
        return f"{self.model}#{self.object_id}"
