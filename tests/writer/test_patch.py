"""PATCH with If-Match: ETags from row versions, 428/412, atomic compare-and-set, revisions."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app import writer
from app.core.errors import PreconditionFailed
from app.db.session import read_session
from app.models import Article, Event
from app.writer.transaction import write_session
from tests.helpers import assert_problem, error_locs, row_counts
from tests.writer.helpers import audit_rows, etag_of, revisions

WRITERS = 8


def event_url(demo: dict[str, Any], key: str = "ground-battles-ruheibah") -> str:
    return f"/v1/events/{demo['events'][key]}"


@pytest.mark.parametrize(
    "path, kind",
    [
        ("/v1/events/{events[air-raids-jabal-sharqi]}", "event"),
        ("/v1/articles/{article[id]}", "article"),
        ("/v1/quotes/{quotes[omar-bombing]}", "quote"),
        ("/v1/actors/{actors[0][id]}", "actor"),
        ("/v1/places/{places[0][id]}", "place"),
        ("/v1/outlets/1", "outlet"),
    ],
)
def test_every_detail_has_an_etag_from_its_version(
    client: TestClient, demo: dict[str, Any], path: str, kind: str
) -> None:
    response = client.get(path.format(**demo))
    assert response.status_code == 200
    body = response.json()
    assert response.headers["etag"] == f'"{kind}-{body["id"]}-v{body["version"]}"'


def test_patch_event_changes_fields_etag_and_history(
    client: TestClient, demo: dict[str, Any], engine: Engine, key_id: int
) -> None:
    url = event_url(demo)
    before = client.get(url)
    old_etag, old = before.headers["etag"], before.json()
    assert old_etag == f'"event-{old["id"]}-v1"'

    response = client.patch(
        url,
        json={"fatalities_best": 3, "date_end": "2018-04-19", "summary": "Clashes at al-Ruheibah."},
        headers={"If-Match": old_etag},
    )
    assert response.status_code == 200, response.text
    event = response.json()
    assert (event["fatalities_best"], event["date_end"], event["summary"]) == (
        3,
        "2018-04-19",
        "Clashes at al-Ruheibah.",
    )
    assert event["version"] == 2
    assert response.headers["etag"] == f'"event-{old["id"]}-v2"' != old_etag
    assert event["updated_at"] > old["updated_at"]
    # What was not sent is unchanged.
    assert (event["fatalities_low"], event["date_start"]) == (None, old["date_start"])
    assert etag_of(client, url) == response.headers["etag"]

    history = client.get(f"{url}/history").json()["data"]
    assert [r["action"] for r in history] == ["create", "update"]
    assert history[-1]["api_key_id"] == key_id
    assert history[-1]["changes"] == {
        "fatalities_best": {"before": None, "after": 3},
        "date_end": {"before": "2018-04-18", "after": "2018-04-19"},
        "summary": {"before": old["summary"], "after": "Clashes at al-Ruheibah."},
        # The edited headline figure is a curator's claim, recorded with the edit.
        "claims": {
            "before": None,
            "after": [
                {
                    "id": event["claims"][-1]["id"],
                    "field": "fatalities_best",
                    "origin": "curator",
                    "value": 3,
                }
            ],
        },
    }
    (audit,) = audit_rows(engine, "event.update")
    assert (audit["entity"], audit["entity_id"], audit["api_key_id"]) == (
        "event",
        old["id"],
        key_id,
    )
    assert audit["detail"]["changes"]["fatalities_best"] == [None, 3]


def test_null_clears_a_nullable_field_and_a_no_op_writes_nothing(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    url = event_url(demo, "air-raids-jabal-sharqi")
    etag = etag_of(client, url)
    cleared = client.patch(url, json={"geo_precision": None}, headers={"If-Match": etag})
    assert cleared.status_code == 200 and cleared.json()["geo_precision"] is None
    etag = cleared.headers["etag"]
    counts = row_counts(engine)
    same = client.patch(url, json={"geo_precision": None}, headers={"If-Match": etag})
    assert same.status_code == 200
    assert same.headers["etag"] == etag  # nothing changed: no new version
    assert row_counts(engine) == counts


def test_if_match_missing_is_428_and_stale_is_412(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    url = event_url(demo)
    etag = etag_of(client, url)
    counts = row_counts(engine)
    body = {"fatalities_best": 9}
    assert_problem(client.patch(url, json=body), 428, type_suffix="precondition-required")
    assert_problem(
        client.patch(url, json=body, headers={"If-Match": "*"}),
        428,
        type_suffix="precondition-required",
    )
    for stale in ['"event-1-v0"', f"W/{etag}", '"something else"']:
        assert_problem(
            client.patch(url, json=body, headers={"If-Match": stale}),
            412,
            type_suffix="precondition-failed",
        )
    # Not an entity tag at all (the quotes left off): a 422 that says what one looks like.
    assert_problem(
        client.patch(url, json=body, headers={"If-Match": etag.strip('"')}),
        422,
        type_suffix="validation-error",
    )
    # Another event's ETag does not match this one.
    other = etag_of(client, event_url(demo, "air-raids-jabal-sharqi"))
    assert_problem(client.patch(url, json=body, headers={"If-Match": other}), 412)
    assert row_counts(engine) == counts
    assert etag_of(client, url) == etag

    # A list of tags matches if one is current; after a change the old tag is stale.
    ok = client.patch(url, json=body, headers={"If-Match": f'"x", {etag}'})
    assert ok.status_code == 200
    assert_problem(client.patch(url, json={"fatalities_best": 10}, headers={"If-Match": etag}), 412)
    assert client.get(url).json()["fatalities_best"] == 9


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"event_type": "Picnic"}, ["body", "event_type"]),
        ({"sub_event_type": "Peaceful protest"}, ["body", "sub_event_type"]),
        ({"event_type": "Protests"}, ["body", "event_type"]),  # Armed clash is no protest
        ({"date_end": "2018-04-01"}, ["body", "date_end"]),
        ({"date_start": "2018-04-01", "date_end": "2018-03-01"}, ["body"]),
        ({"event_type": None}, ["body", "event_type"]),
        ({"date_start": 0}, ["body", "date_start"]),
        ({"fatalities_best": True}, ["body", "fatalities_best"]),
        ({"fatalities_best": -1}, ["body", "fatalities_best"]),
        ({"geo_precision": 4}, ["body", "geo_precision"]),
        ({"summary": "a\x00b"}, ["body", "summary"]),
        ({"status": "retracted"}, ["body", "status"]),
        ({"version": 7}, ["body", "version"]),
        ({"place_id": 424242}, ["body", "place_id"]),
    ],
)
def test_invalid_event_patches_are_422_and_write_nothing(
    client: TestClient, demo: dict[str, Any], engine: Engine, body: dict[str, Any], loc: list[Any]
) -> None:
    url = event_url(demo)
    etag = etag_of(client, url)
    counts = row_counts(engine)
    problem = assert_problem(client.patch(url, json=body, headers={"If-Match": etag}), 422)
    assert loc in error_locs(problem), problem
    assert row_counts(engine) == counts
    assert etag_of(client, url) == etag


def test_type_and_sub_type_change_together(client: TestClient, demo: dict[str, Any]) -> None:
    url = event_url(demo)
    response = client.patch(
        url,
        json={"event_type": "Protests", "sub_event_type": "Peaceful protest"},
        headers={"If-Match": etag_of(client, url)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["sub_event_type"] == "Peaceful protest"


def test_external_id_taken_is_409(client: TestClient, demo: dict[str, Any], engine: Engine) -> None:
    first, second = event_url(demo), event_url(demo, "air-raids-jabal-sharqi")
    assert (
        client.patch(
            first, json={"external_id": "SYR-1"}, headers={"If-Match": etag_of(client, first)}
        ).status_code
        == 200
    )
    counts = row_counts(engine)
    problem = assert_problem(
        client.patch(
            second, json={"external_id": "SYR-1"}, headers={"If-Match": etag_of(client, second)}
        ),
        409,
    )
    assert problem["event_id"] == demo["events"]["ground-battles-ruheibah"]
    assert row_counts(engine) == counts


def test_unknown_event_is_404_and_writes_need_a_write_key(
    client: TestClient, anon_client: TestClient, demo: dict[str, Any]
) -> None:
    assert_problem(
        client.patch("/v1/events/424242", json={}, headers={"If-Match": '"event-424242-v1"'}),
        404,
    )
    url = event_url(demo)
    assert_problem(
        anon_client.patch(url, json={"summary": "x"}, headers={"If-Match": etag_of(client, url)}),
        401,
    )


def test_same_etag_from_many_clients_exactly_one_wins(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    url = event_url(demo)
    etag = etag_of(client, url)
    barrier = Barrier(WRITERS)

    def patch(i: int) -> int:
        barrier.wait()
        response = client.patch(url, json={"fatalities_best": i}, headers={"If-Match": etag})
        return response.status_code

    with ThreadPoolExecutor(WRITERS) as pool:
        statuses = list(pool.map(patch, range(WRITERS)))
    assert sorted(statuses) == [200] + [412] * (WRITERS - 1)
    winner = statuses.index(200)
    event = client.get(url).json()
    assert (event["fatalities_best"], event["version"]) == (winner, 2)
    assert [r["action"] for r in revisions(engine, event["id"])] == ["create", "update"]


def test_compare_and_set_lets_one_of_two_holders_of_a_version_win(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    """Both writers hold version 1 and neither has seen the other's change: the first to write
    wins; the second's UPDATE ... WHERE version = 1 waits for the first's commit (a row lock on
    PostgreSQL, the write lock on SQLite), then matches nothing."""
    event_id = demo["events"]["ground-battles-ruheibah"]
    first_wrote = threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        with write_session(engine) as session:
            outcome["first"] = writer.compare_and_set(
                session, Event, event_id, 1, {"summary": "first"}
            )
            first_wrote.set()
            time.sleep(0.3)  # hold the transaction open while the second one tries

    def second() -> None:
        first_wrote.wait()
        try:
            with write_session(engine) as session:
                writer.compare_and_set(session, Event, event_id, 1, {"summary": "second"})
            outcome["second"] = "won"
        except PreconditionFailed:
            outcome["second"] = "412"

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcome == {"first": 2, "second": "412"}
    with read_session(engine) as session:
        row = session.execute(
            select(Event.summary, Event.version).where(Event.id == event_id)
        ).one()
    assert tuple(row) == ("first", 2)


# -- the other resources -----------------------------------------------------------------------


def test_patch_article(client: TestClient, demo: dict[str, Any], engine: Engine) -> None:
    url = f"/v1/articles/{demo['article']['id']}"
    etag = etag_of(client, url)
    response = client.patch(
        url,
        json={"title": "Air raids in East Qalamoun", "byline": "Waleed a-Noufal", "url": None},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    article = response.json()
    assert (article["title"], article["byline"], article["url"]) == (
        "Air raids in East Qalamoun",
        "Waleed a-Noufal",
        None,
    )
    assert response.headers["etag"] != etag
    # The URL is normalised again: tracking parameters, case and "www." do not count.
    response = client.patch(
        url,
        json={"url": "HTTP://WWW.Example.org/qalamoun/?utm_source=x"},
        headers={"If-Match": response.headers["etag"]},
    )
    assert response.status_code == 200
    with read_session(engine) as session:
        norm = session.execute(
            select(Article.url_norm).where(Article.id == demo["article"]["id"])
        ).scalar()
    assert norm == "https://example.org/qalamoun"
    (audit,) = audit_rows(engine, "article.update")[-1:]
    assert audit["detail"]["changes"]["url_norm"] == [None, "https://example.org/qalamoun"]


def test_article_body_cannot_change_under_its_quotes(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    url = f"/v1/articles/{demo['article']['id']}"
    etag = etag_of(client, url)
    counts = row_counts(engine)
    problem = assert_problem(
        client.patch(url, json={"body": "Something else."}, headers={"If-Match": etag}), 422
    )
    assert problem["errors"][0]["type"] == "body_quoted"
    assert "quotes" in problem["detail"]
    assert row_counts(engine) == counts


def test_article_url_taken_is_409(client: TestClient, demo: dict[str, Any]) -> None:
    other = client.post(
        "/v1/reports",
        json={"article": {"url": "https://example.org/other", "outlet": {"id": 1}}},
    )
    assert other.status_code == 201, other.text
    url = f"/v1/articles/{other.json()['article']['id']}"
    problem = assert_problem(
        client.patch(
            url,
            # The demo article's URL, spelt differently.
            json={
                "url": "https://www.syriadirect.org/air-raids-and-clashes-in-east-qalamoun-"
                "amid-negotiations-for-rebel-surrender?utm_medium=feed"
            },
            headers={"If-Match": etag_of(client, url)},
        ),
        409,
    )
    assert problem["article_id"] == demo["article"]["id"]


def test_patch_quote(client: TestClient, demo: dict[str, Any], actors: dict[str, int]) -> None:
    url = f"/v1/quotes/{demo['quotes']['omar-bombing']}"
    etag = etag_of(client, url)
    unified = actors["Unified Command in East Qalamoun"]
    response = client.patch(
        url,
        json={"speaker_role": "activist", "speaks_for_id": unified},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    speaker = response.json()["speaker"]
    assert speaker["role"] == "activist" and speaker["speaks_for"]["id"] == unified
    for body in ({"text": "other words"}, {"start": 0}, {"speaks_for_id": 424242}):
        assert_problem(
            client.patch(url, json=body, headers={"If-Match": response.headers["etag"]}), 422
        )


def test_patch_actor_names(
    client: TestClient, demo: dict[str, Any], actors: dict[str, int]
) -> None:
    url = f"/v1/actors/{actors['Jaish Tahrir a-Sham']}"
    response = client.patch(
        url,
        json={"name": "Jaish Tahrir al-Sham", "add_aliases": ["JTS", "Jaysh Tahrir"]},
        headers={"If-Match": etag_of(client, url)},
    )
    assert response.status_code == 200, response.text
    actor = response.json()
    # "al-Sham" and "a-Sham" are one name; the new aliases are added.
    assert actor["name"] == "Jaish Tahrir al-Sham"
    assert {"JTS", "Jaysh Tahrir"} <= set(actor["aliases"])
    etag = response.headers["etag"]
    response = client.patch(
        url,
        json={"remove_aliases": ["jts"], "kind": "political_militia"},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert (
        "JTS" not in response.json()["aliases"] and response.json()["kind"] == "political_militia"
    )
    etag = response.headers["etag"]
    for body, type_ in [
        ({"remove_aliases": ["Jaish Tahrir al-Sham"]}, "primary_name"),
        ({"remove_aliases": ["Never Heard Of"]}, "not_an_alias"),
        ({"kind": "dragon"}, "unknown_kind"),
        ({"name": "---"}, "empty_name"),
    ]:
        problem = assert_problem(client.patch(url, json=body, headers={"If-Match": etag}), 422)
        assert problem["errors"][0]["type"] == type_
    # A name another actor of the same kind and country is known by.
    problem = assert_problem(
        client.patch(
            f"/v1/actors/{actors['Free Syrian Army']}",
            json={"add_aliases": ["Ahmad al-Abdo"]},
            headers={"If-Match": etag_of(client, f"/v1/actors/{actors['Free Syrian Army']}")},
        ),
        409,
        type_suffix="name-taken",
    )
    assert problem["actor_ids"] == [actors["Forces of Martyr Ahmad al-Abdo"]]


def test_patch_place_and_outlet(
    client: TestClient, demo: dict[str, Any], places: dict[str, int]
) -> None:
    url = f"/v1/places/{places['al-Ruheibah']}"
    etag = etag_of(client, url)
    response = client.patch(
        url,
        json={"name": "Ruhaibeh", "latitude": 33.74, "longitude": 36.7, "geonames_id": 170592},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    place = response.json()
    assert (place["name"], place["latitude"], place["geonames_id"]) == ("Ruhaibeh", 33.74, 170592)
    assert "al-Ruheibah" in place["aliases"]  # the old name stays a name of the place
    etag = response.headers["etag"]
    assert_problem(client.patch(url, json={"latitude": None}, headers={"If-Match": etag}), 422)
    assert_problem(client.patch(url, json={"latitude": 91}, headers={"If-Match": etag}), 422)
    assert_problem(client.patch(url, json={"kind": None}, headers={"If-Match": etag}), 422)
    sibling = client.post(
        "/v1/places",
        json={"name": "Jirud", "kind": "populated_place", "parent_id": places["East Qalamoun"]},
    )
    assert sibling.status_code == 201, sibling.text
    problem = assert_problem(
        client.patch(
            sibling.headers["location"],
            json={"geonames_id": 170592},
            headers={"If-Match": sibling.headers["etag"]},
        ),
        409,
    )
    assert problem["place_id"] == places["al-Ruheibah"]

    outlet = client.patch(
        "/v1/outlets/1",
        json={"url": "https://www.syriadirect.org/en", "kind": "international"},
        headers={"If-Match": etag_of(client, "/v1/outlets/1")},
    )
    assert outlet.status_code == 200, outlet.text
    assert (outlet.json()["domain"], outlet.json()["kind"]) == ("syriadirect.org", "international")
    assert outlet.headers["etag"] == '"outlet-1-v2"'
