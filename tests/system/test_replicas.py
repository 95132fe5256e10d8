"""Reads from a real PostgreSQL streaming replica: routing, read-your-writes under concurrent
writers (across two server processes), a replica stopped mid-run, and reads failing over to the
primary.

A primary and its replica (``pg_basebackup -R``, as the unprivileged user the suite uses:
tests/pgcluster.py) are started once for this module; each test gets a database of its own,
created on the primary from a migrated template and replicated like everything else. To see
which database answered, tests read the access log's ``database`` field or the metrics.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import migrate
from app.db.session import create_db_engine
from app.http.logs import ACCESS_LOGGER
from app.main import create_app
from tests.conftest import make_key, unique_name
from tests.http.test_observe import Lines, _sample
from tests.pgcluster import PostgresCluster, PostgresReplica, find_bin_dir
from tests.reports.test_reports import small_report
from tests.system.crash.harness import APPS, Server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("replicas")]

TEMPLATE = "replicated_template"
FAST_POLL = 0.05  # seconds between each process's checks of the replicas


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[PostgresCluster, PostgresReplica]]:
    if find_bin_dir() is None:
        pytest.fail("PostgreSQL server binaries not found (CONFLICTDB_PG_BIN)")
    primary = PostgresCluster(in_memory=True)
    primary.start()
    replica = PostgresReplica(primary)
    try:
        engine = create_db_engine(primary.create_database(TEMPLATE))
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        replica.start()
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()


@pytest.fixture
def urls(pair: tuple[PostgresCluster, PostgresReplica]) -> Iterator[tuple[str, str]]:
    """(primary URL, replica URL) of a fresh migrated database, replicated."""
    primary, replica = pair
    name = unique_name("replicated")
    url = primary.create_database(name, template=TEMPLATE)
    replica.resume_replay()
    replica.set_apply_delay(0)
    replica.wait_caught_up()
    try:
        yield url, replica.url_for(name)
    finally:
        replica.resume_replay()
        replica.set_apply_delay(0)
        primary.drop_database(name)


@pytest.fixture
def access_lines() -> Iterator[list[dict[str, Any]]]:
    handler = Lines()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def settings_for(url: str, *replica_urls: str, **more: Any) -> Settings:
    return Settings(
        database_url=url,
        replica_urls=list(replica_urls),
        environment="test",
        demo=False,
        migrate_on_start=False,
        rate_limit_per_minute=0,
        replica_check_interval_s=FAST_POLL,
        **more,
    )


@pytest.fixture
def app_for(urls: tuple[str, str]) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []
    key = make_key(urls[0], ["write"])

    def make(*replica_urls: str, **more: Any) -> TestClient:
        client = TestClient(
            create_app(settings_for(urls[0], *replica_urls, **more)),
            headers={"Authorization": f"Bearer {key}"},
        )
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def answered_by(lines: list[dict[str, Any]]) -> str:
    return str(lines[-1]["database"])


def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def replica_state(client: TestClient) -> dict[str, Any]:
    (state,) = client.get("/healthz").json()["replicas"]
    result: dict[str, Any] = state
    return result


def test_reads_go_to_the_replica_and_read_your_writes_to_the_primary(
    urls: tuple[str, str],
    pair: tuple[PostgresCluster, PostgresReplica],
    app_for: Callable[..., TestClient],
    access_lines: list[dict[str, Any]],
) -> None:
    _, replica = pair
    # The lag limit far off: this test holds the replica back on purpose for a while.
    client = app_for(urls[1], replica_max_lag_s=60)
    first = client.post("/v1/reports", json=small_report(url="https://example.org/r/1"))
    assert first.status_code == 201 and answered_by(access_lines) == "primary"
    v1 = int(first.headers["data-version"])
    replica.wait_caught_up()
    until(lambda: replica_state(client)["data_version"] == v1)
    listed = client.get("/v1/events")
    assert listed.status_code == 200 and answered_by(access_lines) == "replica-1"
    assert int(listed.headers["data-version"]) == v1
    v1_tag = listed.headers["etag"]

    # The replica stops applying the primary's changes; a second report is written.
    replica.pause_replay()
    second = client.post("/v1/reports", json=small_report(url="https://example.org/r/2"))
    v2 = int(second.headers["data-version"])
    new_id = second.json()["events"]["e1"]
    until(lambda: replica_state(client)["behind_versions"] == v2 - v1)
    state = replica_state(client)
    assert state["status"] == "ok" and state["data_version"] == v1  # behind, not yet lagging

    # Without a version: the replica's answer, as of v1.
    stale = client.get(f"/v1/events/{new_id}")
    assert stale.status_code == 404 and int(stale.headers["data-version"]) == v1
    assert answered_by(access_lines) == "replica-1"
    # With the version the write answered: the primary's, with the new event.
    fresh = client.get(f"/v1/events/{new_id}", headers={"Data-Version": str(v2)})
    assert fresh.status_code == 200 and answered_by(access_lines) == "primary"
    assert int(fresh.headers["data-version"]) >= v2
    listed = client.get("/v1/events", headers={"Data-Version": str(v2)})
    assert new_id in [e["id"] for e in listed.json()["data"]]
    v2_tag = listed.headers["etag"]

    # ETags: the replica answers 304 only for its own version; a tag of a later version
    # goes to the primary, which knows it (a 304), never to the replica's older 200.
    assert client.get("/v1/events", headers={"If-None-Match": v1_tag}).status_code == 304
    assert answered_by(access_lines) == "replica-1"
    revalidated = client.get("/v1/events", headers={"If-None-Match": v2_tag})
    assert revalidated.status_code == 304 and answered_by(access_lines) == "primary"

    # The change feed from v2 on: the replica has not got there, the primary answers (not 422).
    feed = client.get(f"/v1/changes?since={v2}")
    assert feed.status_code == 200 and answered_by(access_lines) == "primary"
    assert feed.json()["data_version"] >= v2

    # A cursor made at v2 is never followed on the replica still at v1: retried on the primary.
    page = client.get("/v1/events?limit=1&sort=-id", headers={"Data-Version": str(v2)})
    assert page.json()["data"][0]["id"] == new_id
    following = client.get(f"/v1/events?limit=1&sort=-id&cursor={page.json()['next_cursor']}")
    assert following.status_code == 200, following.text
    assert answered_by(access_lines) == "primary"
    assert following.json()["data"][0]["id"] < new_id

    # Writes never touch the replica (its replay is paused: a write there would fail anyway).
    tag = client.get(f"/v1/events/{new_id}", headers={"Data-Version": str(v2)}).headers["etag"]
    edited = client.patch(
        f"/v1/events/{new_id}", json={"fatalities_best": 9}, headers={"If-Match": tag}
    )
    assert edited.status_code == 200 and answered_by(access_lines) == "primary"

    # Replay resumes: the replica catches up and takes the reads again.
    replica.resume_replay()
    v3 = int(edited.headers["data-version"])
    until(lambda: replica_state(client)["data_version"] == v3)
    again = client.get(f"/v1/events/{new_id}")
    assert again.json()["fatalities_best"] == 9 and answered_by(access_lines) == "replica-1"


def test_a_lagging_replica_is_skipped(
    urls: tuple[str, str],
    pair: tuple[PostgresCluster, PostgresReplica],
    app_for: Callable[..., TestClient],
    access_lines: list[dict[str, Any]],
) -> None:
    _, replica = pair
    client = app_for(urls[1], replica_max_lag_s=0.5)
    until(lambda: replica_state(client)["status"] == "ok")
    replica.pause_replay()
    created = client.post("/v1/reports", json=small_report())
    new_id = created.json()["events"]["e1"]
    until(lambda: replica_state(client)["status"] == "lagging")
    state = replica_state(client)
    assert state["lag_seconds"] > 0.5 and state["behind_versions"] == 1
    # Even without a version, a read now goes to the primary: the replica is too far behind.
    assert client.get(f"/v1/events/{new_id}").status_code == 200
    assert answered_by(access_lines) == "primary"
    replica.resume_replay()
    until(lambda: replica_state(client)["status"] == "ok")
    assert client.get(f"/v1/events/{new_id}").status_code == 200
    assert answered_by(access_lines) == "replica-1"


def test_a_replica_unreachable_at_start_is_logged_and_skipped(
    urls: tuple[str, str],
    app_for: Callable[..., TestClient],
    access_lines: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"  # the discard port: refused
    with caplog.at_level(logging.WARNING, logger="app.db.replicas"):
        client = app_for(nowhere, urls[1])
    assert "replica-1 (127.0.0.1:9/nothing) is down" in caplog.text
    health = client.get("/healthz")
    assert health.status_code == 200
    down, _ = health.json()["replicas"]
    assert down["status"] == "down" and down["error"]
    until(lambda: client.get("/healthz").json()["replicas"][1]["status"] == "ok")
    for _ in range(6):
        assert client.get("/v1/events").status_code == 200
        assert answered_by(access_lines) == "replica-2"


def test_reads_fail_over_to_the_primary_when_no_replica_answers(
    urls: tuple[str, str],
    pair: tuple[PostgresCluster, PostgresReplica],
    app_for: Callable[..., TestClient],
    access_lines: list[dict[str, Any]],
) -> None:
    _, replica = pair
    client = app_for(urls[1])
    created = client.post("/v1/reports", json=small_report())
    event_id = created.json()["events"]["e1"]
    replica.wait_caught_up()
    until(lambda: replica_state(client)["data_version"] == int(created.headers["data-version"]))
    assert client.get(f"/v1/events/{event_id}").status_code == 200
    assert answered_by(access_lines) == "replica-1"
    replica.halt()
    try:
        # Whether a read or a poll finds the replica gone first, the reads are answered by the
        # primary (a read that found it is retried there), and the replica is marked down.
        for path in (f"/v1/events/{event_id}", "/v1/events", "/v1/stats/events", "/v1/changes"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            assert answered_by(access_lines) == "primary"
        state = replica_state(client)
        assert state["status"] == "down" and state["error"]
    finally:
        replica.resume()
    replica.wait_caught_up()
    until(lambda: replica_state(client)["status"] == "ok")
    assert client.get(f"/v1/events/{event_id}").status_code == 200
    assert answered_by(access_lines) == "replica-1"


# -- real servers -----------------------------------------------------------------------------


@pytest.fixture
def servers(
    urls: tuple[str, str], tmp_path: Path
) -> Iterator[Callable[[int], list[tuple[Server, httpx2.Client]]]]:
    """Server processes of the real app, reading from the replica."""
    started: list[tuple[Server, httpx2.Client]] = []

    def start(count: int) -> list[tuple[Server, httpx2.Client]]:
        out = []
        for n in range(count):
            server = Server(APPS["real"], urls[0], tmp_path / f"server-{n}.log")
            server.env.update(
                CONFLICTDB_REPLICA_URLS=urls[1],
                CONFLICTDB_REPLICA_CHECK_INTERVAL_S=str(FAST_POLL),
                CONFLICTDB_MIGRATE_ON_START="false",
                CONFLICTDB_ACCESS_LOG="false",
            )
            server.start()
            client = httpx2.Client(base_url=server.base_url, timeout=30.0)
            started.append((server, client))
            out.append((server, client))
        return out

    yield start
    for server, client in started:
        client.close()
        server.kill()


def _reads(client: httpx2.Client, admin: str) -> dict[str, float]:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"}).text
    return {
        name: sum(
            _sample(text, "conflictdb_reads_total", database=name, retried=retried) or 0.0
            for retried in ("true", "false")
        )
        for name in ("primary", "replica-1")
    }


def test_read_your_writes_under_concurrent_writers_across_processes(
    urls: tuple[str, str],
    pair: tuple[PostgresCluster, PostgresReplica],
    servers: Callable[[int], list[tuple[Server, httpx2.Client]]],
) -> None:
    """Four writers post reports through one server process and at once read each one back,
    with the Data-Version its answer gave, through the other. The replica applies every
    commit 300 ms late: a read sent there would miss the report (a 404), so every 200 is the
    routing's doing, while reads without a version keep going to the replica."""
    _, replica = pair
    replica.set_apply_delay(300)
    key = make_key(urls[0], ["write"])
    admin = make_key(urls[0], ["admin"], name="ops")
    (_, first), (_, second) = servers(2)
    auth = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    read_back = 0
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        nonlocal read_back
        with (
            httpx2.Client(base_url=str(first.base_url), timeout=30.0) as a,
            httpx2.Client(base_url=str(second.base_url), timeout=30.0) as b,
        ):
            write_and_read(n, a, b)

    def write_and_read(n: int, a: httpx2.Client, b: httpx2.Client) -> None:
        nonlocal read_back
        for i in range(8):
            url = f"https://example.org/ryw/{n}/{i}/{uuid.uuid4().hex[:6]}"
            posted = a.post("/v1/reports", json=small_report(url=url), headers=auth)
            if posted.status_code != 201:
                failures.append(f"POST {posted.status_code} {posted.text[:200]}")
                continue
            version = posted.headers["data-version"]
            event_id = posted.json()["events"]["e1"]
            seen = {"Data-Version": version}
            detail = b.get(f"/v1/events/{event_id}", headers=seen)
            listed = b.get("/v1/events?sort=-id&limit=50", headers=seen)
            if detail.status_code != 200:
                failures.append(f"detail {event_id} at {version}: {detail.status_code}")
            elif event_id not in [e["id"] for e in listed.json()["data"]]:
                failures.append(f"list at {version} lacks {event_id}")
            elif int(detail.headers["data-version"]) < int(version):
                failures.append(f"answered at {detail.headers['data-version']} < {version}")
            else:
                with lock:
                    read_back += 1

    def reader() -> None:
        with httpx2.Client(base_url=str(second.base_url), timeout=30.0) as own:
            while not stop.is_set():
                response = own.get("/v1/events?limit=5")
                if response.status_code != 200:
                    failures.append(f"unversioned read: {response.status_code}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    background = threading.Thread(target=reader)
    background.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    background.join()
    assert failures == []
    assert read_back == 32
    # Both databases served reads on each process: the replica the unversioned ones.
    reads = _reads(second, admin)
    assert reads["replica-1"] > 0 and reads["primary"] >= 32, reads


def test_a_replica_stopped_mid_run_costs_no_failed_read(
    urls: tuple[str, str],
    pair: tuple[PostgresCluster, PostgresReplica],
    servers: Callable[[int], list[tuple[Server, httpx2.Client]]],
) -> None:
    _, replica = pair
    key = make_key(urls[0], ["write"])
    admin = make_key(urls[0], ["admin"], name="ops")
    ((_, client),) = servers(1)
    created = client.post(
        "/v1/reports", json=small_report(), headers={"Authorization": f"Bearer {key}"}
    )
    event_id = created.json()["events"]["e1"]
    # Read-your-writes: the readers say the version the write answered with, so a replica
    # that has not replayed it yet does not answer (the event would be a 404 there).
    seen = {"Data-Version": created.headers["data-version"]}
    paths = [
        "/v1/events?limit=20",
        f"/v1/events/{event_id}",
        "/v1/stats/events?interval=month",
        "/v1/changes",
        "/v1/actors",
    ]
    # (Not a stream: one that began on the replica is cut if the replica goes mid-stream, as
    # on any database failure mid-stream; a client's retry is answered by the primary.)
    statuses: list[tuple[str, int]] = []
    stop = threading.Event()

    def reader(offset: int) -> None:
        n = offset
        with httpx2.Client(base_url=str(client.base_url), timeout=30.0, headers=seen) as own:
            while not stop.is_set():
                path = paths[n % len(paths)]
                n += 1
                try:
                    statuses.append((path, own.get(path).status_code))
                except httpx2.TransportError as exc:
                    statuses.append((path, -1))
                    raise AssertionError(f"{path}: {exc}") from exc

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    before = _reads(client, admin)
    replica.halt()
    try:
        time.sleep(2.0)
        health = client.get("/healthz").json()["replicas"][0]
        assert health["status"] == "down", health
        during = _reads(client, admin)
    finally:
        replica.resume()
    replica.wait_caught_up()
    until(lambda: client.get("/healthz").json()["replicas"][0]["status"] == "ok")
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join()
    after = _reads(client, admin)
    assert len(statuses) > 50
    assert [s for s in statuses if s[1] != 200] == []
    assert before["replica-1"] > 0
    assert during["primary"] > before["primary"]  # the primary took over
    assert after["replica-1"] > during["replica-1"]  # and the replica took back
