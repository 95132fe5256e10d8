"""A budget for each report: entities across nesting, the depth of place parents, quotes per
event and the characters of all quotes; each a 422 naming the limit, with nothing written."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from tests.helpers import assert_problem, row_counts
from tests.reports.test_reports import small_report


def _post(client: TestClient, report: dict[str, Any]) -> Any:
    return client.post(
        "/v1/reports", content=json.dumps(report), headers={"content-type": "application/json"}
    )


def test_too_many_entities_across_nesting(client: TestClient, engine: Engine) -> None:
    before = row_counts(engine)
    actor: dict[str, Any] = {
        "name": "Group 0",
        "kind": "rebel_group",
        "country": "SY",
        "aliases": [],
    }
    # 460 actors named as affiliations of affiliations, nested ten deep: the count reaches all.
    node = actor
    for level in range(10):
        node["affiliations"] = [
            {
                "actor": {"name": f"Group {level}-{n}", "kind": "rebel_group", "country": "SY"},
                "relation": "member_of",
            }
            for n in range(45)
        ] + [
            {
                "actor": {"name": f"Chain {level}", "kind": "rebel_group", "country": "SY"},
                "relation": "member_of",
            }
        ]
        node = node["affiliations"][-1]["actor"]
    report = small_report(actors=[{"actor": actor, "side": "a"}])
    body = assert_problem(_post(client, report), 422, type_suffix="report-over-budget")
    assert "CONFLICTDB_REPORT_MAX_ENTITIES" in body["detail"]
    assert row_counts(engine) == before


def test_a_deep_chain_of_place_parents(client: TestClient, engine: Engine) -> None:
    before = row_counts(engine)
    place: dict[str, Any] = {"name": "Syria", "kind": "country", "country": "SY"}
    for n in range(12):  # thirteen places deep, the country included
        place = {"name": f"Place {n}", "kind": "populated_place", "parent": place}
    body = assert_problem(
        _post(client, small_report(place=place)), 422, type_suffix="report-over-budget"
    )
    assert "CONFLICTDB_REPORT_MAX_PLACE_DEPTH" in body["detail"]
    assert row_counts(engine) == before
    # Twelve deep is taken.
    place = place["parent"]
    assert (
        _post(client, small_report(url="https://example.org/deep", place=place)).status_code == 201
    )


def test_quotes_per_event_are_a_schema_limit(client: TestClient) -> None:
    text = " ".join(f"Word{n}." for n in range(60))
    report = small_report(body=text)
    report["quotes"] = [{"key": f"q{n}", "text": f"Word{n}."} for n in range(60)]
    report["events"][0]["quotes"] = [f"q{n}" for n in range(60)]
    assert_problem(_post(client, report), 422)
    doc = client.get("/openapi.json").json()["components"]["schemas"]
    assert doc["NewEventIn"]["properties"]["quotes"]["maxItems"] == 50


def test_the_characters_of_all_quotes(database_url: str, write_key: str) -> None:
    settings = Settings(
        database_url=database_url,
        environment="test",
        demo=False,
        migrate_on_start=False,
        rate_limit_per_minute=0,
        report_max_quote_chars=1000,
    )
    with TestClient(
        create_app(settings), headers={"Authorization": f"Bearer {write_key}"}
    ) as client:
        sentence = "x" * 600
        report = small_report(body=f"{sentence} and {sentence}!")
        # Two overlapping quotes of 600 characters: 1,200 together.
        report["quotes"] = [
            {"key": "q1", "text": sentence, "start": 0, "end": 600},
            {"key": "q2", "text": sentence + " and", "start": 0, "end": 604},
        ]
        report["events"][0]["quotes"] = ["q1", "q2"]
        body = assert_problem(_post(client, report), 422, type_suffix="report-over-budget")
        assert "CONFLICTDB_REPORT_MAX_QUOTE_CHARS" in body["detail"]
