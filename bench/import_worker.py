"""One import through the app's real import path, run as
`python -m bench.import_worker customers|orders FILE` with the app's settings against the
scratch database. Prints one JSON line: seconds, rows stored, which path was used; or
{"available": false, "reason": ...} when the importer does not exist yet.

The importer is the app's public entry point `customers.import_services.run_import(kind,
path, user, commit=True)`, the function the `import_csv` command and the Celery tasks use
(read, validate, write in one transaction, an undoable ImportBatch recorded); older
layouts (a `run_import` in customers/importing.py or sales/importing.py, or only the
`import_csv KIND FILE --commit` command) are still probed for."""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import time

MODULES = {
    "customers": ["customers.import_services", "customers.importing"],
    "orders": ["customers.import_services", "sales.importing", "customers.importing"],
}
# Parameter names the importer may use, and what each gets.
_ALIASES = {
    "kind": {"kind", "entity", "model", "what", "import_kind", "type"},
    "path": {"path", "file", "filename", "file_path", "source", "csv_path", "fileobj", "f"},
    "user": {"user", "by", "actor", "started_by", "created_by", "owner"},
    "commit": {"commit"},
}


def find_function(kind: str):
    for name in MODULES[kind]:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        func = getattr(module, "run_import", None)
        if callable(func):
            return f"{name}.run_import", func
    return None, None


def call_arguments(func, *, kind: str, path: str, user) -> tuple[list, dict]:
    """Map our four values onto the function's parameters by name; raise TypeError when a
    required parameter is not one we know."""
    values = {"kind": kind, "path": path, "user": user, "commit": True}
    args, kwargs = [], {}
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        role = next((r for r, names in _ALIASES.items() if param.name in names), None)
        if role is None:
            if param.default is param.empty:
                raise TypeError(
                    f"run_import needs {param.name!r}, which the benchmark cannot supply"
                )
            continue
        if param.kind == param.POSITIONAL_ONLY:
            args.append(values[role])
        else:
            kwargs[param.name] = values[role]
    return args, kwargs


def count_stored(kind: str) -> int:
    from django.db import connection

    table = "customers_customer" if kind == "customers" else "sales_orderline"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
        return cursor.fetchone()[0]


def main(kind: str, path: str) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command, get_commands

    user = get_user_model().objects.get(username="manager")
    via, func = find_function(kind)
    if func is not None:
        args, kwargs = call_arguments(func, kind=kind, path=path, user=user)
        started = time.perf_counter()
        result = func(*args, **kwargs)
        seconds = time.perf_counter() - started
    elif "import_csv" in get_commands():
        via = "manage.py import_csv --commit"
        started = time.perf_counter()
        call_command("import_csv", kind, path, "--commit")
        seconds = time.perf_counter() - started
        result = None
    else:
        modules = " or ".join(f"{m}.run_import" for m in MODULES[kind])
        return {"available": False, "reason": f"no {modules} and no import_csv command yet"}
    message = getattr(result, "message", "")
    if message:  # a file-level problem: nothing was written
        return {"available": True, "via": via, "error": f"import refused the file: {message}"}
    return {
        "available": True,
        "via": via,
        "rejected": getattr(result, "reject", None),
        "seconds": seconds,
        "rows_stored": count_stored(kind),
        "result": repr(result)[:300],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
