"""The OpenAPI schema and the docs: served without a login, valid, complete, offline."""

import pytest
import yaml
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_schema_is_served_valid_and_lists_every_resource():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    paths = schema["paths"]
    for resource in (
        "customers",
        "interactions",
        "needs",
        "orders",
        "products",
        "tags",
        "tickets",
        "users",
    ):
        assert f"/api/v1/{resource}/" in paths
    assert "/api/v1/customers/by-external-id/{key}/" in paths
    assert "/api/v1/products/by-sku/{key}/" in paths
    assert "/api/v1/orders/bulk/" in paths
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    detail = paths["/api/v1/tickets/{id}/"]["get"]["responses"]
    assert {"200", "401", "403", "404", "429"} <= set(detail)
    bulk = paths["/api/v1/customers/bulk/"]["post"]
    assert bulk["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_load_their_assets_from_this_server(url):
    response = Client().get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "<script>" not in html.replace(" ", "")
