"""The OpenAPI document and the URL map describe the same API, route for route, and
the document is a valid OpenAPI 3.1 description (schemathesis can load every operation)."""

from __future__ import annotations

import re

from webapp.api.operations import OPERATIONS

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes_in_url_map(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(method, path) for method in rule.methods - IGNORED_METHODS}
    return routes


def _routes_in_document(document) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_every_api_route_is_documented_and_every_documented_route_exists(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    in_map, in_doc = _routes_in_url_map(app), _routes_in_document(document)
    assert in_map - in_doc == set(), "routes missing from the OpenAPI document"
    assert in_doc - in_map == set(), "documented routes that do not exist"
    assert len(in_doc) == len(OPERATIONS) >= 50


def test_every_operation_has_an_id_a_scope_and_error_responses(client):
    document = client.get("/api/v1/openapi.json").get_json()
    ids = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            if path != "/api/v1/openapi.json":
                assert op.get("x-required-scope"), f"{method} {path} names no scope"
                assert {"401", "403", "429"} <= set(op["responses"]), f"{method} {path}"
            if "requestBody" in op:
                assert {"400", "422"} <= set(op["responses"]), f"{method} {path}"
    assert len(ids) == len(set(ids))


def test_schemathesis_loads_every_operation(client):
    import schemathesis

    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    results = list(schema.get_all_operations())
    errors = [r.err() for r in results if not hasattr(r, "ok")]
    assert errors == [] and len(results) == len(OPERATIONS)


def test_request_bodies_are_checked_by_the_published_schema(client, admin_headers):
    """One source of truth: a field the document does not list is refused, with its name."""
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["paths"]["/api/v1/customers"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False and "name" in schema["required"]
    response = client.post("/api/v1/customers", headers=admin_headers, json={"name": "A", "colour": "red"})
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "colour"
