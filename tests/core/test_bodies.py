"""Request bodies: JSON that does not parse is a 400 ``malformed-json``; JSON that parses but
does not fit the schema (or that the strict parser cannot take) stays a 422."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine

from app.core.bodies import validate_json
from app.core.errors import MalformedJson, ValidationProblem
from app.http.problems import install_error_handlers
from app.reports.schemas import ReportCreate
from tests.helpers import assert_problem, row_counts


@pytest.mark.parametrize(
    "raw, detail",
    [
        (b"{not json", "Expecting property name enclosed in double quotes at line 1, column 2"),
        (b'{"article": ', "Expecting value at line 1, column 13"),
        # Python 3.13 names the trailing comma; 3.11 expects another name after it.
        (b'{"quotes": [],}', None),
        (
            b"{'article': {}}",
            "Expecting property name enclosed in double quotes at line 1, column 2",
        ),
        (b'{"quotes": []} {}', "Extra data at line 1, column 16"),
        (b'{"article": "a\tb"}', "Invalid control character at line 1, column 15"),
        (b'{"quotes": [1 2]}', "Expecting ',' delimiter at line 1, column 15"),
    ],
)
def test_json_that_does_not_parse_is_malformed_json(raw: bytes, detail: str | None) -> None:
    with pytest.raises(MalformedJson) as caught:
        validate_json(ReportCreate, raw)
    assert caught.value.status == 400
    assert caught.value.slug == "malformed-json"
    if detail is None:
        assert caught.value.detail is not None
        assert caught.value.detail.startswith("The body is not valid JSON: ")
        assert caught.value.detail.endswith(" at line 1, column 15.")
    else:
        assert caught.value.detail == f"The body is not valid JSON: {detail}."


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="no body at all"),
        pytest.param(b"null", id="null"),
        pytest.param(b"[]", id="an array"),
        pytest.param(b'{"article": {}}', id="a field missing"),
        pytest.param(b'{"article": "\\ud800"}', id="a lone surrogate (well-formed JSON)"),
        pytest.param(b'{"article": ' + b"[" * 5000 + b"]" * 5000 + b"}", id="nested too deep"),
        pytest.param(b'{"article": "\xff"}', id="not UTF-8"),
        pytest.param(json.dumps({"article": {}}).encode("utf-16"), id="UTF-16"),
    ],
)
def test_json_the_schema_refuses_stays_422(raw: bytes) -> None:
    with pytest.raises(ValidationProblem) as caught:
        validate_json(ReportCreate, raw)
    assert caught.value.status == 422


def test_every_body_route_answers_malformed_json_with_400(
    client: TestClient, demo: dict[str, Any], admin_key: str, engine: Engine
) -> None:
    doc = client.get("/openapi.json").json()
    routes = [
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if "requestBody" in op
    ]
    assert len(routes) >= 15
    before = row_counts(engine)
    for method, template in routes:
        # Every record the demo holds has id 1; the body is read before anything is looked up.
        path = template.format(
            **dict.fromkeys(("event_id", "article_id", "quote_id"), 1),
            **dict.fromkeys(("outlet_id", "actor_id", "place_id"), 1),
        )
        headers = {"content-type": "application/json", "If-Match": "*"}
        if template.startswith("/v1/keys"):
            headers["Authorization"] = f"Bearer {admin_key}"
        response = client.request(method, path, content=b'{"name": "x",', headers=headers)
        body = assert_problem(response, 400, type_suffix="malformed-json")
        assert body["title"] == "Malformed JSON", (method, path)
        assert (
            body["detail"]
            == "The body is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 14."
        ), (method, path)
    assert row_counts(engine) == before


class Thing(BaseModel):
    name: str


def _fastapi_body_app() -> FastAPI:
    """A route whose body FastAPI parses itself (the app's own routes read theirs raw)."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    def make(thing: Thing) -> dict[str, str]:
        return {"name": thing.name}

    return app


def test_a_body_fastapi_parses_is_held_to_the_same_rule() -> None:
    client = TestClient(_fastapi_body_app())
    response = client.post(
        "/things", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 400, type_suffix="malformed-json")
    assert body["detail"] == "The body is not valid JSON: Expecting value at line 1, column 10."
    body = assert_problem(client.post("/things", json={"name": 1}), 422)
    assert body["errors"][0]["loc"] == ["body", "name"]


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    """No Content-Length: the body is read as it arrives and refused at the limit, not read
    whole first."""
    import asyncio
    from types import SimpleNamespace

    from starlette.requests import Request

    from app.core.bodies import read_body
    from app.core.errors import PayloadTooLarge

    pulled = 0
    chunk = b"x" * 1024

    async def receive() -> dict[str, object]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < 10_000}

    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(max_body_bytes=4096)))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/reports",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "app": app,
    }
    request = Request(scope, receive)
    try:
        asyncio.run(read_body(request))
    except PayloadTooLarge:
        pass
    else:  # pragma: no cover - the failure message
        raise AssertionError("a 10 MB chunked body was taken")
    assert pulled == 5  # 5 KiB read of 10 MB: refused at the first chunk past 4 KiB
