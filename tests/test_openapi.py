"""Meta-tests: every route documents itself (summary, response model, declared errors)."""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from app.config import Settings
from app.core.errors import PROBLEM_MEDIA_TYPE
from app.main import create_app


def _app_routes() -> list[Any]:
    """Every API route as the app serves it: with what its router's inclusion adds (the
    dependencies and declared errors). FastAPI >= 0.16x keeps included routers whole in
    ``app.routes``, so a plain ``isinstance(route, APIRoute)`` filter there finds none."""
    app = create_app(Settings(database_url="sqlite://", demo=False, migrate_on_start=False))
    routes = [
        c
        for c in iter_route_contexts(app.routes)
        # Left out of the document on purpose: a 405 for a path that fits a wider template
        # (PATCH /v1/events/diff), tested in tests/system/test_bad_inputs.py.
        if isinstance(c.original_route, APIRoute) and c.original_route.include_in_schema
    ]
    assert len(routes) >= 40, "the meta-tests must see the routes"
    return routes


def test_every_route_has_summary_description_response_model_and_errors() -> None:
    for route in _app_routes():
        where = f"{sorted(route.methods)} {route.path}"
        assert route.summary, where
        assert route.description, where
        assert route.response_model is not None, where
        declared = set(route.responses)
        assert 503 in declared, where
        if route.path.startswith("/v1"):
            assert 422 in declared, where
        if "{" in route.path:
            assert 404 in declared, where


def test_every_route_taking_a_body_declares_malformed_json() -> None:
    """A body that does not parse is a 400: every route reading one says so."""
    body_routes = [r for r in _app_routes() if "requestBody" in (r.openapi_extra or {})]
    assert len(body_routes) >= 15
    for route in body_routes:
        assert 400 in route.responses, f"{sorted(route.methods)} {route.path}"


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


def test_every_pattern_a_request_is_held_to_is_declared_with_words() -> None:
    """A value refused by a pattern is told what is expected in words (app.core.fields.Pattern),
    never the regular expression; the expressions stay in the document for its readers."""
    from app.core.fields import PATTERN_WORDS

    app = create_app(Settings(database_url="sqlite://", demo=False, migrate_on_start=False))
    doc = app.openapi()
    found = _patterns(doc["components"]["schemas"])
    for item in doc["paths"].values():
        for op in item.values():
            # Headers are read by the routes themselves, which word their own refusals
            # (If-Match: app.core.etag; Idempotency-Key: app.idempotency).
            params = [p for p in op.get("parameters", []) if p["in"] != "header"]
            found += _patterns(params)
    assert len(set(found)) >= 7  # blank, URL, language, two country spellings, bbox, near
    for pattern in found:
        assert pattern in PATTERN_WORDS, pattern


def test_routes_are_plural_nouns_under_v1() -> None:
    for route in _app_routes():
        if route.path == "/healthz":
            continue
        assert route.path.startswith("/v1/"), route.path


def test_openapi_document_describes_the_report_body(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    post = doc["paths"]["/v1/reports"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[-1]
    schema = doc["components"]["schemas"][name]
    assert {"article", "quotes", "events"} <= set(schema["properties"])
    # Every $ref in the document resolves.
    import json

    text = json.dumps(doc)
    for piece in text.split('"$ref": "#/components/schemas/')[1:]:
        target = piece.split('"', 1)[0]
        assert target in doc["components"]["schemas"], target
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                assert param.get("description"), (method, path, param["name"])
                schema = param.get("schema", {})
                assert {"example", "examples"} & (set(param) | set(schema)), (
                    "no example",
                    method,
                    path,
                    param["name"],
                )


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()


def test_405_names_every_method_the_path_has(client: TestClient) -> None:
    response = client.put("/v1/events/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    assert client.delete("/v1/events").headers["allow"] == "GET"


def test_security_schemes_say_which_scope_each_operation_needs(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    paths = doc["paths"]
    # The write scopes by job (issue 11): ingest posts reports, curate edits.
    ingest = [{"bearer": ["ingest"]}, {"apiKey": ["ingest"]}]
    curate = [{"bearer": ["curate"]}, {"apiKey": ["curate"]}]
    assert paths["/v1/reports"]["post"]["security"] == ingest
    assert paths["/v1/events/{event_id}"]["patch"]["security"] == curate
    assert paths["/v1/keys"]["get"]["security"] == [{"bearer": ["admin"]}, {"apiKey": ["admin"]}]
    # Reads are open by default: a key is optional ({} is "no credentials").
    assert paths["/v1/events"]["get"]["security"] == [{}, {"bearer": []}, {"apiKey": []}]
    # Every operation under /v1 says something about keys.
    for path, item in paths.items():
        if path.startswith("/v1/"):
            for method, op in item.items():
                assert "security" in op, (method, path)


def test_every_id_in_every_path_is_canonical(database_url: str) -> None:
    """One id type for every route: each ``{..._id}`` refuses "01", "+1" and "1.0" (422 naming
    that parameter), so one record has one URL, whatever the route and method."""
    import re

    from tests.conftest import make_key

    key = make_key(database_url, ["read", "write", "admin"])
    app = create_app(
        Settings(
            database_url=database_url,
            environment="test",
            demo=False,
            migrate_on_start=False,
            rate_limit_per_minute=0,
        )
    )
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        checked = 0
        for route in _app_routes():
            names = re.findall(r"{(\w+)}", route.path)
            for name in names:
                assert name.endswith("_id"), f"{route.path}: a path parameter that is no id"
                for bad in ("01", "+1", "1.0"):
                    path = route.path
                    for other in names:
                        path = path.replace(f"{{{other}}}", bad if other == name else "1")
                    for method in sorted(route.methods):
                        response = client.request(method, path)
                        where = f"{method} {path}"
                        assert response.status_code == 422, where
                        locs = [e["loc"] for e in response.json().get("errors", [])]
                        assert ["path", name] in locs, where
                        checked += 1
        assert checked >= 3 * 20


# -- the document, operation by operation -------------------------------------------------------

PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
# What a route's own code reads (routes read these headers themselves and hand the values to
# services): Idempotency-Key through app.idempotency.service.from_request, If-Match as
# request.headers.get(etag.HEADER), the body through app.core.bodies.
READS_HEADER = {"Idempotency-Key": "idempotency.from_request(", "If-Match": "etag.HEADER"}
READS_BODY = ("read_body(", "parse_body(")


def _document() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://", demo=False, migrate_on_start=False))
    return app.openapi()


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_problem_responses_are_application_problem_json_only() -> None:
    """Every error response of every operation is a Problem, under application/problem+json
    (what the handlers send), not under application/json."""
    doc = _document()
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    checked = 0
    for method, path, operation in _operations(doc):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response.get("content") == PROBLEM_CONTENT, (method, path, status)
                checked += 1
    assert checked >= 200


def test_only_operations_that_read_a_body_declare_one_and_its_413_and_415() -> None:
    doc = _document()
    for route in _app_routes():
        source = inspect.getsource(route.original_route.endpoint)
        reads_body = any(call in source for call in READS_BODY)
        for method in route.methods:
            operation = doc["paths"][route.path][method.lower()]
            where = (method, route.path)
            assert ("requestBody" in operation) == reads_body, where
            assert ("413" in operation["responses"]) == reads_body, where
            assert ("415" in operation["responses"]) == reads_body, where
    for method, path, operation in _operations(doc):
        if method == "GET":
            assert "415" not in operation["responses"], path


def test_idempotency_key_and_if_match_are_declared_where_a_route_reads_them() -> None:
    doc = _document()
    seen = dict.fromkeys(READS_HEADER, 0)
    for route in _app_routes():
        source = inspect.getsource(route.original_route.endpoint)
        for method in route.methods:
            operation = doc["paths"][route.path][method.lower()]
            headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
            for header, call in READS_HEADER.items():
                where = (method, route.path, header)
                assert (header in headers) == (call in source), where
                if header in headers:
                    seen[header] += 1
                    assert headers[header]["schema"]["type"] == "string", where
            if "If-Match" in headers:
                assert "412" in operation["responses"], (method, route.path)
                if headers["If-Match"]["required"]:
                    assert "428" in operation["responses"], (method, route.path)
            if "Idempotency-Key" in headers:
                assert not headers["Idempotency-Key"]["required"], (method, route.path)
                assert method == "POST", route.path
    assert seen["Idempotency-Key"] >= 8 and seen["If-Match"] >= 15, seen


def test_info_version_is_the_package_version() -> None:
    assert _document()["info"]["version"] == importlib.metadata.version("conflictdb")
