"""Personal data of one customer: export everything held about them, and erase it on request
(GDPR / PIPL).

Each app registers a crm.registry.PersonalDataSource (this app's is `customer_source`
below); the export asks every source, so this module never imports the apps above it.
The erasure runs every source's `erase` in one transaction with the customer row locked:
either all personal values go, everywhere (tables and history), or nothing changes. Orders
and amounts stay for accounting; an ErasureRecord says who erased whom and when.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.history import record_snapshot
from crm.importing import escape_formula
from crm.privacy import ERASED_TEXT, rows_of, scrub_history
from crm.registry import PersonalDataSource, personal_data_sources

from .import_files import Person, scrub_person
from .models import (
    Customer,
    CustomerMerge,
    ErasureRecord,
    ImportBatch,
    ImportRecord,
    Interaction,
    LifecycleChange,
    Need,
)

logger = logging.getLogger(__name__)

# The customer's own personal fields and what erasure leaves in them (the name is set to
# "Erased customer #id" separately). Kind, owner, stage, source, tags, the external ID and
# the dates stay: they are the business record, not facts about the person.
ERASED_VALUES: dict = {
    "email": "",
    "phone": "",
    "street": "",
    "city": "",
    "region": "",
    "postal_code": "",
    "country": "",
    "birth_date": None,
    "gender": "",
    "annual_income": None,
    "education": "",
    "occupation": "",
    "website": "",
    "marketing_consent": False,
    "consent_at": None,
    "consent_method": "",
}


def erased_name(customer_id: int) -> str:
    return f"Erased customer #{customer_id}"


# --- this app's source ------------------------------------------------------------------------


def collect_customer(customer: Customer) -> dict[str, list[dict]]:
    return {
        "customer": rows_of(Customer.objects.filter(pk=customer.pk)),
        "tags": rows_of(customer.tags.all(), "name"),
        "contacts": rows_of(customer.contacts.all(), "id", "name", "email", "phone"),
        "needs": rows_of(Need.objects.filter(customer=customer)),
        "interactions": rows_of(Interaction.objects.filter(customer=customer)),
        "lifecycle_changes": rows_of(LifecycleChange.objects.filter(customer=customer)),
        "merges": rows_of(CustomerMerge.objects.filter(kept=customer)),
        "customer_history": rows_of(
            Customer.history.filter(id=customer.pk).order_by("history_date"),
            *[f.attname for f in Customer.history.model._meta.concrete_fields],
        ),
    }


def erase_customer(customer: Customer, user) -> dict[str, int]:
    """Scrub this app's free text about the customer and the personal values in the
    customer's and its interactions' history rows."""
    counts = {}
    interaction_ids = list(customer.interactions.values_list("pk", flat=True))
    counts["interactions"] = Interaction.objects.filter(pk__in=interaction_ids).update(
        subject=ERASED_TEXT, body=""
    )
    counts["interaction_history"] = scrub_history(
        Interaction,
        Q(customer_id=customer.pk) | Q(id__in=interaction_ids),
        {"subject": ERASED_TEXT, "body": ""},
    )
    counts["needs"] = Need.objects.filter(customer=customer).update(description=ERASED_TEXT)
    counts["merges"] = CustomerMerge.objects.filter(kept=customer).update(
        snapshot={}, merged_name=ERASED_TEXT
    )
    # Undo records of imports hold the values a row had before the import changed it.
    records = list(ImportRecord.objects.filter(model="customers.customer", object_id=customer.pk))
    for record in records:
        if isinstance(record.previous, dict) and "created_to" not in record.previous:
            record.previous = {
                **record.previous,
                **{k: v for k, v in ERASED_VALUES.items() if k in record.previous},
                "name": erased_name(customer.pk),
            }
            record.save(update_fields=["previous"])
    counts["import_records"] = len(records)
    counts["customer_history"] = scrub_history(
        Customer, Q(id=customer.pk), {**ERASED_VALUES, "name": erased_name(customer.pk)}
    )
    counts["webhook_deliveries"] = _scrub_webhook_payloads(customer)
    counts["import_previews"] = _scrub_import_previews(customer)
    return counts


def _scrub_import_previews(customer: Customer) -> int:
    """An import's preview keeps sample rows and changes (name, email, phone) as text; the
    customer's values are replaced wherever they appear. Few batches match, found by one
    query on the preview's text."""
    values = [v for v in (customer.email, customer.phone, customer.name) if v and len(v) > 3]
    if not values:
        return 0
    condition = Q()
    for value in values:
        condition |= Q(preview_text__contains=value)
    batches = list(
        ImportBatch.objects.annotate(preview_text=Cast("preview", TextField())).filter(condition)
    )
    for batch in batches:
        text = json.dumps(batch.preview, ensure_ascii=False)
        for value in values:
            text = text.replace(json.dumps(value, ensure_ascii=False)[1:-1], ERASED_TEXT)
        batch.preview = json.loads(text)
        batch.save(update_fields=["preview"])
    return len(batches)


def _scrub_webhook_payloads(customer: Customer) -> int:
    """Webhook deliveries keep the payload as sent; the customer events carry the fields."""
    from crm.api.models import WebhookDelivery

    return WebhookDelivery.objects.filter(
        event__startswith="customer.", payload__data__id=customer.pk
    ).update(payload={"event": "customer.erased", "data": {"id": customer.pk, "erased": True}})


customer_source = PersonalDataSource(
    key="customers", collect=collect_customer, erase=erase_customer, order=10
)


# --- export -----------------------------------------------------------------------------------


def personal_data_export(*, customer: Customer) -> dict:
    """Everything every app holds about the customer: {"customer_id", "exported_at",
    "sections": {name: [rows]}}."""
    sections: dict[str, list[dict]] = {}
    for source in personal_data_sources():
        if source.collect is not None:
            sections.update(source.collect(customer))
    return {
        "customer_id": customer.pk,
        "exported_at": timezone.now().isoformat(),
        "sections": sections,
    }


def personal_data_zip(*, customer: Customer) -> bytes:
    """The export as a zip: data.json (everything) and one CSV per non-empty section, with
    cells escaped against formula injection."""
    data = personal_data_export(customer=customer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        )
        for name, rows in data["sections"].items():
            if not rows:
                continue
            columns = list(dict.fromkeys(k for row in rows for k in row))
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\r\n")
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {
                        k: escape_formula(
                            json.dumps(v, cls=DjangoJSONEncoder)
                            if isinstance(v, dict | list)
                            else v
                        )
                        for k, v in row.items()
                    }
                )
            archive.writestr(f"{name}.csv", "\ufeff" + text.getvalue())
    return buffer.getvalue()


# --- erasure ----------------------------------------------------------------------------------


class ErasureRefused(Exception):
    """The request cannot be carried out; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


@transaction.atomic
def personal_data_erase(*, user, customer: Customer) -> ErasureRecord:
    """Anonymise the customer everywhere in one transaction: its own personal fields, the
    free text about it in every app, the same values in the history tables, derived
    per-customer results. Orders and amounts stay. Returns the ErasureRecord."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if ErasureRecord.objects.filter(customer=locked).exists():
        raise ErasureRefused(_("This customer's personal data was erased already."))
    counts: dict[str, int] = {}
    for source in personal_data_sources():
        if source.erase is not None:
            for what, n in source.erase(locked, user).items():
                counts[f"{source.key}.{what}"] = n
    now = timezone.now()
    person = Person.of(locked)  # the values that find their rows in import files
    Customer.objects.filter(pk=locked.pk).update(
        name=erased_name(locked.pk), updated_at=now, **ERASED_VALUES
    )
    # The erasure itself is audited: a history record by the admin, whose "old" values
    # are the already-scrubbed ones, so the trail shows who erased and when, not what.
    record_snapshot(Customer, [locked.pk], user=user, when=now, reason=_("Personal data erased"))
    record = ErasureRecord.objects.create(
        customer=locked, customer_ref=locked.pk, erased_by=user, erased_at=now, counts=counts
    )
    # Files cannot be rolled back: they change only once the erasure has committed.
    transaction.on_commit(lambda: _queue_scrub(record.pk, person))
    return record


def _queue_scrub(record_id: int, person: Person) -> None:
    """Scrub the import files in the worker (reading them costs about 0.1 s a megabyte, too
    long for the request with many files); without a broker, here and now."""
    from .tasks import erasure_import_files_task

    try:
        erasure_import_files_task.delay(record_id, person.external_id, person.email, person.phone)
    except Exception:  # any broker error: the erasure stands, the files must follow
        logger.warning("erasure %s: queueing failed, scrubbing in the request", record_id)
        scrub_import_files(record_id=record_id, person=person)


def scrub_import_files(*, record_id: int, person: Person) -> dict[str, int]:
    """After an erasure committed: remove the person's rows from the stored import files
    and add the numbers to the ErasureRecord ("import_files.files", "import_files.rows";
    added, so a run delivered again after a lost worker counts what it finished). Never
    raises: the erasure has happened, a file problem is logged (customers.import_files)."""
    try:
        result = scrub_person(person)
        with transaction.atomic():
            record = ErasureRecord.objects.select_for_update().get(pk=record_id)
            counts = dict(record.counts)
            for what in ("files", "rows"):
                key = f"import_files.{what}"
                counts[key] = counts.get(key, 0) + result[what]
            record.counts = counts
            record.save(update_fields=["counts"])
    except Exception:
        logger.exception("erasure %s: scrubbing the import files failed", record_id)
        return {"files": 0, "rows": 0}
    return result
