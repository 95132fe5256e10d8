"""GET /v1 (and GET / for JSON clients): an index of the API that links the docs, the explorer
and every collection; GET / in a browser: the explorer's page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.helpers import PROBLEM

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MAIN_COLLECTIONS = {
    "reports",
    "events",
    "actors",
    "places",
    "articles",
    "outlets",
    "quotes",
    "vocabulary",
    "changes",
    "stats/events",
    "stats/places",
}


@pytest.mark.parametrize("path", ["/", "/v1"])
def test_index_links_the_docs_and_the_collections_and_every_link_works(
    client: TestClient, path: str
) -> None:
    response = client.get(path)  # curl's Accept: */*
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    index = response.json()
    assert index["name"] == "conflictdb"
    assert index["version"] == client.get("/openapi.json").json()["info"]["version"]
    assert index["links"] == {
        "self": "/v1",
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": "/openapi.json",
        "health": "/healthz",
        "explorer": "/",
    }
    collections = {c["name"]: c for c in index["collections"]}
    assert set(collections) >= MAIN_COLLECTIONS
    assert collections["events"] == {
        "name": "events",
        "href": "/v1/events",
        "methods": ["GET"],
        "summary": "List events",
    }
    assert collections["reports"]["methods"] == ["POST"]
    for link in index["links"].values():
        assert client.get(link).status_code == 200, link
    for collection in index["collections"]:
        if "GET" in collection["methods"] and collection["name"] != "keys":  # keys: admin only
            assert client.get(collection["href"]).status_code == 200, collection


def test_index_is_a_page_of_links_for_a_browser(client: TestClient) -> None:
    for response in (
        client.get("/v1", headers={"Accept": BROWSER_ACCEPT}),
        client.get("/v1?format=html"),
        client.get("/?format=html"),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        links = re.findall(r'href="([^"]*)"', response.text)
        assert {"/", "/docs", "/redoc", "/openapi.json", "/v1/events", "/v1/actors"} <= set(links)
        assert "/v1/reports" not in links  # POST only: named, not linked
        assert "://" not in response.text  # nothing from elsewhere
    assert client.get("/v1?format=json").headers["content-type"] == "application/json"


def test_index_refuses_what_it_does_not_take(client: TestClient) -> None:
    unknown = client.get("/v1?colour=red")
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == PROBLEM
    assert unknown.json()["errors"][0]["loc"] == ["query", "colour"]
    assert client.get("/v1?format=xml").status_code == 422
    refused = client.get("/", headers={"Accept": "application/xml"})
    assert refused.status_code == 406
    assert refused.headers["content-type"] == PROBLEM
    posted = client.post("/v1")
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET, HEAD"


def test_index_is_not_an_operation_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/v1" not in paths


def test_a_browser_at_the_root_gets_the_explorer_with_its_security_policy(
    client: TestClient,
) -> None:
    response = client.get("/?event_type=Battles&place=3", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200  # the query string is the page's state, not refused
    assert response.headers["content-type"].startswith("text/html")
    csp = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"  # no inline script, no eval
    assert csp["connect-src"] == "'self'"  # no tile server configured: nothing else
    assert csp["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert "://" not in html  # nothing from elsewhere
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # every script is a file
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html, re.IGNORECASE)  # no inline handler
    assets = re.findall(r'(?:src|href)="(/static/[^"]*)"', html)
    assert any(a.endswith("/explorer/main.js") for a in assets)
    for asset in assets:
        loaded = client.get(asset)
        assert loaded.status_code == 200, asset
    for module in (
        "explorer/main.js",
        "vendor/maplibre-gl/maplibre-gl.mjs",
        "vendor/maplibre-gl/maplibre-gl-worker.mjs",
    ):
        served = client.get(f"/static/{module}")
        assert served.status_code == 200
        # Browsers run a module only with a JavaScript media type.
        assert served.headers["content-type"].split(";")[0] == "text/javascript", module


def test_the_explorers_page_carries_its_settings(settings: Settings, write_key: str) -> None:
    import json
    from html import unescape

    settings = settings.model_copy(
        update={
            "auth_reads": True,
            "explorer_tiles": "https://tiles.example.org/{z}/{x}/{y}.png",
            "explorer_tiles_attribution": "<b>Tiles</b> & co",
        }
    )
    with TestClient(create_app(settings)) as browser:
        response = browser.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200  # the page itself needs no key: it asks for one
    meta = re.search(r'name="conflictdb-explorer" content="([^"]*)"', response.text)
    assert meta is not None
    config = json.loads(unescape(meta[1]))
    assert config == {
        "root": "",
        "authReads": True,
        "tiles": "https://tiles.example.org/{z}/{x}/{y}.png",
        "tilesAttribution": "<b>Tiles</b> & co",
    }
    assert "<b>" not in response.text  # the attribution is escaped in the page
    csp = response.headers["content-security-policy"]
    assert "connect-src 'self' https://tiles.example.org;" in csp
    assert "img-src 'self' data: blob: https://tiles.example.org;" in csp
