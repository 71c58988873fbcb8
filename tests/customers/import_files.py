"""Builders of CSV import files for the tests."""

import csv
import io

from customers.importing import CUSTOMER_COLUMNS


def customer_row(**values) -> dict:
    row = dict.fromkeys(CUSTOMER_COLUMNS, "")
    row.update(values)
    return row


def to_csv(rows, columns=CUSTOMER_COLUMNS, *, delimiter=",", extra_lines=()) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue() + "".join(extra_lines)
