"""The files imports keep on disk: an erasure removes the person's rows from them (after it
committed, never on a rollback), and the retention task deletes them once the import has
been finished for IMPORT_FILE_RETENTION_DAYS."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.celery import app as celery_app
from crm.roles import Role
from customers.import_models import ImportBatch, ImportStatus
from customers.models import Customer, ErasureRecord
from customers.privacy import personal_data_erase
from customers.tasks import import_files_retention_task
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

M, AD = Role.MANAGER, Role.ADMIN
EMAIL = "zelda.quill@example.org"
PHONE = "+14155552671"

# A spreadsheet export: BOM, semicolons, CRLF, the header in people's words, a value on
# two lines. Zelda's rows: by external ID (1), by email in other case (2), by phone as typed
# (3), and two with bad birth dates, found by email and by phone (4, 5).
LINES = [
    "External ID;Name;E-Mail;Phone;Street;Country;Birth date\r\n",
    'A1;Ann Other;ann@example.com;;"2 Long Road\r\nFlat 3";GB;\r\n',  # others
    "ZQ1;Zelda Quillfeather;;;1 Quill Lane;US;\r\n",  # 1
    "B2;Bob Other;bob@example.com;(415) 555-2672;;US;\r\n",
    ";Z. Quill;Zelda.Quill@Example.org;;;US;\r\n",  # 2
    "C3;Cy Other;cy@example.com;;;GB;1990-01-02\r\n",
    ";Zelda Q;;(415) 555-2671;;US;\r\n",  # 3
    ";Zelda Again;ZELDA.QUILL@EXAMPLE.ORG;;;US;31.02.1990\r\n",  # 4 (rejected)
    "D4;Dee Other;dee@example.com;;;GB;31.02.1990\r\n",  # rejected too, not hers
    ";Zed;;415-555-2671;;US;1990-13-45\r\n",  # 5 (rejected)
]
HERS = {2, 4, 6, 7, 9}  # indexes in LINES


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def zelda(db):
    return CustomerFactory(
        name="Zelda Quillfeather", email=EMAIL, phone=PHONE, external_id="ZQ1", country="US"
    )


@pytest.fixture
def batch(media, zelda, client_for, django_capture_on_commit_callbacks):
    """The file uploaded through the import page and read (preview), as a manager would."""
    data = "\ufeff".join(["", "".join(LINES)]).encode("utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(M).post(
            reverse("customers:customer_import"),
            {"file": SimpleUploadedFile("people.csv", data)},
        )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    # Rejected: her rows 5 and 7 (the same stored customer as row 3), 8 and 10, and Dee's 9.
    assert batch.status == ImportStatus.READY and batch.rejected == 5
    return batch


def _rejects(batch) -> bytes:
    with batch.rejects_file.open("rb") as handle:
        return handle.read()


def _erase(client, customer, capture):
    with capture(execute=True):
        response = client.post(
            reverse("customers:customer_erase", args=[customer.pk]),
            {"confirm_name": customer.name},
        )
    assert response.status_code == 302
    return response


def test_erasure_removes_exactly_the_persons_rows_from_the_stored_files(
    batch, zelda, client_for, django_capture_on_commit_callbacks
):
    upload_before = batch.file.read()
    batch.file.close()
    rejects_before = _rejects(batch)
    assert rejects_before.count(b"\r\n") == 6  # the header and five rejected rows
    assert b"Zelda" in rejects_before and b"Dee Other" in rejects_before

    _erase(client_for(AD), zelda, django_capture_on_commit_callbacks)

    # The database erasure is what it always was.
    zelda.refresh_from_db()
    assert zelda.name == f"Erased customer #{zelda.pk}"
    assert (zelda.email, zelda.phone, zelda.country) == ("", "", "")
    assert zelda.external_id == "ZQ1"
    # The upload: her five records gone; the others, the header and the BOM byte for byte.
    expected = "\ufeff" + "".join(line for i, line in enumerate(LINES) if i not in HERS)
    assert batch.file.path and Path(batch.file.path).read_bytes() == expected.encode("utf-8")
    assert upload_before != expected.encode("utf-8")
    # The rejects file: her four rejected rows gone, Dee's row and the header as they were.
    rejects_after = _rejects(batch)
    header, *rows = rejects_before.split(b"\r\n")
    assert rejects_after == b"\r\n".join([header, *[r for r in rows if b"Dee" in r], b""])
    assert b"Dee Other" in rejects_after and rejects_after.count(b"\r\n") == 2
    record = ErasureRecord.objects.get(customer=zelda)
    assert record.counts["import_files.files"] == 2
    assert record.counts["import_files.rows"] == 9
    assert "customers.import_previews" in record.counts  # the rest of the erasure ran


def test_a_rolled_back_erasure_leaves_the_files_alone(
    batch, zelda, users, django_capture_on_commit_callbacks
):
    from crm import registry

    upload_before = Path(batch.file.path).read_bytes()
    rejects_before = _rejects(batch)

    def broken(customer, user):
        raise RuntimeError("disk full")

    registry.register_personal_data(
        registry.PersonalDataSource(key="zz_broken", erase=broken, order=999)
    )
    try:
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
        ):
            personal_data_erase(user=users[AD], customer=zelda)
    finally:
        registry._personal_data.pop("zz_broken")
    assert callbacks == []
    assert Customer.objects.get(pk=zelda.pk).email == EMAIL
    assert not ErasureRecord.objects.exists()
    assert Path(batch.file.path).read_bytes() == upload_before
    assert _rejects(batch) == rejects_before


def test_a_file_that_cannot_be_read_is_logged_and_skipped(
    batch, zelda, client_for, django_capture_on_commit_callbacks, caplog
):
    Path(batch.file.path).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00 not a csv")
    with caplog.at_level(logging.WARNING, logger="customers.import_files"):
        _erase(client_for(AD), zelda, django_capture_on_commit_callbacks)
    assert "could not be scrubbed" in caplog.text
    record = ErasureRecord.objects.get(customer=zelda)
    assert (record.counts["import_files.files"], record.counts["import_files.rows"]) == (1, 4)
    assert b"Zelda" not in _rejects(batch)
    assert Customer.objects.get(pk=zelda.pk).email == ""


# --- retention -----------------------------------------------------------------------------


def _stored(status, *, days_ago, created_days_ago=None):
    """A batch with both files stored, finished (or, for a running or ready one, uploaded)
    `days_ago` days ago."""
    now = timezone.now()
    times = {"created_at": now - timedelta(days=created_days_ago or days_ago)}
    finished = {"committed": "committed_at", "cancelled": "cancelled_at", "undone": "undone_at"}
    times[finished.get(status, "created_at")] = now - timedelta(days=days_ago)
    batch = ImportBatch.objects.create(
        kind="customers", original_name=f"{status}.csv", status=status, **times
    )
    batch.file.save(f"{status}.csv", ContentFile(b"name\r\nAnn\r\n"), save=False)
    batch.rejects_file.save(f"{status}-rejected.csv", ContentFile(b"row,name\r\n"), save=False)
    batch.save()
    return batch


def test_the_retention_task_deletes_only_the_files_of_long_finished_imports(
    media, settings, client_for
):
    settings.IMPORT_FILE_RETENTION_DAYS = 90
    old = [
        _stored(ImportStatus.COMMITTED, days_ago=91),
        _stored(ImportStatus.CANCELLED, days_ago=120),
        _stored(ImportStatus.UNDONE, days_ago=95, created_days_ago=300),
        _stored(ImportStatus.FAILED, days_ago=100),
    ]
    kept = [
        _stored(ImportStatus.COMMITTED, days_ago=30, created_days_ago=200),
        _stored(ImportStatus.UNDONE, days_ago=89, created_days_ago=150),
        _stored(ImportStatus.READY, days_ago=365),  # waiting for its commit: never
        _stored(ImportStatus.COMMITTING, days_ago=365),
    ]
    paths = {b.pk: (b.file.path, b.rejects_file.path) for b in old + kept}
    orphan_old = media / "imports" / "2020" / "01" / "left-behind.csv"
    orphan_new = media / "imports" / "fresh.csv"
    for path, age in ((orphan_old, 100), (orphan_new, 1)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"name\n")
        stamp = (timezone.now() - timedelta(days=age)).timestamp()
        os.utime(path, (stamp, stamp))

    result = import_files_retention_task.delay().get()

    assert result == {"batches": 4, "files": 8, "orphans": 1}
    for b in old:
        b.refresh_from_db()
        assert not b.file and not b.rejects_file and b.files_removed_at is not None
        assert not any(map(_exists, paths[b.pk]))
    for b in kept:
        b.refresh_from_db()
        assert b.file and b.rejects_file and b.files_removed_at is None
        assert all(map(_exists, paths[b.pk]))
    assert not orphan_old.exists() and orphan_new.exists()
    assert import_files_retention_task.delay().get() == {"batches": 0, "files": 0, "orphans": 0}

    client = client_for(M)
    committed = old[0]
    page = client.get(committed.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="files-removed"' in text
    assert "deleted on" in text and "under the retention policy for import files" in text
    assert 'data-testid="download-rejects"' not in text
    rejects = reverse("customers:importbatch_rejects", args=[committed.pk])
    assert client.get(rejects).status_code == 404
    recent = client.get(kept[0].get_absolute_url()).content.decode()
    assert 'data-testid="files-removed"' not in recent


def test_a_negative_retention_keeps_the_files(media, settings):
    settings.IMPORT_FILE_RETENTION_DAYS = -1
    batch = _stored(ImportStatus.COMMITTED, days_ago=1000)
    assert import_files_retention_task.delay().get() == {"batches": 0, "files": 0, "orphans": 0}
    assert _exists(batch.file.path)


def test_the_beat_schedule_runs_the_import_file_retention_nightly():
    (entry,) = [
        e
        for e in celery_app.conf.beat_schedule.values()
        if e["task"] == "customers.import_files_retention_task"
    ]
    assert entry["schedule"].hour == {3}


def _exists(path) -> bool:
    return os.path.exists(path)


def test_without_a_broker_the_files_are_scrubbed_in_the_request(
    batch, zelda, client_for, django_capture_on_commit_callbacks, monkeypatch
):
    from customers.tasks import erasure_import_files_task

    def unreachable(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(erasure_import_files_task, "delay", unreachable)
    _erase(client_for(AD), zelda, django_capture_on_commit_callbacks)
    assert b"Quill" not in Path(batch.file.path).read_bytes()
    record = ErasureRecord.objects.get(customer=zelda)
    assert (record.counts["import_files.files"], record.counts["import_files.rows"]) == (2, 9)
    # A second run (a redelivered task) finds nothing more and keeps the totals.
    from customers.import_files import Person
    from customers.privacy import scrub_import_files

    person = Person(external_id="ZQ1", email=EMAIL, phone=PHONE)
    assert scrub_import_files(record_id=record.pk, person=person) == {"files": 0, "rows": 0}
    record.refresh_from_db()
    assert (record.counts["import_files.files"], record.counts["import_files.rows"]) == (2, 9)


@pytest.mark.parametrize(
    ("text", "encoding", "kept"),
    [
        (
            "name,email\nA,a@x.org\n\nZ,z@x.org\n\nB,b@x.org\n",
            "utf-8",
            "name,email\nA,a@x.org\n\n\nB,b@x.org\n",
        ),
        (
            'name,street,email\n"A","1\n2",a@x.org\n"Z","3\n4",z@x.org\nB,5,b@x.org\n',
            "utf-8",
            'name,street,email\n"A","1\n2",a@x.org\nB,5,b@x.org\n',
        ),
        (
            "name,email\nA,a@x.org,extra\nZ,z@x.org,x\nB,b@x.org\n",
            "utf-8",
            "name,email\nA,a@x.org,extra\nB,b@x.org\n",
        ),
        (
            "name,email\n张三,a@x.org\nZ,z@x.org\n李四,b@x.org\n",
            "gb18030",
            "name,email\n张三,a@x.org\n李四,b@x.org\n",
        ),
        (
            "name;email\r\nA;a@x.org\r\nZ;Z@X.org\r\nB;b@x.org\r\n",
            "utf-16",
            "name;email\r\nA;a@x.org\r\nB;b@x.org\r\n",
        ),
    ],
    ids=["blank lines", "values on two lines", "rows of the wrong width", "GB18030", "UTF-16"],
)
def test_a_file_keeps_its_encoding_and_every_other_record(tmp_path, text, encoding, kept):
    from crm.importing import get_importer
    from customers.import_files import Person, scrub_file

    path = tmp_path / "people.csv"
    path.write_bytes(text.encode(encoding))
    assert scrub_file(path, get_importer("customers"), Person(email="z@x.org")) == 1
    assert path.read_bytes() == kept.encode(encoding)
    assert [p.name for p in tmp_path.iterdir()] == ["people.csv"]  # no temporary file left
