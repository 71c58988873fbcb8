"""Customer rows for the CSV export, in the import's columns (DESIGN.md Contracts)."""

from __future__ import annotations

from collections.abc import Iterator

from crm import roles
from crm.exporting import CHUNK_ROWS, chunked
from crm.templatetags.crm_tags import age_band_of

from . import selectors
from .filters import CustomerFilter
from .importing import CUSTOMER_COLUMNS
from .models import Customer

_FIELDS = [
    "id",
    "external_id",
    "name",
    "kind",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "birth_date",
    "gender",
    "annual_income",
    "education",
    "organisation__external_id",
    "owner__username",
    "lifecycle_stage",
]
_BIRTH = _FIELDS.index("birth_date")
_INCOME = _FIELDS.index("annual_income")


def header_for(user) -> list[str]:
    """The import's columns; roles that may not see birth dates and incomes (DESIGN.md)
    get those blank and an `age_band` column at the end instead (the importer ignores it)."""
    if roles.may(user, "view_sensitive_fields"):
        return list(CUSTOMER_COLUMNS)
    return [*CUSTOMER_COLUMNS, "age_band"]


def export_customers(*, user, params) -> Iterator[list]:
    """The customers the user may see, filtered like the list page (`params` is its query
    string: search and every filter of CustomerFilter), one list per row; birth date and
    income are blank for roles that may not see them, which get the age band instead (see
    header_for). Tags are fetched once per chunk, never per row."""
    filterset = CustomerFilter(params, queryset=selectors.customer_list(user=user))
    qs = filterset.qs if filterset.is_valid() else filterset.queryset
    qs = qs.prefetch_related(None).order_by("id")
    sensitive = roles.may(user, "view_sensitive_fields")
    through = Customer.tags.through
    for batch in chunked(qs.values_list(*_FIELDS).iterator(chunk_size=CHUNK_ROWS)):
        ids = [row[0] for row in batch]
        tags: dict[int, list[str]] = {}
        for cid, name in (
            through.objects.filter(customer_id__in=ids)
            .order_by("tag__name")
            .values_list("customer_id", "tag__name")
        ):
            tags.setdefault(cid, []).append(name)
        for row in batch:
            out = list(row)
            extra = []
            if not sensitive:
                extra = [age_band_of(out[_BIRTH])]
                out[_BIRTH] = None
                out[_INCOME] = None
            yield [*out[1:], "|".join(tags.get(row[0], [])), *extra]


HEADER = CUSTOMER_COLUMNS
