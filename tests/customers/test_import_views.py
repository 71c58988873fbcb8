"""The import flow in the browser's terms: upload, progress, preview, commit, undo."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.roles import Role
from customers.import_models import ImportBatch, ImportStatus
from customers.models import Customer
from tests.customers.import_files import customer_row, to_csv
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    global on_commit  # tasks are queued on commit; run them as the request's commit would
    on_commit = django_capture_on_commit_callbacks


on_commit = None


def post(client, url, data=None):
    """POST, run what the request queued on commit (the Celery task), then follow."""
    with on_commit(execute=True):
        response = client.post(url, data or {})
    if response.status_code == 302:
        response = client.get(response.url)
        response.redirect_chain = [(response.request["PATH_INFO"], 302)]
    return response


def upload(client, text: bytes, name="customers.csv", url="customers:customer_import"):
    return post(client, reverse(url), {"file": SimpleUploadedFile(name, text)})


def sample_file() -> bytes:
    CustomerFactory(external_id="E1", name="Old name", city="Paris")
    rows = [
        customer_row(external_id="E1", city="Lyon"),
        customer_row(
            external_id="N1", name="New One", email=" NEW@Example.com ", phone="(415) 555-2671"
        ),
        customer_row(external_id="N2", name="Bad", email="not-an-email"),
        customer_row(external_id="N3", name="=cmd|' /C calc'!A0", birth_date="31.02.1990"),
    ]
    return to_csv(rows).encode()


def test_whole_flow_upload_preview_commit_undo(client_for):
    client = client_for(Role.MANAGER)
    response = upload(client, sample_file())
    batch = ImportBatch.objects.get()
    # Celery runs eagerly in tests: the preview is ready when the redirect lands.
    assert response.redirect_chain[-1][0] == batch.get_absolute_url()
    assert batch.status == ImportStatus.READY
    page = response.content.decode()
    assert "not-an-email" in page and "Emails lower-cased" in page
    assert "Lyon" in page  # the change to the stored row is shown
    assert (batch.to_create, batch.to_update, batch.rejected) == (1, 1, 2)
    assert Customer.objects.count() == 1  # nothing written before commit

    rejects = client.get(reverse("customers:importbatch_rejects", args=[batch.pk]))
    assert rejects.status_code == 200
    text = b"".join(rejects.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["row"] for r in rows] == ["4", "5"]
    assert rows[0]["email"] == "not-an-email" and "email:" in rows[0]["reason"]
    assert rows[1]["name"].startswith("'=cmd")  # escaped against formula injection
    assert "birth_date" in rows[1]["reason"]

    response = post(client, reverse("customers:importbatch_commit", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.COMMITTED and batch.committed_by.username == "manager"
    assert Customer.objects.get(external_id="N1").email == "new@example.com"
    assert Customer.objects.get(external_id="E1").city == "Lyon"

    listing = client.get(reverse("customers:importbatch_list"))
    assert reverse("customers:importbatch_undo", args=[batch.pk]) in listing.content.decode()

    post(client, reverse("customers:importbatch_undo", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.UNDONE and batch.undone_by.username == "manager"
    assert list(Customer.objects.values_list("external_id", "city")) == [("E1", "Paris")]


def test_cancel_writes_nothing_and_forgets_the_file(client_for):
    client = client_for(Role.ADMIN)
    upload(client, sample_file())
    batch = ImportBatch.objects.get()
    client.post(reverse("customers:importbatch_cancel", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED and not batch.file
    response = client.post(reverse("customers:importbatch_commit", args=[batch.pk]), follow=True)
    assert "Only a previewed batch can be committed." in response.content.decode()
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 50, "book.xlsx", "Excel workbook"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "photo.csv", "not a CSV text file"),
        (b"name\nAnn\n", "notes.docx", "Choose a .csv file"),
        (b"", "empty.csv", "empty"),
    ],
)
def test_not_a_csv_gets_a_clear_message_at_the_field(client_for, content, name, message):
    response = upload(client_for(Role.MANAGER), content, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_oversized_file_gets_a_clear_message(client_for, monkeypatch):
    monkeypatch.setattr("customers.import_forms.MAX_FILE_BYTES", 10)
    response = upload(client_for(Role.MANAGER), b"name\nAnn Lee Smith\n")
    assert "larger than" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_file_problem_found_while_reading_fails_the_batch_with_its_message(client_for):
    response = upload(client_for(Role.MANAGER), b"email\na@example.com\n")
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED
    assert "lacks the required columns name" in response.content.decode()


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SUPPORT_AGENT])
def test_only_managers_and_admins_import(client_for, role, users):
    client = client_for(role)
    for name in (
        "customers:customer_import",
        "customers:importbatch_list",
        "customers:data_quality",
    ):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("sales:order_import")).status_code == 403
    assert upload(client, b"name\nAnn\n").status_code == 403
    assert not ImportBatch.objects.exists()


def test_orders_and_products_pages_use_the_same_flow(client_for):
    client = client_for(Role.MANAGER)
    page = client.get(reverse("sales:order_import")).content.decode()
    assert (
        "order_external_id,customer_external_id,ordered_at,product_sku,quantity,unit_price" in page
    )
    response = upload(
        client, b"sku,name,unit_price\nS1,Spoon,2.50\n", "p.csv", "sales:product_import"
    )
    batch = ImportBatch.objects.get()
    assert batch.kind == "products" and batch.status == ImportStatus.READY
    assert "Spoon" in response.content.decode()


def test_progress_fragment_polls_then_asks_for_a_reload(client_for, users):
    client = client_for(Role.MANAGER)
    batch = ImportBatch.objects.create(
        kind="customers", original_name="x.csv", status=ImportStatus.PARSING, progress=40
    )
    url = reverse("customers:importbatch_progress", args=[batch.pk])
    response = client.get(url, headers={"HX-Request": "true"})  # what htmx sends
    assert 'hx-trigger="every 1s"' in response.content.decode()
    assert "HX-Refresh" not in response
    detail = client.get(batch.get_absolute_url()).content.decode()
    assert url in detail and 'value="40"' in detail
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.READY)
    assert client.get(url)["HX-Refresh"] == "true"


def test_batch_list_runs_a_constant_number_of_queries(
    client_for, users, django_assert_max_num_queries
):
    client = client_for(Role.MANAGER)
    ImportBatch.objects.bulk_create(
        ImportBatch(kind="customers", original_name=f"f{i}.csv", created_by=users[Role.MANAGER])
        for i in range(30)
    )
    with django_assert_max_num_queries(12):
        response = client.get(reverse("customers:importbatch_list"))
    assert response.content.decode().count("f2") >= 1


def test_data_quality_page_lists_problems_with_links(client_for, django_assert_max_num_queries):
    CustomerFactory(name="No Contact", email="", phone="")
    CustomerFactory(name="Bad Phone", phone="0415 555")
    twins = [CustomerFactory(name=f"Twin {i}", email="twin@example.com") for i in range(2)]
    for i in range(30):
        CustomerFactory(name=f"Filler {i}", email="", phone=f"+1415555{i:04d}")
    from tests.factories import OrderFactory

    empty = OrderFactory(customer=twins[0])
    client = client_for(Role.MANAGER)
    with django_assert_max_num_queries(30):
        page = client.get(reverse("customers:data_quality")).content.decode()
    assert "No Contact" in page and "Bad Phone" in page
    assert "twin%40example.com" in page  # link to the list filtered on the shared email
    assert empty.get_absolute_url() in page
    all_missing = client.get(reverse("customers:data_quality_check", args=["missing-email"]))
    assert all_missing.content.decode().count("Filler") == 30
    assert client.get(reverse("customers:data_quality_check", args=["nope"])).status_code == 404


def test_a_broker_outage_is_explained_on_the_batch_not_a_500(client_for, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("customers.import_tasks.import_preview_task.delay", refuse)
    response = upload(client_for(Role.MANAGER), b"name\nAnn\n")
    assert response.status_code == 200
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED
    assert "could not be reached" in response.content.decode()
