"""Data-quality checks about customers (registered into crm.quality)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import roles
from crm.quality import QualityCheck, register_check

from .models import Customer, SimilarNamePair

# The stored forms the importer and forms write; anything else was typed in some other way.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"


def _customers(user):
    return roles.visible(user, Customer).only("id", "name", "email", "phone", "city").order_by("id")


def _customer_cells(c) -> list:
    return [c.name, c.email or "—", c.phone or "—", c.city]


def _search_link(value: str) -> str:
    return reverse("customers:customer_list") + "?" + urlencode({"q": value})


def _invalid(user):
    today = timezone.localdate()
    return _customers(user).filter(
        (~Q(email="") & ~Q(email__regex=EMAIL_PATTERN))
        | (~Q(phone="") & ~Q(phone__regex=PHONE_PATTERN))
        | (~Q(country="") & ~Q(country__regex=COUNTRY_PATTERN))
        | Q(birth_date__gt=today)
        | Q(birth_date__lt=date(1900, 1, 1))
        | Q(annual_income__lt=0)
    )


def _duplicates(user, field: str):
    return (
        roles.visible(user, Customer)
        .exclude(**{field: ""})
        .values(field)
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n", field)
    )


def _similar_names(user):
    visible = roles.visible(user, Customer)
    return (
        SimilarNamePair.objects.filter(first__in=visible, second__in=visible)
        .select_related("first", "second")
        .order_by("-similarity", "first_id", "second_id")
    )


def _merge_link(pair) -> str:
    return (
        reverse("customers:customer_merge")
        + "?"
        + urlencode({"a": pair.first_id, "b": pair.second_id})
    )


def register_customer_checks() -> None:
    headers = (_("Name"), _("Email"), _("Phone"), _("City"))
    register_check(
        QualityCheck(
            key="no-contact",
            title=_("Customers without email or phone"),
            description=_("Nobody can reach these customers: add an email or a phone number."),
            rows=lambda user: _customers(user).filter(email="", phone=""),
            headers=headers,
            cells=_customer_cells,
            order=10,
        )
    )
    register_check(
        QualityCheck(
            key="missing-email",
            title=_("Customers missing an email"),
            description=_("They have a phone number but no email address."),
            rows=lambda user: _customers(user).filter(email="").exclude(phone=""),
            headers=headers,
            cells=_customer_cells,
            order=11,
        )
    )
    register_check(
        QualityCheck(
            key="missing-phone",
            title=_("Customers missing a phone"),
            description=_("They have an email address but no phone number."),
            rows=lambda user: _customers(user).filter(phone="").exclude(email=""),
            headers=headers,
            cells=_customer_cells,
            order=12,
        )
    )
    register_check(
        QualityCheck(
            key="invalid-values",
            title=_("Customers with invalid values"),
            description=_(
                "An email or phone not in its stored form (E.164 for phones), a country "
                "that is not a two-letter code, a birth date in the future or before 1900, "
                "or a negative income."
            ),
            rows=_invalid,
            headers=headers,
            cells=_customer_cells,
            order=20,
        )
    )
    for key, field, title, order in (
        ("duplicate-email", "email", _("Likely duplicates: same email"), 30),
        ("duplicate-phone", "phone", _("Likely duplicates: same phone"), 31),
    ):
        register_check(
            QualityCheck(
                key=key,
                title=title,
                description=_(
                    "Several customers share this value; open the list to compare and merge them."
                ),
                rows=lambda user, field=field: _duplicates(user, field),
                headers=(_("Value"), _("Customers")),
                cells=lambda row, field=field: [row[field], row["n"]],
                link=lambda row, field=field: _search_link(row[field]),
                order=order,
            )
        )
    register_check(
        QualityCheck(
            key="duplicate-similar-name",
            title=_("Likely duplicates: very similar name in the same city"),
            description=_(
                "Pairs found by the nightly comparison of names (for example a typo in one "
                "letter); compare the two and merge them."
            ),
            rows=_similar_names,
            headers=(_("Name"), _("Similar name"), _("City"), _("Similarity")),
            cells=lambda p: [p.first.name, p.second.name, p.first.city, f"{p.similarity:.0%}"],
            link=_merge_link,
            order=32,
        )
    )
