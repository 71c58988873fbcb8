"""In-process probe of the pages, run as `python -m bench.probe` with the app's settings:
fills the path placeholders from the data, checks which URLs resolve, and counts the
queries of one request to each page (Django's test client, after one warm-up request).
Prints JSON {page name: {...}} on stdout."""

from __future__ import annotations

import json
import sys
from urllib.parse import quote, urlsplit


def placeholders(connection) -> dict[str, str]:
    """Values for the `{name}`s in page paths; a missing one leaves its pages N/A."""
    found: dict[str, str] = {}
    queries = {
        # The customer with the longest history: most interactions, orders and tickets.
        "customer_id": """
            SELECT customer_id FROM (
                SELECT customer_id FROM customers_interaction
                UNION ALL SELECT customer_id FROM sales_order
                UNION ALL SELECT customer_id FROM service_ticket
            ) AS history GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1
        """,
        "order_id": """
            SELECT order_id FROM sales_orderline GROUP BY order_id
            ORDER BY count(*) DESC, order_id DESC LIMIT 1
        """,
        "ticket_id": "SELECT id FROM service_ticket ORDER BY id DESC LIMIT 1",
    }
    for key, sql in queries.items():
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                row = cursor.fetchone()
        except Exception:  # a table that does not exist yet: its pages are N/A
            row = None
        if row:
            found[key] = str(row[0])
    if "customer_id" in found:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM customers_customer WHERE id = %s", [found["customer_id"]]
            )
            # A rep looking for a customer types their name.
            found["search_term"] = quote(cursor.fetchone()[0])
    return found


def probe(pages: list[dict]) -> dict[str, dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import Resolver404, resolve

    values = placeholders(connection)
    users = {u.username: u for u in get_user_model().objects.filter(is_active=True)}
    out: dict[str, dict] = {}
    for page in pages:
        name = page["name"]
        try:
            path = page["path"].format(**values)
        except KeyError as exc:
            out[name] = {"resolves": False, "reason": f"no data for {exc.args[0]}"}
            continue
        try:
            resolve(urlsplit(path).path)
        except Resolver404:
            out[name] = {"resolves": False, "reason": f"{urlsplit(path).path} does not resolve yet"}
            continue
        user = users.get(page["user"])
        if user is None:
            out[name] = {"resolves": False, "reason": f"no user {page['user']!r} (run seed_demo)"}
            continue
        client = Client(raise_request_exception=False)
        client.force_login(user)
        client.get(path)  # warm-up: first-use caches (content types, templates)
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(path)
        out[name] = {
            "resolves": True,
            "path": path,
            "status": resp.status_code,
            "queries": len(ctx.captured_queries),
            "bytes": len(resp.content),
        }
    return out


def main() -> None:
    import django

    django.setup()
    from bench.pages import PAGES

    json.dump(probe(PAGES), sys.stdout)


if __name__ == "__main__":
    main()
