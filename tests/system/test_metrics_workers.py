"""/metrics of a server with several worker processes (`conflictdb serve --workers 2`): every
worker's answer counts the requests of all of them (prometheus-client's multiprocess mode,
which `serve` sets up), not only its own."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.conftest import make_key
from tests.http.test_observe import _sample
from tests.system.crash.harness import REPO_ROOT, free_port

pytestmark = pytest.mark.slow

WORKERS = 2
REQUESTS = 40


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, the multiprocess directory) of `conflictdb serve --workers 2`."""
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"a previous run's")  # emptied by serve
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTDB_")}
    env.update(
        CONFLICTDB_DATABASE_URL=database_url,
        CONFLICTDB_ENVIRONMENT="test",
        CONFLICTDB_DEMO="false",
        CONFLICTDB_MIGRATE_ON_START="false",
        CONFLICTDB_RATE_LIMIT_PER_MINUTE="0",
        CONFLICTDB_ACCESS_LOG="false",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the workers too are stopped by the group's id at the end
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.1)
        yield base, metrics_dir
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def test_every_worker_reports_the_requests_of_all(
    server: tuple[str, Path], database_url: str
) -> None:
    base, metrics_dir = server
    admin = make_key(database_url, ["admin"], name="ops")
    for _ in range(REQUESTS):
        # A connection each, so the kernel spreads them over the workers.
        assert httpx2.get(f"{base}/v1/vocabulary", timeout=30).status_code == 200
    counted_by = {
        int(match.group(1))
        for name in os.listdir(metrics_dir)
        if (match := re.fullmatch(r"counter_(\d+)\.db", name))
    }
    assert len(counted_by) == WORKERS, counted_by  # both served (and the stale file is gone)
    for _ in range(8):  # whichever worker answers the scrape
        text = httpx2.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {admin}"}, timeout=30
        ).text
        count = _sample(
            text,
            "conflictdb_http_requests_total",
            method="GET",
            route="/v1/vocabulary",
            status="200",
        )
        assert count == REQUESTS, text
        assert _sample(text, "conflictdb_http_requests_in_progress") == 1  # the scrape itself
