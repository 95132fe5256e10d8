"""Two uvicorn worker processes on one database: an ETag is the same on both, a write through
one makes it stale on both, and neither answers 304 (or a cached stats answer) for it after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.reports.test_reports import small_report
from tests.system.crash.harness import APPS, Server, prepare_database

PATHS = [
    "/v1/events?limit=5",
    "/v1/events?format=ndjson",
    "/v1/stats/events?interval=month",
    "/v1/stats/events",
    "/v1/changes",
]


@pytest.fixture
def workers(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[httpx2.Client, httpx2.Client, str]]:
    """Workers A and B (separate processes, each its own stats cache), and a write key."""
    key, _ = prepare_database(database_url)
    servers = [Server(APPS["real"], database_url, tmp_path / f"worker-{name}.log") for name in "ab"]
    clients: list[httpx2.Client] = []
    try:
        for server in servers:
            server.start()  # one after the other: the second finds the schema migrated
            clients.append(httpx2.Client(base_url=server.base_url, timeout=30.0))
        yield clients[0], clients[1], key
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.kill()


def get(client: httpx2.Client, path: str, etag: str | None = None) -> httpx2.Response:
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(path, headers=headers)


@pytest.mark.slow
def test_etags_agree_across_workers_and_go_stale_on_a_write_through_either(
    workers: tuple[httpx2.Client, httpx2.Client, str],
) -> None:
    a, b, key = workers
    url = "https://example.org/workers/1"
    response = b.post(
        "/v1/reports", json=small_report(url=url), headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 201, response.text

    before: dict[str, httpx2.Response] = {}
    for path in PATHS:
        first = get(a, path)
        assert first.status_code == 200, first.text
        before[path] = first
        etag = first.headers["etag"]
        assert get(b, path).headers["etag"] == etag  # same version, same request, same tag
        for worker in (a, b):
            # Twice: the second time the stats answers come from each worker's memory.
            for _ in range(2):
                assert get(worker, path).content == first.content
                revalidated = get(worker, path, etag)
                assert revalidated.status_code == 304, (path, revalidated.text)
                assert revalidated.content == b""
                assert revalidated.headers["etag"] == etag

    # A write through worker B.
    response = b.post(
        "/v1/reports",
        json=small_report(url="https://example.org/workers/2"),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.text

    for path in PATHS:
        stale = before[path].headers["etag"]
        fresh_tags = set()
        for worker in (a, b):
            fresh = get(worker, path, stale)
            assert fresh.status_code == 200, (path, fresh.status_code)
            assert fresh.headers["etag"] != stale
            assert int(fresh.headers["data-version"]) > int(before[path].headers["data-version"])
            assert fresh.content != before[path].content  # the new event is in it
            fresh_tags.add(fresh.headers["etag"])
        assert len(fresh_tags) == 1
        (fresh_tag,) = fresh_tags
        for worker in (a, b):
            assert get(worker, path, stale).status_code == 200
            revalidated = get(worker, path, fresh_tag)
            assert revalidated.status_code == 304 and revalidated.content == b""

    # The stats answer each worker kept before the write is not served after it.
    counts = [get(w, "/v1/stats/events").json()["data"][0]["count"] for w in (a, b)]
    assert counts == [before["/v1/stats/events"].json()["data"][0]["count"] + 1] * 2
