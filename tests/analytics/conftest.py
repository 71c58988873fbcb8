"""Fixtures for the analytics tests that need a database: the XS demo data."""

from datetime import date

import pytest

from analytics.demo.seed import seed_demo

END = date(2026, 6, 30)
AS_OF = "2026-06-30T23:00:00"


@pytest.fixture
def seeded(db):
    """The XS demo data (300 customers, 3,000 orders) ending on END."""
    return seed_demo(scale="XS", seed=42, end=END, log=lambda *a: None)
