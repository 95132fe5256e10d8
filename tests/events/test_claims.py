"""The evidence rule, claims side by side and the headline rule, protected speakers (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import make_key
from tests.helpers import assert_problem, error_locs, row_counts
from tests.writer.helpers import etag_of, revisions

SYRIA = {"name": "Syria", "kind": "country", "country": "SY"}
BODY = "Shelling killed people in Saraqib, a doctor said."


def report(
    n: int,
    outlet: str,
    events: list[dict[str, Any]],
    *,
    published: str = "2020-02-01",
    body: str | None = BODY,
    quotes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "article": {
            "url": f"https://{outlet.lower().replace(' ', '')}.example/{n}",
            "title": f"Saraqib shelled ({n})",
            "published_date": published,
            "outlet": {"name": outlet},
            "body": body,
        },
        "quotes": quotes
        if quotes is not None
        else [{"key": "q", "text": "Shelling killed people in Saraqib"}],
        "events": events,
    }


def new_event(**extra: Any) -> dict[str, Any]:
    return {
        "key": "strike",
        "event_type": "Explosions/Remote violence",
        "date_start": "2020-02-01",
        "place": {"name": "Idlib", "kind": "admin1", "parent": SYRIA},
        "quotes": ["q"],
        **extra,
    }


def create(client: TestClient, **extra: Any) -> int:
    response = client.post("/v1/reports", json=report(0, "Wire A", [new_event(**extra)]))
    assert response.status_code == 201, response.text
    event_id: int = response.json()["events"]["strike"]
    return event_id


# -- the evidence rule -----------------------------------------------------------------------


def test_a_new_event_citing_no_quote_is_refused_naming_it(
    client: TestClient, engine: Engine
) -> None:
    before = row_counts(engine)
    bare = report(1, "Wire A", [new_event(quotes=[])], quotes=[])
    body = assert_problem(client.post("/v1/reports", json=bare), 422)
    assert ["body", "events", 0, "quotes"] in error_locs(body)
    assert "'strike'" in body["detail"] and "cites no quote" in body["detail"]
    assert row_counts(engine) == before


def test_a_reference_citing_no_quote_is_refused(client: TestClient, engine: Engine) -> None:
    event_id = create(client)
    before = row_counts(engine)
    attach = report(2, "Wire B", [{"id": event_id, "quotes": []}])
    body = assert_problem(client.post("/v1/reports", json=attach), 422)
    assert ["body", "events", 0, "quotes"] in error_locs(body)
    assert f"event {event_id}" in body["detail"]
    assert row_counts(engine) == before


def test_an_article_without_a_body_is_quoted_in_its_title(client: TestClient) -> None:
    titled = report(
        3,
        "Wire A",
        [new_event()],
        body=None,
        quotes=[{"key": "q", "text": "Saraqib shelled", "in_title": True}],
    )
    response = client.post("/v1/reports", json=titled)
    assert response.status_code == 201, response.text
    event = client.get(f"/v1/events/{response.json()['events']['strike']}").json()
    (quote,) = event["sources"][0]["quotes"]
    assert (quote["in_title"], quote["start"], quote["end"]) == (True, 0, len("Saraqib shelled"))
    assert (event["evidence"], event["quote_count"], event["source_count"]) == ("quotes", 1, 1)
    # Without "in_title", the quote would be of a body there is not.
    titled["article"]["url"] += "-again"
    titled["quotes"][0]["in_title"] = False
    body = assert_problem(client.post("/v1/reports", json=titled), 422)
    assert ["body", "quotes", 0] in error_locs(body)


def test_imported_events_carry_their_dataset_as_evidence(
    engine: Engine, client: TestClient
) -> None:
    from tests.datasets.test_loader import ged_rows, import_ged

    import_ged(engine, ged_rows()[:3])
    listed = client.get("/v1/events", params={"evidence": "dataset"}).json()["data"]
    assert len(listed) == 3
    # GED names the articles it drew on, but quotes none of them: its row is the evidence.
    assert all(e["evidence"] == "dataset" and e["quote_count"] == 0 for e in listed)
    detail = client.get(f"/v1/events/{listed[0]['id']}").json()
    figures = [c for c in detail["claims"] if c["field"] == "fatalities_best"]
    assert [(c["origin"], c["dataset"]) for c in figures] == [("dataset", "ucdp-ged")]
    assert client.get("/v1/events", params={"evidence": "quotes"}).json()["data"] == []


# -- claims side by side ---------------------------------------------------------------------


def test_two_outlets_tolls_stand_side_by_side(client: TestClient, engine: Engine) -> None:
    event_id = create(client, fatalities={"best": 10})
    second = report(5, "Wire B", [{"id": event_id, "quotes": ["q"], "fatalities": {"best": 30}}])
    assert client.post("/v1/reports", json=second).status_code == 201
    event = client.get(f"/v1/events/{event_id}").json()
    claims = [(c["outlet"]["name"], c["value"], c["status"]) for c in event["claims"]]
    assert claims == [("Wire A", 10, "standing"), ("Wire B", 30, "standing")]
    # The lower middle of two voices; they disagree by more than 25% of the largest.
    assert (event["fatalities_best"], event["disputed"]) == (10, True)
    assert (event["source_count"], event["outlet_count"], event["quote_count"]) == (2, 2, 2)

    # A third outlet, and Wire A revises its own toll: each outlet counts once, its latest.
    third = report(6, "Wire C", [{"id": event_id, "quotes": ["q"], "fatalities": {"best": 12}}])
    revised = report(
        7,
        "Wire A",
        [{"id": event_id, "quotes": ["q"], "fatalities": {"best": 28}}],
        published="2020-02-03",
    )
    for r in (third, revised):
        assert client.post("/v1/reports", json=r).status_code == 201
    event = client.get(f"/v1/events/{event_id}").json()
    assert [c["status"] for c in event["claims"]] == [
        "superseded",
        "standing",
        "standing",
        "standing",
    ]
    assert event["fatalities_best"] == 28  # median of 12, 28, 30
    assert event["disputed"] is True
    assert client.get("/v1/events", params={"disputed": "true"}).json()["data"][0]["id"] == event_id

    # A curator's figure is the headline while it stands, recorded as a claim and a revision.
    path = f"/v1/events/{event_id}"
    patched = client.patch(
        path, json={"fatalities_best": 20}, headers={"If-Match": etag_of(client, path)}
    )
    assert patched.status_code == 200, patched.text
    event = patched.json()
    curator = event["claims"][-1]
    assert (curator["origin"], curator["value"], curator["outlet"]) == ("curator", 20, None)
    assert event["fatalities_best"] == 20
    assert revisions(engine, event_id)[-1]["changes"]["fatalities_best"] == [28, 20]

    withdrawn = client.delete(
        f"{path}/claims/{curator['id']}", params={"reason": "Counted the wounded."}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["fatalities_best"] == 28
    assert withdrawn.json()["claims"][-1]["status"] == "withdrawn"
    again = client.delete(f"{path}/claims/{curator['id']}", params={"reason": "Twice."})
    assert_problem(again, 409)


def test_a_curator_records_a_sources_claim_and_a_measure(client: TestClient) -> None:
    event_id = create(client, fatalities={"best": 4})
    event = client.get(f"/v1/events/{event_id}").json()
    article_id = event["sources"][0]["article_id"]
    response = client.post(
        f"/v1/events/{event_id}/claims",
        json={"field": "measure", "kind": "barrel bombs", "value": 75, "article_id": article_id},
    )
    assert response.status_code == 201, response.text
    measures = [(m["kind"], m["value"]) for m in response.json()["measures"]]
    assert measures == [("barrel bombs", 75)]
    deaths = client.post(
        f"/v1/events/{event_id}/claims", json={"field": "deaths_civilians", "value": 3}
    )
    assert deaths.status_code == 201, deaths.text
    assert deaths.json()["deaths_civilians"] == 3


@pytest.mark.parametrize(
    "claim, loc",
    [
        ({"field": "summary", "value": 3}, ["body", "field"]),
        ({"field": "event_type", "value": 3}, ["body", "field"]),
        ({"field": "fatalities_best", "value": -1}, ["body"]),
        ({"field": "fatalities_best", "value": 2.5}, ["body"]),
        ({"field": "measure", "value": 2}, ["body"]),
    ],
)
def test_a_claim_on_a_field_that_takes_none_is_422(
    client: TestClient, engine: Engine, claim: dict[str, Any], loc: list[Any]
) -> None:
    event_id = create(client)
    before = row_counts(engine)
    body = assert_problem(client.post(f"/v1/events/{event_id}/claims", json=claim), 422)
    assert any(e[: len(loc)] == loc for e in error_locs(body)), error_locs(body)
    assert row_counts(engine) == before


def test_claims_need_the_curate_scope(
    client: TestClient, anon_client: TestClient, database_url: str
) -> None:
    event_id = create(client)
    claim = {"field": "fatalities_best", "value": 3}
    assert_problem(anon_client.post(f"/v1/events/{event_id}/claims", json=claim), 401)
    ingest = make_key(database_url, ["ingest"], name="ingester")
    response = anon_client.post(
        f"/v1/events/{event_id}/claims",
        json=claim,
        headers={"Authorization": f"Bearer {ingest}"},
    )
    assert_problem(response, 403)


# -- protected speakers ----------------------------------------------------------------------


def test_a_protected_speaker_is_a_source_to_all_but_curators(
    client: TestClient, anon_client: TestClient, database_url: str
) -> None:
    named = report(
        9,
        "Wire A",
        [new_event()],
        quotes=[
            {
                "key": "q",
                "text": "Shelling killed people in Saraqib",
                "speaker": {"name": "Dr. Hasan", "role": "doctor", "protected": True},
            }
        ],
    )
    response = client.post("/v1/reports", json=named)
    assert response.status_code == 201, response.text
    path = f"/v1/events/{response.json()['events']['strike']}"
    reader = make_key(database_url, ["read"], name="reader")

    def speaker(c: TestClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
        event = c.get(path, headers=headers).json()
        (quote,) = event["sources"][0]["quotes"]
        assert quote["text"] == "Shelling killed people in Saraqib"  # the words stay public
        result: dict[str, Any] = quote["speaker"]
        return result

    assert speaker(anon_client)["name"] == "a source"
    assert speaker(anon_client, {"Authorization": f"Bearer {reader}"})["name"] == "a source"
    assert speaker(client)["name"] == "Dr. Hasan"
    listed = anon_client.get("/v1/events", params={"include": "sources"}).json()["data"]
    assert "Dr. Hasan" not in str(listed)
    assert "Dr. Hasan" not in anon_client.get("/v1/events", params={"format": "csv"}).text


def test_protecting_a_speaker_later_is_in_the_history(
    client: TestClient, anon_client: TestClient, engine: Engine
) -> None:
    named = report(
        10,
        "Wire A",
        [new_event()],
        quotes=[
            {
                "key": "q",
                "text": "Shelling killed people in Saraqib",
                "speaker": {"name": "Dr. Hasan", "role": "doctor"},
            }
        ],
    )
    response = client.post("/v1/reports", json=named)
    assert response.status_code == 201, response.text
    event_id = response.json()["events"]["strike"]
    quote_id = response.json()["quotes"]["q"]
    assert anon_client.get(f"/v1/quotes/{quote_id}").json()["speaker"]["name"] == "Dr. Hasan"
    path = f"/v1/quotes/{quote_id}"
    patched = client.patch(
        path, json={"speaker_protected": True}, headers={"If-Match": etag_of(client, path)}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["speaker"]["name"] == "Dr. Hasan"  # the curator who protected it
    assert anon_client.get(path).json()["speaker"]["name"] == "a source"
    event = anon_client.get(f"/v1/events/{event_id}").json()
    assert event["sources"][0]["quotes"][0]["speaker"]["name"] == "a source"
    changes = revisions(engine, event_id)[-1]["changes"]
    assert changes == {f"quotes.{quote_id}.speaker_protected": [False, True]}


def test_a_curators_answer_is_never_served_to_others(
    client: TestClient, anon_client: TestClient
) -> None:
    named = report(
        11,
        "Wire A",
        [new_event()],
        quotes=[
            {
                "key": "q",
                "text": "Shelling killed people in Saraqib",
                "speaker": {"name": "Dr. Hasan", "protected": True},
            }
        ],
    )
    assert client.post("/v1/reports", json=named).status_code == 201
    params = {"include": "sources"}
    curator = client.get("/v1/events", params=params)
    assert "Dr. Hasan" in curator.text
    assert "private" in curator.headers["cache-control"]
    public = anon_client.get(
        "/v1/events", params=params, headers={"If-None-Match": curator.headers["etag"]}
    )
    assert public.status_code == 200 and "Dr. Hasan" not in public.text
    assert public.headers["etag"] != curator.headers["etag"]
    assert "private" not in public.headers["cache-control"]
