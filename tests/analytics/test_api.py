"""The analytics results through the API: read only, scoped like the customer page's panels,
with sensitive churn drivers hidden from reps."""

import pytest

from analytics.models import CustomerScore
from crm.roles import Role
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

DRIVERS = [
    {"feature": "recency_days", "value": 120.0, "effect": 0.3},
    {"feature": "income", "value": 85000.0, "effect": 0.1},
    {"feature": "age", "value": 47.0, "effect": 0.05},
]


def test_reps_never_see_sensitive_driver_values(api_for, users):
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    CustomerScore.objects.create(customer=customer, churn_probability=0.8, churn_drivers=DRIVERS)
    rep = api_for(Role.SALES_REP).get(f"/api/v1/scores/{customer.pk}/").json()
    assert rep["churn_drivers"] == [
        {"feature": "recency_days", "value": 120.0, "effect": 0.3},
        {"feature": "income", "effect": 0.1},
        {"feature": "age", "effect": 0.05},
    ]
    assert "85000" not in str(api_for(Role.SALES_REP).get("/api/v1/scores/").content)
    manager = api_for(Role.MANAGER).get(f"/api/v1/scores/{customer.pk}/").json()
    assert manager["churn_drivers"] == DRIVERS


def test_scores_order_by_risk_across_pages_with_unscored_last(api_for):
    risks = [0.9, None, 0.1, 0.5, None]
    for risk in risks:
        CustomerScore.objects.create(customer=CustomerFactory(), churn_probability=risk)
    client = api_for(Role.MANAGER)
    seen = []
    url, params = "/api/v1/scores/", {"ordering": "-churn_risk", "page_size": 2}
    while url:
        page = client.get(url, params).json()
        seen += [row["churn_probability"] for row in page["results"]]
        url, params = page["next"], None
    assert seen == [0.9, 0.5, 0.1, None, None]


def test_score_list_runs_a_constant_number_of_queries(api_for, django_assert_max_num_queries):
    for _ in range(30):
        CustomerScore.objects.create(customer=CustomerFactory(), churn_probability=0.3)
    client = api_for(Role.MANAGER)
    client.get("/api/v1/scores/")
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/scores/", {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_the_customer_pages_churn_drivers_hide_income_from_reps(client_for, users):
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    CustomerScore.objects.create(customer=customer, churn_probability=0.8, churn_drivers=DRIVERS)
    rep_page = client_for(Role.SALES_REP).get(f"/customers/{customer.pk}/").content.decode()
    assert "Days since last order: 120" in rep_page
    assert "85000" not in rep_page and "Annual income" in rep_page
    manager_page = client_for(Role.MANAGER).get(f"/customers/{customer.pk}/").content.decode()
    assert "Annual income: 85000" in manager_page
