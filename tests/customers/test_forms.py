"""Creating and editing customers through the pages: validation, duplicates, role-shaped
forms. Every bad input gives a message at its field and saves nothing."""

import pytest
from django.urls import reverse, reverse_lazy

from crm.roles import Role
from customers.models import Customer, LifecycleChange, Tag
from tests.customers.factories import OrganisationFactory
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

CREATE = reverse_lazy("customers:customer_create")  # not at import: the URLconf loads later


def person(**overrides):
    data = {
        "kind": "person",
        "name": "Ada Lovelace",
        "email": "  Ada@Example.COM ",
        "phone": "(415) 555-0134",
        "city": "London",
        "country": "us",
        "lifecycle_stage": "lead",
        "source": "web",
        "tag_names": "",
    }
    data.update(overrides)
    return data


def test_rep_creates_a_person_with_clean_contact_data_and_owns_it(client_for, users):
    client = client_for(Role.SALES_REP)
    response = client.post(CREATE, person())
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert customer.email == "ada@example.com"
    assert customer.phone == "+14155550134"
    assert customer.country == "US"
    assert customer.owner == users[Role.SALES_REP]
    change = LifecycleChange.objects.get(customer=customer)
    assert (change.from_stage, change.to_stage) == ("", "lead")
    assert change.changed_by == users[Role.SALES_REP]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12345", "is not a valid phone number"),
        ("phone", "call me maybe", "is not a phone number"),
        ("email", "ada@", "Enter a valid email address"),
        ("name", "   ", "Enter a name"),
        ("country", "G1", "two-letter country code"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_saved(client_for, field, value, message):
    response = client_for(Role.SALES_REP).post(CREATE, person(**{field: value}))
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert message in response.content.decode()
    assert Customer.objects.count() == 0
    assert LifecycleChange.objects.count() == 0


def test_consent_needs_how_it_was_given_and_is_stamped_with_when(client_for):
    client = client_for(Role.SALES_REP)
    response = client.post(CREATE, person(marketing_consent="on"))
    assert "Say how the customer gave consent" in " ".join(
        response.context["form"].errors["consent_method"]
    )
    assert Customer.objects.count() == 0
    client.post(CREATE, person(marketing_consent="on", consent_method="phone"))
    customer = Customer.objects.get()
    assert customer.marketing_consent and customer.consent_method == "phone"
    assert customer.consent_at is not None


def test_duplicate_email_or_phone_warns_until_overridden(client_for):
    existing = CustomerFactory(email="ada@example.com", phone="+442079460000")
    client = client_for(Role.SALES_REP)
    response = client.post(CREATE, person(phone=""))
    assert response.status_code == 200
    assert response.context["form"].duplicates == [existing]
    assert existing.get_absolute_url() in response.content.decode()
    assert Customer.objects.count() == 1
    # The same phone in another notation is the same phone.
    response = client.post(CREATE, person(email="", phone="020 7946 0000", country="GB"))
    assert response.status_code == 200 and response.context["form"].duplicates == [existing]
    response = client.post(CREATE, person(allow_duplicate="on"))
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_organisation_and_its_contact_person(client_for):
    client = client_for(Role.MANAGER)
    response = client.post(
        CREATE,
        {
            "kind": "organisation",
            "name": "Acme Ltd",
            "industry": "Tools",
            "size": "40",
            "website": "acme.example",
            "lifecycle_stage": "prospect",
        },
    )
    org = Customer.objects.get(name="Acme Ltd")
    assert response.status_code == 302 and org.is_organisation
    assert org.website == "https://acme.example"
    page = client.get(CREATE + f"?organisation={org.pk}")
    assert page.context["form"].initial["organisation_ref"] == f"Acme Ltd (#{org.pk})"
    client.post(CREATE, person(organisation_ref=f"Acme Ltd (#{org.pk})", name="Wile Coyote"))
    contact = Customer.objects.get(name="Wile Coyote")
    assert contact.organisation == org
    detail = client.get(org.get_absolute_url())
    assert "Wile Coyote" in detail.content.decode()


def test_unknown_organisation_is_a_field_error(client_for):
    OrganisationFactory(name="Acme Ltd")
    response = client_for(Role.SALES_REP).post(CREATE, person(organisation_ref="Acne"))
    assert "No organisation is called" in " ".join(
        response.context["form"].errors["organisation_ref"]
    )


def test_organisation_options_for_the_datalist(client_for):
    org = OrganisationFactory(name="Acme Ltd", city="Springfield")
    CustomerFactory(name="Acme Person")  # a person never shows up
    response = client_for(Role.SALES_REP).get(
        reverse("customers:organisation_options"), {"organisation_ref": "acm"}
    )
    body = response.content.decode()
    assert f"Acme Ltd (#{org.pk})" in body and "Acme Person" not in body


def test_reps_use_existing_tags_and_managers_create_new_ones(client_for):
    TagFactory(name="vip")
    response = client_for(Role.SALES_REP).post(CREATE, person(tag_names="VIP, brand-new"))
    assert "Unknown tags: brand-new" in " ".join(response.context["form"].errors["tag_names"])
    assert Customer.objects.count() == 0
    client_for(Role.MANAGER).post(CREATE, person(tag_names="VIP, brand-new"))
    customer = Customer.objects.get()
    assert sorted(customer.tags.values_list("name", flat=True)) == ["brand-new", "vip"]
    assert Tag.objects.count() == 2


def test_sensitive_fields_and_owner_only_in_the_managers_form(client_for):
    rep_form = client_for(Role.SALES_REP).get(CREATE).context["form"]
    assert not {"birth_date", "annual_income", "owner"} & set(rep_form.fields)
    manager_form = client_for(Role.MANAGER).get(CREATE).context["form"]
    assert {"birth_date", "annual_income", "owner"} <= set(manager_form.fields)


def test_edit_changes_stage_with_history(client_for, users):
    customer = CustomerFactory(owner=users[Role.SALES_REP], lifecycle_stage="lead")
    client = client_for(Role.SALES_REP)
    url = reverse("customers:customer_update", args=[customer.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(lifecycle_stage="prospect", phone="+14155550199", tag_names="")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    customer.refresh_from_db()
    assert customer.lifecycle_stage == "prospect"
    change = LifecycleChange.objects.get(customer=customer)
    assert (change.from_stage, change.to_stage) == ("lead", "prospect")
    assert change.changed_at == customer.lifecycle_changed_at


def test_agent_changes_contact_details_only(client_for):
    customer = CustomerFactory(name="Keep Me", lifecycle_stage="lead")
    client = client_for(Role.SUPPORT_AGENT)
    url = reverse("customers:customer_update", args=[customer.pk])
    form = client.get(url).context["form"]
    assert "name" not in form.fields and "lifecycle_stage" not in form.fields
    response = client.post(
        url,
        {
            "name": "Hacked",
            "lifecycle_stage": "former",
            "email": "NEW@example.com",
            "phone": "+1 415 555 0100",
            "city": "Oakland",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.lifecycle_stage) == ("Keep Me", "lead")
    assert (customer.email, customer.phone, customer.city) == (
        "new@example.com",
        "+14155550100",
        "Oakland",
    )
    bad = client.post(url, {"email": "nope", "phone": ""})
    assert "valid email address" in " ".join(bad.context["form"].errors["email"])
