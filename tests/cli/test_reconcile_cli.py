"""`conflictdb reconcile` (proposals, --apply, refused options) and `conflictdb export` with the
evidence filters (issue 13)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from tests.helpers import run_cli
from tests.incidents.test_incidents import incident_of, post_events


def test_reconcile_proposes_then_applies_links_between_two_outlets(
    client: TestClient, database_url: str
) -> None:
    (a,) = post_events(client, 1, "Wire A")
    (b,) = post_events(client, 1, "Wire B", day="2020-02-02")
    # Wire B's other record is a protest in another month: no candidate for anything.
    post_events(client, 1, "Wire B", day="2020-05-01", event_type="Protests", actor="Students")
    result = run_cli(database_url, "reconcile", "outlet:Wire A", "outlet:Wire B")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(int(r["outlet:Wire A"]), int(r["outlet:Wire B"])) for r in rows] == [(a, b)]
    assert float(rows[0]["score"]) > 0 and rows[0]["reasons"]
    assert "1 pairs proposed" in result.stderr
    assert incident_of(client, a) is None  # a report changes nothing

    applied = run_cli(database_url, "reconcile", "outlet:Wire A", "outlet:Wire B", "--apply")
    assert applied.exit_code == 0, applied.output
    assert "linked 1 pairs" in applied.stderr
    assert incident_of(client, a) == incident_of(client, b) is not None
    # Linked pairs are not proposed again.
    again = run_cli(database_url, "reconcile", "outlet:Wire A", "outlet:Wire B")
    assert list(csv.DictReader(io.StringIO(again.stdout))) == []


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--threshold", "1.5"], "--threshold 1.5"),
        (["--km", "0"], "--km 0"),
        (["--days", "-1"], "--days -1"),
        ([], "'outlet:Nobody': no such outlet"),
    ],
)
def test_reconcile_refuses_bad_options_in_one_line(
    database_url: str, client: TestClient, args: list[str], fragment: str
) -> None:
    sides = ["outlet:Nobody", "outlet:Wire A"] if not args else ["outlet:Wire A", "outlet:Wire B"]
    if args:
        post_events(client, 1, "Wire A")
        post_events(client, 1, "Wire B")
    result = run_cli(database_url, "reconcile", *sides, *args)
    assert result.exit_code != 0
    assert fragment in result.stderr, result.stderr


def test_export_takes_the_corroboration_filters_and_counts_incidents(
    client: TestClient, database_url: str
) -> None:
    a, b = post_events(client, 2, "Wire A")
    (c,) = post_events(client, 1, "Wire B")
    # A second outlet reports a: two articles, two outlets.
    attach = {
        "article": {
            "url": "https://wire.example/late/a",
            "title": "Saraqib again",
            "outlet": {"name": "Wire C"},
        },
        "quotes": [{"key": "t", "text": "Saraqib again", "in_title": True}],
        "events": [{"id": a, "quotes": ["t"]}],
    }
    assert client.post("/v1/reports", json=attach).status_code == 201
    assert client.post("/v1/incidents", json={"events": [b, c]}).status_code == 201

    def ids(*options: str) -> list[int]:
        result = run_cli(database_url, "export", "-f", "ndjson", "--sort", "id", *options)
        assert result.exit_code == 0, result.output
        return [json.loads(line)["id"] for line in result.stdout.splitlines()]

    assert ids("--sources-min", "2") == [a]
    assert ids("--outlets-min", "2") == [a]
    assert ids("--sources-min", "0") == [a, b, c]
    assert ids("--count", "incidents") == [a, b]  # b leads: reported as early, lower id
    assert ids("--incident", str(incident_of(client, b))) == [b, c]
    assert ids("--undisputed", "--evidence", "quotes") == [a, b, c]
    refused = run_cli(database_url, "export", "--sources-min", "-1")
    assert refused.exit_code != 0 and "sources-min" in refused.stderr, refused.stderr
