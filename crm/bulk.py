"""Bulk writes of pandas DataFrames into model tables, for the demo generator and the
importers: PostgreSQL COPY (one round trip per chunk, no per-row SQL), SQLite executemany.

Columns are the table's database column names. Datetime columns must be time-zone aware
(UTC); Decimal-like columns are written as given (strings or numbers).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from django.core.management.color import no_style
from django.db import connection

# Rows per COPY chunk: about 100 bytes a row, so a chunk's CSV text stays near 50 MB.
COPY_CHUNK_ROWS = 500_000


def _prepare(df: pd.DataFrame, vendor: str) -> pd.DataFrame:
    """Turn datetimes, dates and booleans into the text each database reads back exactly."""
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            utc = col.dt.tz_convert("UTC")
            if vendor == "postgresql":
                # numpy's ISO text ("2025-03-31T14:05:00.000000", which PostgreSQL reads)
                # takes half the time of strftime on a million rows.
                naive = utc.dt.tz_localize(None).to_numpy().astype("datetime64[us]")
                text = pd.Series(np.datetime_as_string(naive, unit="us"), index=col.index)
                out[name] = (text.astype(object) + "+00:00").where(col.notna(), None)
            else:
                fmt = "%Y-%m-%d %H:%M:%S.%f"
                out[name] = utc.dt.strftime(fmt).astype(object).where(col.notna(), None)
        elif pd.api.types.is_datetime64_any_dtype(col.dtype):
            raise ValueError(f"column {name!r} holds naive datetimes; localise them to UTC first")
        elif pd.api.types.is_bool_dtype(col.dtype):
            out[name] = (
                col.map({True: "t", False: "f"}) if vendor == "postgresql" else col.astype(int)
            )
    return out


def bulk_insert(
    model,
    df: pd.DataFrame,
    *,
    table: str | None = None,
    with_history: bool = False,
    history_user_id=None,
    history_reason="",
) -> int:
    """Insert every row of `df` into the model's table (or `table`, a staging table shaped
    like it); returns the row count.

    With `with_history`, for an audited model (django-simple-history) the "created" history
    rows are written in the same way. It is off by default: the demo data is a fixture
    load, not a user's change, and the importers record their history with one set-based
    statement (crm.history.record_snapshot).
    """
    if df.empty:
        return 0
    history = getattr(model, "history", None)
    if with_history and table is None and history is not None and hasattr(history, "model"):
        _insert_history(history.model, df, user_id=history_user_id, reason=history_reason)
    table = table or model._meta.db_table
    vendor = connection.vendor
    data = _prepare(df, vendor)
    cols = list(data.columns)
    quoted = ", ".join(connection.ops.quote_name(c) for c in cols)
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            sql = f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            raw = cursor.cursor  # the psycopg2 cursor under Django's wrapper
            for start in range(0, len(data), COPY_CHUNK_ROWS):
                buf = io.StringIO()
                data.iloc[start : start + COPY_CHUNK_ROWS].to_csv(
                    buf, index=False, header=False, na_rep="\\N"
                )
                buf.seek(0)
                raw.copy_expert(sql, buf)
        else:
            placeholders = ", ".join(["%s"] * len(cols))
            sql = (
                # Table and column names come from model metadata, quoted by the backend;
                # values travel as parameters.
                f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({placeholders})"  # nosec B608
            )
            obj = data.astype(object).where(data.notna(), None)
            rows = [
                tuple(v.item() if isinstance(v, np.generic) else v for v in row)
                for row in obj.itertuples(index=False, name=None)
            ]
            cursor.executemany(sql, rows)
    return len(data)


def _insert_history(historical_model, df: pd.DataFrame, *, user_id, reason) -> None:
    columns = {f.column for f in historical_model._meta.concrete_fields}
    hist = df[[c for c in df.columns if c in columns]].copy()
    now = pd.Timestamp.now(tz="UTC")
    if "created_at" in df.columns and isinstance(df["created_at"].dtype, pd.DatetimeTZDtype):
        hist["history_date"] = df["created_at"].fillna(now)
    else:
        hist["history_date"] = now
    hist["history_type"] = "+"
    hist["history_change_reason"] = reason or None
    hist["history_user_id"] = user_id
    bulk_insert(historical_model, hist)


def reset_sequences(*models) -> None:
    """After inserting explicit ids, move each table's id sequence past the largest id."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
