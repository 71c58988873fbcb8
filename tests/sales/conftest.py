import pytest

from tests.sales.factories import make_pipeline


@pytest.fixture
def pipeline(db):
    return make_pipeline("New business")


@pytest.fixture
def other_pipeline(db):
    return make_pipeline(
        "Renewals", [("Due", 40, "open"), ("Renewed", 100, "won"), ("Churned", 0, "lost")]
    )
