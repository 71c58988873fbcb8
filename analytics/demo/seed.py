"""Write the demo data: users, then every table in bulk, in one transaction."""

from __future__ import annotations

import time
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from crm.bulk import bulk_insert, reset_sequences
from crm.roles import Role
from customers import demo as customers_demo
from customers.models import Customer, CustomerMerge, Interaction, LifecycleChange, Need, Tag
from sales.demo import seed_sales
from sales.models import Order, OrderLine, Product
from sales.summaries import rebuild_all as rebuild_sales_summaries
from service.demo import seed_service
from service.models import Ticket

from ..models import AssociationRule, CustomerScore, CustomerSegment, Recommendation, Segment
from .generator import SCALES, generate

# (username, role, first name); the first four are the contract's demo users.
DEMO_USERS = [
    ("rep", Role.SALES_REP, "Riley"),
    ("agent", Role.SUPPORT_AGENT, "Alex"),
    ("manager", Role.MANAGER, "Morgan"),
    ("admin", Role.ADMIN, "Ada"),
    ("rep2", Role.SALES_REP, "Sam"),
    ("rep3", Role.SALES_REP, "李娜"),
    ("agent2", Role.SUPPORT_AGENT, "王伟"),
]

# Children before parents when clearing. The analytics results go too: they describe the
# data being replaced (PostgreSQL's TRUNCATE ... CASCADE would take them anyway).
SEEDED_MODELS = [
    Recommendation,
    AssociationRule,
    CustomerScore,
    CustomerSegment,
    Segment,
    CustomerMerge,
    LifecycleChange,
    Interaction,
    Need,
    Ticket,
    OrderLine,
    Order,
    Customer.tags.through,
    Customer,
    Tag,
    Product,
]


class AlreadySeeded(Exception):
    """The database holds customers already; seeding again needs reset=True."""


def ensure_demo_users() -> dict[str, int]:
    """Create (or update) the demo users with DEMO_PASSWORD; returns username -> id."""
    User = get_user_model()
    ids = {}
    for username, role, first_name in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = first_name
        user.email = f"{username}@example.com"
        user.is_active = True
        user.is_staff = role is Role.ADMIN
        user.is_superuser = role is Role.ADMIN
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get_or_create(name=role.value)[0]])
        ids[username] = user.pk
    return ids


def clear_demo_tables() -> None:
    # The audit trail of the replaced rows goes too: ids restart, and old history would
    # otherwise show on the new rows that reuse them.
    models = SEEDED_MODELS + [m.history.model for m in SEEDED_MODELS if hasattr(m, "history")]
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    else:
        for model in models:
            model._base_manager.all()._raw_delete(using="default")


@transaction.atomic
def seed_demo(
    *, scale: str, seed: int = 42, end: date, reset: bool = False, log=print
) -> dict[str, int]:
    """Fill the database with the demo data of a scale; returns the row counts written."""
    if Customer.objects.exists():
        if not reset:
            raise AlreadySeeded
        clear_demo_tables()
    user_ids = ensure_demo_users()
    reps = [user_ids[u] for u, role, _ in DEMO_USERS if role is Role.SALES_REP]
    agents = [user_ids[u] for u, role, _ in DEMO_USERS if role is Role.SUPPORT_AGENT]
    started = time.monotonic()
    data = generate(scale=SCALES[scale], seed=seed, end=end, rep_ids=reps, agent_ids=agents)
    log(f"generated in {time.monotonic() - started:.1f}s")
    counts = {}
    # No audit-trail rows for the demo data: it is a fixture load, not a user's change, and
    # at scale M (1M orders) history would double the load. bulk_insert writes history only
    # when asked (with_history=True), which nothing here does; the sales and service seeds
    # below use bulk_insert too.
    for model, df in [
        (Tag, data.tags),
        (Product, data.products),
        (Customer, data.customers),
        (Customer.tags.through, data.customer_tags),
        (Order, data.orders),
        (OrderLine, data.order_lines),
        (Ticket, data.tickets),
        (Interaction, data.interactions),
    ]:
        t0 = time.monotonic()
        counts[model._meta.label_lower] = bulk_insert(model, df)
        log(f"{model._meta.label_lower}: {len(df):,} rows in {time.monotonic() - t0:.1f}s")
    reset_sequences(
        Tag, Product, Customer, Customer.tags.through, Order, OrderLine, Ticket, Interaction
    )
    counts.update(seed_sales(data=data, user_ids=user_ids, rep_ids=reps, end=end, seed=seed))
    counts.update(customers_demo.write_demo(data=data, seed=seed))
    counts.update(seed_service(tickets=data.tickets, user_ids=user_ids, seed=seed))
    t0 = time.monotonic()
    rebuild_sales_summaries()  # the orders were copied in around the services
    log(f"sales report summaries in {time.monotonic() - t0:.1f}s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts
