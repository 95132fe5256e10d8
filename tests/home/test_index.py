"""GET / and GET /v1: an index of the API that links the docs and every collection."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

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
        client.get("/", headers={"Accept": BROWSER_ACCEPT}),
        client.get("/v1?format=html"),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        links = re.findall(r'href="([^"]*)"', response.text)
        assert {"/docs", "/redoc", "/openapi.json", "/v1/events", "/v1/actors"} <= set(links)
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
