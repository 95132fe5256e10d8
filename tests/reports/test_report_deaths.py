"""Issue 12 with issue 13: a report that gives the deaths by whom (``deaths``: side_a,
side_b, civilians, unknown, each a claim of the article) stores them as the event's
deaths_a/b/civilians/unknown, counted by the stats' deaths_* metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import assert_problem
from tests.reports.test_reports import small_report


def test_a_reports_split_of_the_dead_is_kept_and_counted(client: TestClient) -> None:
    split = {"side_a": 1, "side_b": 2, "civilians": 2}
    response = client.post("/v1/reports", json=small_report(fatalities={"best": 5}, deaths=split))
    assert response.status_code == 201, response.text
    event_id = response.json()["events"]["e1"]
    event = client.get(f"/v1/events/{event_id}").json()
    assert (event["deaths_a"], event["deaths_b"], event["deaths_civilians"]) == (1, 2, 2)
    assert event["deaths_unknown"] is None
    assert {c["field"]: c["value"] for c in event["claims"] if c["field"].startswith("deaths")} == {
        "deaths_a": 1,
        "deaths_b": 2,
        "deaths_civilians": 2,
    }
    stats = client.get(
        "/v1/stats/events", params={"metrics": "deaths_a,deaths_civilians,deaths_unknown"}
    ).json()["data"]
    assert stats == [{"deaths_a": 1, "deaths_civilians": 2, "deaths_unknown": 0}]


def test_a_negative_split_is_a_422_naming_it(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/reports", json=small_report(deaths={"side_b": -1})), 422)
    assert any("side_b" in map(str, e["loc"]) for e in body["errors"]), body
