"""/docs and /redoc work offline: every asset they load comes from the app itself."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.http import docs
from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "app" / "static" / "vendor"
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    # No lifespan (no `with`): the pages and their assets need no database.
    return TestClient(create_app(Settings(database_url="sqlite://", demo=False)))


def _urls(html: str) -> list[str]:
    """What the page makes the browser fetch: src/href attributes, the spec URL."""
    found = re.findall(r'(?:src|href|spec-url)="([^"]*)"', html)
    found += re.findall(r"url: '([^']*)'", html)  # Swagger UI's spec URL, in its script
    return found


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_from_the_apps_own_origin(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    # No absolute URL at all: no CDN, no Google Fonts, no validator, no other host.
    assert "://" not in html, re.findall(r"\S*://\S*", html)
    urls = _urls(html)
    assert "/openapi.json" in urls
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".png") for u in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        suffix = Path(url).suffix or ".json"
        assert asset.headers["content-type"].split(";")[0] in CONTENT_TYPES[suffix], url
        assert asset.content, url


def test_swagger_ui_page_loads_its_stylesheet_and_sends_nothing_to_the_validator(
    client: TestClient,
) -> None:
    html = client.get("/docs").text
    assert any(u.endswith("/swagger-ui.css") for u in _urls(html))
    assert '"validatorUrl": null' in html


def test_docs_pages_and_assets_are_not_operations_of_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc", "/static"))]


def test_docs_assets_are_not_rate_limited() -> None:
    app = create_app(Settings(database_url="sqlite://", demo=False, rate_limit_per_minute=1))
    client = TestClient(app)
    for _ in range(3):
        response = client.get(f"{docs.SWAGGER_UI}/swagger-ui.css")
        assert response.status_code == 200
        assert "ratelimit" not in response.headers


def test_vendored_files_ship_in_the_wheel_with_their_licences() -> None:
    """Every file under app/static is package data, and every licence file a license-file."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["app"]
    shipped = {p for pattern in patterns for p in (ROOT / "app").glob(pattern) if p.is_file()}
    assert shipped == {p for p in (ROOT / "app" / "static").rglob("*") if p.is_file()}
    licences = {p for pattern in config["project"]["license-files"] for p in ROOT.glob(pattern)}
    for folder in ("swagger-ui", "redoc"):
        assert VENDOR / folder / "LICENSE" in licences
        assert [p for p in licences if p.name.endswith(".LICENSE.txt") and p.parent.name == folder]
    # The explorer's libraries (their bundles carry their notices in the licence file).
    for folder in ("maplibre-gl", "uplot", "topojson-client", "world-atlas"):
        assert {VENDOR / folder / "LICENSE", VENDOR / folder / "LICENSE.txt"} & licences, folder


def test_vendored_md_states_the_vendored_versions() -> None:
    notes = (VENDOR / "VENDORED.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for folder, package, variable in (
        ("swagger-ui", "swagger-ui-dist", "SWAGGER_UI_VERSION"),
        ("redoc", "redoc", "REDOC_VERSION"),
        ("maplibre-gl", "maplibre-gl", "MAPLIBRE_VERSION"),
        ("uplot", "uplot", "UPLOT_VERSION"),
        ("topojson-client", "topojson-client", "TOPOJSON_CLIENT_VERSION"),
        ("world-atlas", "world-atlas", "WORLD_ATLAS_VERSION"),
    ):
        meta = json.loads((VENDOR / folder / "package.json").read_text(encoding="utf-8"))
        assert meta["name"] == package
        assert f"`{package}@{meta['version']}`" in notes, package
        assert f"{variable} ?= {meta['version']}" in makefile, variable
