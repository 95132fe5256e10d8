"""Concurrent writers: identical reports race, and exactly one is stored."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.reports import service
from tests.helpers import row_counts
from tests.reports.test_reports import small_report

WRITERS = 8


def test_identical_reports_racing_store_one(client: TestClient, engine: Engine) -> None:
    report = service.parse_report(json.dumps(small_report()).encode())
    barrier = Barrier(WRITERS)

    def post() -> service.Outcome:
        barrier.wait()
        return service.ingest_report(engine, report)

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(lambda _: post(), range(WRITERS)))
    assert sorted(o.status for o in outcomes) == [200] * (WRITERS - 1) + [201]
    assert all(o.body == outcomes[0].body for o in outcomes)
    counts = row_counts(engine)
    assert counts["article"] == counts["event"] == counts["report"] == 1
    assert counts["outlet"] == counts["actor"] == 1


def test_different_reports_sharing_new_entities_racing(client: TestClient, engine: Engine) -> None:
    # Every report names the same new outlet, actor and places: they must be created once.
    reports = [
        service.parse_report(json.dumps(small_report(url=f"https://example.org/{i}")).encode())
        for i in range(WRITERS)
    ]
    barrier = Barrier(WRITERS)

    def post(i: int) -> service.Outcome:
        barrier.wait()
        return service.ingest_report(engine, reports[i])

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(post, range(WRITERS)))
    assert [o.status for o in outcomes] == [201] * WRITERS
    counts = row_counts(engine)
    assert counts["article"] == counts["event"] == WRITERS
    assert counts["outlet"] == counts["actor"] == 1
    assert counts["place"] == 2  # Syria and al-Bab


def test_racing_reports_create_a_new_actor_once(client: TestClient, engine: Engine) -> None:
    # The outlet and places exist already, so nothing but the new actor's name is contended
    # (an actor's name is no unique key: only the writer's name lock keeps this to one actor).
    assert (
        client.post("/v1/reports", json=small_report(url="https://example.org/seed")).status_code
        == 201
    )
    reports = []
    for i in range(WRITERS):
        doc = small_report(url=f"https://example.org/race/{i}")
        doc["events"][0]["actors"] = [
            {"actor": {"name": "Brand New Brigade", "kind": "rebel_group", "country": "SY"}}
        ]
        reports.append(service.parse_report(json.dumps(doc).encode()))
    barrier = Barrier(WRITERS)

    def post(i: int) -> service.Outcome:
        barrier.wait()
        return service.ingest_report(engine, reports[i])

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(post, range(WRITERS)))
    assert [o.status for o in outcomes] == [201] * WRITERS
    found = client.get("/v1/actors", params={"name": "Brand New Brigade"}).json()["data"]
    assert len(found) == 1
