"""DELETE of an event is a retraction: kept, shown, left out of lists; every change in history."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.helpers import assert_problem, row_counts
from tests.reports.test_reports import small_report
from tests.writer.helpers import audit_rows, etag_of, revisions


def listed(client: TestClient, **params: Any) -> set[int]:
    response = client.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    return {e["id"] for e in response.json()["data"]}


def test_retraction_is_kept_shown_and_left_out_of_lists(
    client: TestClient, demo: dict[str, Any], engine: Engine, key_id: int
) -> None:
    event_id = demo["events"]["negotiations-east-qalamoun"]
    url = f"/v1/events/{event_id}"
    etag = etag_of(client, url)
    response = client.delete(
        url, params={"reason": "Not an event: talks, reported as such by one source."}
    )
    assert response.status_code == 200, response.text
    event = response.json()
    assert event["status"] == "retracted"
    assert event["retraction_reason"] == "Not an event: talks, reported as such by one source."
    assert event["retracted_at"] is not None
    assert response.headers["etag"] == f'"event-{event_id}-v2"' != etag

    detail = client.get(url).json()
    assert (detail["status"], detail["retraction_reason"]) == (
        "retracted",
        event["retraction_reason"],
    )
    assert detail["sources"]  # the evidence is kept with it
    everything = set(demo["events"].values())
    assert listed(client) == everything - {event_id}
    assert listed(client, include_retracted="true") == everything
    assert client.get("/v1/events", params={"total": "true"}).json()["total"] == 3
    assert event_id not in {e["id"] for e in client.get("/v1/articles/1").json()["events"]}

    history = client.get(f"{url}/history").json()["data"]
    assert [(r["action"], r["api_key_id"]) for r in history] == [
        ("create", key_id),
        ("retract", key_id),
    ]
    assert history[1]["changes"] == {
        "status": {"before": "active", "after": "retracted"},
        "retraction_reason": {"before": None, "after": event["retraction_reason"]},
    }
    assert history[0]["changes"]["status"] == {"before": None, "after": "active"}
    assert history[0]["changes"]["event_type"] == {
        "before": None,
        "after": "Strategic developments",
    }
    (audit,) = audit_rows(engine, "event.retract")
    assert (audit["entity_id"], audit["api_key_id"]) == (event_id, key_id)


def test_retraction_needs_a_reason_and_happens_once(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    url = f"/v1/events/{demo['events']['negotiations-east-qalamoun']}"
    counts = row_counts(engine)
    assert_problem(client.delete(url), 422)
    assert_problem(client.delete(url, params={"reason": "   "}), 422)
    assert_problem(client.delete(url, params={"reason": "a\x00b"}), 422)
    assert_problem(client.delete(url, params={"reason": "x", "why": "y"}), 422)
    assert_problem(client.delete(url, params={"reason": "x"}, headers={"If-Match": '"e"'}), 412)
    assert row_counts(engine) == counts
    assert client.delete(url, params={"reason": "Duplicate."}).status_code == 200
    problem = assert_problem(client.delete(url, params={"reason": "Again."}), 409)
    assert problem["type"].endswith("/retracted") and "Duplicate." in problem["detail"]
    problem = assert_problem(
        client.patch(url, json={"summary": "x"}, headers={"If-Match": etag_of(client, url)}),
        409,
        type_suffix="retracted",
    )
    assert_problem(client.delete("/v1/events/424242", params={"reason": "x"}), 404)


def test_evidence_added_by_a_report_is_a_revision(
    client: TestClient, engine: Engine, key_id: int
) -> None:
    first = client.post("/v1/reports", json=small_report())
    assert first.status_code == 201, first.text
    event_id = first.json()["events"]["e1"]
    etag = etag_of(client, f"/v1/events/{event_id}")
    second = small_report(url="https://example.org/news/2", body="Two people died in al-Bab.")
    second["quotes"] = [{"key": "q", "text": "Two people died in al-Bab."}]
    second["events"] = [{"id": event_id, "quotes": ["q"]}]
    response = client.post("/v1/reports", json=second)
    assert response.status_code == 201, response.text
    article_ids = [first.json()["article"]["id"], response.json()["article"]["id"]]
    quote_ids = [first.json()["quotes"]["q1"], response.json()["quotes"]["q"]]
    assert etag_of(client, f"/v1/events/{event_id}") != etag
    history = client.get(f"/v1/events/{event_id}/history").json()["data"]
    assert [r["action"] for r in history] == ["create", "add_source"]
    assert history[1]["changes"] == {
        "sources": {"before": article_ids[:1], "after": article_ids},
        "quotes": {"before": quote_ids[:1], "after": quote_ids},
    }
    assert history[0]["changes"]["sources"] == {"before": None, "after": article_ids[:1]}


def test_history_pages_newest_last(client: TestClient, demo: dict[str, Any]) -> None:
    url = f"/v1/events/{demo['events']['ground-battles-ruheibah']}"
    for best in (1, 2, 3):
        response = client.patch(
            url, json={"fatalities_best": best}, headers={"If-Match": etag_of(client, url)}
        )
        assert response.status_code == 200
    first = client.get(f"{url}/history", params={"limit": 2, "total": "true"}).json()
    assert first["total"] == 4 and first["next_cursor"]
    second = client.get(
        f"{url}/history", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert second["next_cursor"] is None
    pages = first["data"] + second["data"]
    assert [r["action"] for r in pages] == ["create", "update", "update", "update"]
    assert [r["changes"].get("fatalities_best", {}).get("after") for r in pages[1:]] == [1, 2, 3]
    assert [r["id"] for r in pages] == sorted(r["id"] for r in pages)
    assert_problem(client.get("/v1/events/424242/history"), 404)
    assert_problem(client.get(f"{url}/history", params={"cursor": "%%"}), 422)


def test_revisions_are_written_with_the_change(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    event_id = demo["events"]["ground-battles-ruheibah"]
    url = f"/v1/events/{event_id}"
    response = client.patch(
        url,
        json={"date_precision": "week", "geo_precision": None},
        headers={"If-Match": etag_of(client, url)},
    )
    assert response.status_code == 200
    assert revisions(engine, event_id)[-1]["changes"] == {
        "date_precision": ["day", "week"],
        "geo_precision": [2, None],
    }
