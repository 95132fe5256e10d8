"""CORS (off by default, configured origins only), the OpenAPI description of GET /v1/events,
and SQLite's math functions for `near` on builds without them."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.config import Settings
from app.db import dialect
from app.main import create_app

DASHBOARD = "https://dash.example.org"


@pytest.fixture
def cors_client(settings: Settings, write_key: str) -> Iterator[TestClient]:
    configured = settings.model_copy(
        update={"cors_allow_origins": [DASHBOARD, "http://localhost:3000"]}
    )
    with TestClient(create_app(configured)) as client:
        yield client


def test_cors_preflight(cors_client: TestClient) -> None:
    response = cors_client.options(
        "/v1/events",
        headers={
            "Origin": DASHBOARD,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, accept",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert "GET" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "accept" in allowed
    assert "access-control-allow-credentials" not in response.headers

    other = cors_client.options(
        "/v1/events",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


def test_cors_simple_request_exposes_the_headers_scripts_need(cors_client: TestClient) -> None:
    response = cors_client.get("/v1/events", headers={"Origin": DASHBOARD})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "link", "ratelimit", "ratelimit-policy", "content-disposition"} <= exposed
    assert "origin" in response.headers["vary"].lower()
    # A problem answer carries them too.
    bad = cors_client.get("/v1/events", params={"colour": "red"}, headers={"Origin": DASHBOARD})
    assert bad.status_code == 422
    assert bad.headers["access-control-allow-origin"] == DASHBOARD
    # Another origin gets no CORS headers (the browser then withholds the answer).
    other = cors_client.get("/v1/events", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_cors_is_off_by_default(client: TestClient) -> None:
    assert Settings(database_url="sqlite://").cors_allow_origins == []
    response = client.get("/v1/events", headers={"Origin": DASHBOARD})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/v1/events", headers={"Origin": DASHBOARD, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_origins_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFLICTDB_CORS_ALLOW_ORIGINS", f"{DASHBOARD}, http://localhost:3000")
    assert Settings().cors_allow_origins == [DASHBOARD, "http://localhost:3000"]
    monkeypatch.setenv("CONFLICTDB_CORS_ALLOW_ORIGINS", "*")
    assert Settings().cors_allow_origins == ["*"]
    # With a path or a trailing slash an origin never matches a browser's Origin header.
    monkeypatch.setenv("CONFLICTDB_CORS_ALLOW_ORIGINS", f"{DASHBOARD}/")
    with pytest.raises(ValidationError, match="scheme://host"):
        Settings()


# -- the OpenAPI document ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def operation() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://", demo=False, migrate_on_start=False))
    doc = app.openapi()
    op: dict[str, Any] = doc["paths"]["/v1/events"]["get"]
    op["_components"] = doc["components"]["schemas"]
    return op


def test_every_list_parameter_has_a_description_and_an_example(operation: dict[str, Any]) -> None:
    names = set()
    for param in operation["parameters"]:
        names.add(param["name"])
        assert param.get("description"), param["name"]
        assert param["schema"].get("examples") or param.get("example"), param["name"]
    assert {
        "date_from",
        "date_to",
        "event_type",
        "sub_event_type",
        "place",
        "country",
        "bbox",
        "near",
        "actor",
        "include_affiliates",
        "side",
        "outlet",
        "fatalities_min",
        "fatalities_max",
        "sources_min",
        "outlets_min",
        "disputed",
        "evidence",
        "incident",
        "count",
        "geo_precision",
        "updated_since",
        "q",
        "include_retracted",
        "sort",
        "limit",
        "cursor",
        "total",
        "fields",
        "include",
        "format",
        # issue 12
        "id",
        "actor_kind",
        "interaction",
        "date_precision",
        "dimension",
        "as_of",
        "date_overlap",
    } == names


def test_list_declares_its_media_types_and_the_406(operation: dict[str, Any]) -> None:
    ok = operation["responses"]["200"]["content"]
    assert set(ok) == {
        "application/json",
        "text/csv",
        "application/geo+json",
        "application/x-ndjson",
    }
    assert ok["application/json"]["schema"]["$ref"].endswith("/Page_EventRead_")
    assert (
        operation["responses"]["406"]["content"]
        == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        or "application/problem+json" in operation["responses"]["406"]["content"]
    )
    assert {"422", "503"} <= set(operation["responses"])
    sort = next(p for p in operation["parameters"] if p["name"] == "sort")
    assert sort["schema"]["enum"] == [
        "date_start",
        "-date_start",
        "fatalities_best",
        "-fatalities_best",
        "id",
        "-id",
    ]


def test_eventread_requires_only_id(operation: dict[str, Any]) -> None:
    """`fields=` may drop any column but id: the schema must not promise the others."""
    schemas = operation["_components"]
    for name, schema in schemas.items():
        if name.startswith("EventRead"):
            assert schema["required"] == ["id"], name
            assert {"actors", "sources", "latitude", "summary"} <= set(schema["properties"])


# -- SQLite math -------------------------------------------------------------------------------


def test_registered_math_functions_match_sqlites_own() -> None:
    """Builds of SQLite without math functions get Python's (deterministic) in the connect
    hook; they must answer as the built-in ones this build has."""
    builtin = sqlite3.connect(":memory:")
    registered = sqlite3.connect(":memory:")
    try:
        dialect.register_math_functions(registered)
        for value in (0.0, 0.5, -1.2, 3.141592653589793, 1e-9, "0.25", None):
            for fn in ("sin", "cos"):
                stmt = f"SELECT {fn}(?)"
                assert (
                    registered.execute(stmt, (value,)).fetchone()
                    == builtin.execute(stmt, (value,)).fetchone()
                ), (fn, value)
        assert registered.execute("SELECT sin(1)").fetchone()[0] == math.sin(1)
        dialect.ensure_math_functions(builtin)  # present already: left as they are
        assert builtin.execute("SELECT cos(0)").fetchone() == (1.0,)
    finally:
        builtin.close()
        registered.close()
