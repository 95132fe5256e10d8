"""Issue 12: an export names the licence and citation of every dataset whose events it holds
(and only those): `Link` headers on GET /v1/events in every file format, GeoJSON's
`datasets` member, and `conflictdb export` on standard error."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.formats.records import ACLED, UCDP_GED
from tests.cli.test_import_cli import run
from tests.conftest import seed
from tests.datasets.test_loader import ged_rows, import_acled, import_ged
from tests.samples import ACLED_SAMPLE


@seed
def both(engine: Engine) -> None:
    """A few GED events (Syria) and the ACLED sample (Syria, Nigeria ...)."""
    import_ged(engine, ged_rows()[:20])
    import_acled(engine, ACLED_SAMPLE.read_text(encoding="utf-8"))


def links(header: str) -> dict[str, str]:
    """Each rel="license" link's target -> its decoded title."""
    out = {}
    for link in header.split(", <"):
        target = link.strip().lstrip("<").split(">", 1)[0]
        assert 'rel="license"' in link
        title = link.split("title*=UTF-8''", 1)[1]
        out[target] = unquote(title)
    return out


@pytest.mark.parametrize("fmt", ["csv", "geojson", "ndjson"])
def test_exports_name_each_datasets_terms(client: TestClient, both: None, fmt: str) -> None:
    response = client.get("/v1/events", params={"format": fmt})
    assert response.status_code == 200, response.text
    got = links(response.headers["link"])
    assert got == {
        UCDP_GED.url: f"ucdp-ged: {UCDP_GED.licence}. Cite: {UCDP_GED.citation}",
        ACLED.url: f"acled: {ACLED.licence}. Cite: {ACLED.citation}",
    }
    if fmt == "geojson":
        collection = json.loads(response.content)
        assert [d["name"] for d in collection["datasets"]] == ["acled", "ucdp-ged"]
        assert collection["datasets"][1] == {
            "name": "ucdp-ged",
            "licence": UCDP_GED.licence,
            "citation": UCDP_GED.citation,
            "url": UCDP_GED.url,
        }


def test_only_the_datasets_in_the_export_are_named(client: TestClient, both: None) -> None:
    ged_only = client.get(
        "/v1/events", params={"format": "csv", "dimension": "ucdp.type_of_violence:1"}
    )
    assert ged_only.status_code == 200, ged_only.text
    assert list(links(ged_only.headers["link"])) == [UCDP_GED.url]
    nigeria = client.get("/v1/events", params={"format": "geojson", "country": "NG"})
    assert list(links(nigeria.headers["link"])) == [ACLED.url]
    assert [d["name"] for d in json.loads(nigeria.content)["datasets"]] == ["acled"]
    nothing = client.get("/v1/events", params={"format": "geojson", "country": "FJ"})
    assert "link" not in nothing.headers
    assert json.loads(nothing.content)["datasets"] == []


def test_cli_export_says_the_terms(database_url: str, engine: Engine, both: None) -> None:
    result = run(database_url, "export", "-f", "csv", "--dimension", "ucdp.type_of_violence:1")
    assert result.exit_code == 0, result.output
    assert f"contains ucdp-ged data; licence: {UCDP_GED.licence}" in result.stderr
    assert "acled" not in result.stderr
    refused = run(database_url, "export", "--dimension", "ucdp.type_of_violence:9")
    assert refused.exit_code == 2 and "dimension" in refused.stderr
