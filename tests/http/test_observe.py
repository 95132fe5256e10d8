"""Operable on many machines: a request id on every answer and problem, one structured log line
per request (never a key), and Prometheus metrics for admins or on a separate address."""

from __future__ import annotations

import logging
import socket
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.http.logs import ACCESS_LOGGER, JsonFormatter
from app.main import create_app
from tests.conftest import make_key
from tests.helpers import assert_problem
from tests.reports.test_reports import small_report


class Lines(logging.Handler):
    """The access log's lines, as the JSON formatter writes them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(self.format(record)))


@pytest.fixture
def access_lines() -> Iterator[list[dict[str, Any]]]:
    handler = Lines()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def app_with(settings: Settings, write_key: str) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**changes: Any) -> TestClient:
        test_client = TestClient(
            create_app(settings.model_copy(update=changes)),
            headers={"Authorization": f"Bearer {write_key}"},
        )
        clients.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


def test_every_answer_has_a_request_id_and_every_problem_names_it(
    client: TestClient, anon_client: TestClient
) -> None:
    ids = set()
    for response in (
        client.get("/v1/events"),
        client.get("/v1/events/999"),  # 404
        client.get("/v1/events?colour=red"),  # 422
        client.post("/v1/reports", content=b"{", headers={"content-type": "application/json"}),
        anon_client.post("/v1/reports", json=small_report()),  # 401
        client.get("/nowhere"),  # 404 outside the API
        client.get("/healthz"),
    ):
        request_id = response.headers["x-request-id"]
        assert len(request_id) == 16 and int(request_id, 16) >= 0
        ids.add(request_id)
        if response.status_code >= 400:
            assert response.json()["request_id"] == request_id, response.text
    assert len(ids) == 7


def test_a_clients_request_id_is_kept_when_it_is_a_plain_token(client: TestClient) -> None:
    kept = client.get("/v1/events/999", headers={"X-Request-Id": "lb-7f3a.9:2"})
    assert kept.headers["x-request-id"] == "lb-7f3a.9:2"
    assert kept.json()["request_id"] == "lb-7f3a.9:2"
    for unsafe in ("a b", "x" * 65, "é", "<script>"):
        replaced = client.get("/v1/events/999", headers={b"X-Request-Id": unsafe.encode()})
        assert replaced.headers["x-request-id"] != unsafe
        assert len(replaced.headers["x-request-id"]) == 16


def test_a_500_has_a_request_id_too(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.events import repository

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(repository, "get_event", broken)
    with TestClient(client.app, raise_server_exceptions=False) as raw:
        response = raw.get("/v1/events/1")
    assert_problem(response, 500)
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_one_log_line_per_request_with_the_key_prefix_never_the_key(
    client: TestClient, write_key: str, access_lines: list[dict[str, Any]]
) -> None:
    created = client.post("/v1/reports", json=small_report())
    event_id = created.json()["events"]["e1"]
    client.get(f"/v1/events/{event_id}", headers={"X-Request-Id": "trace-1"})
    client.get("/v1/events?colour=red")
    assert [(line["method"], line["route"], line["status"]) for line in access_lines] == [
        ("POST", "/v1/reports", 201),
        ("GET", "/v1/events/{event_id}", 200),
        ("GET", "/v1/events", 422),
    ]
    post, get, refused = access_lines
    assert get["request_id"] == "trace-1" and get["path"] == f"/v1/events/{event_id}"
    assert post["key"] == write_key[:12] and post["data_version"] == int(
        created.headers["data-version"]
    )
    for line in access_lines:
        assert line["logger"] == ACCESS_LOGGER and line["level"] == "info"
        assert line["duration_ms"] >= 0 and line["bytes"] > 0
        assert line["database"] == "primary"
        assert write_key not in orjson.dumps(line).decode()
        assert write_key[12:] not in orjson.dumps(line).decode()
    assert refused["request_id"] != get["request_id"]


def test_the_access_log_is_a_setting(
    app_with: Callable[..., TestClient], access_lines: list[dict[str, Any]]
) -> None:
    quiet = app_with(access_log=False)
    quiet.get("/v1/events")
    assert access_lines == []


def test_log_lines_inside_a_request_name_its_id() -> None:
    from app.core import context
    from app.core.context import RequestContext

    record = logging.LogRecord("app.x", logging.WARNING, __file__, 1, "slow %s", ("query",), None)
    context.begin(RequestContext("req-42"))
    try:
        line = orjson.loads(JsonFormatter().format(record))
    finally:
        context.begin(None)  # type: ignore[arg-type]
    assert line["request_id"] == "req-42" and line["message"] == "slow query"
    assert line["level"] == "warning" and line["time"].endswith("Z")


def _sample(text: str, name: str, **labels: str) -> float | None:
    """A sample's value in Prometheus's text format (labels in any order)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        base, _, label_text = metric.partition("{")
        if base != name:
            continue
        found = dict(
            part.split("=", 1) for part in label_text.rstrip("}").split(",") if "=" in part
        )
        if all(found.get(k) == f'"{v}"' for k, v in labels.items()):
            return float(value)
    return None


def test_metrics_need_the_admin_scope(
    client: TestClient, anon_client: TestClient, database_url: str
) -> None:
    assert_problem(anon_client.get("/metrics"), 401)
    assert_problem(client.get("/metrics"), 403)  # write, not admin
    admin = make_key(database_url, ["admin"], name="ops")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")


def test_metrics_count_requests_by_route_and_status(
    app_with: Callable[..., TestClient], database_url: str
) -> None:
    admin = make_key(database_url, ["admin"], name="ops")
    client = app_with(rate_limit_per_minute=4)
    created = client.post("/v1/reports", json=small_report())
    assert created.status_code == 201
    assert client.post("/v1/reports", json=small_report()).status_code == 200  # recognised
    client.get("/v1/events/1")
    client.get("/v1/events/424242")
    for _ in range(3):
        client.get("/v1/events")  # the fourth and fifth requests of this key: refused
    for path in ("/v1/x1", "/v1/x2"):
        client.get(path)
    text = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"}).text

    def count(route: str, status: int, method: str = "GET") -> float | None:
        return _sample(
            text, "conflictdb_http_requests_total", method=method, route=route, status=str(status)
        )

    assert count("/v1/reports", 201, "POST") == 1
    assert count("/v1/reports", 200, "POST") == 1
    assert count("/v1/events/{event_id}", 200) == 1
    assert count("/v1/events/{event_id}", 404) == 1
    # Refused before routing, still counted under their route.
    assert count("/v1/events", 429) == 3
    # Paths no route serves share one label: clients cannot grow the metrics.
    assert count("<unmatched>", 429) == 2
    assert "/v1/x1" not in text
    assert _sample(text, "conflictdb_rate_limit_refusals_total") == 5
    assert _sample(text, "conflictdb_reports_ingested_total", outcome="created") == 1
    assert _sample(text, "conflictdb_reports_ingested_total", outcome="recognised") == 1
    assert (
        _sample(
            text,
            "conflictdb_http_request_duration_seconds_count",
            method="GET",
            route="/v1/events/{event_id}",
        )
        == 2
    )
    assert _sample(text, "conflictdb_data_version") == int(created.headers["data-version"])
    assert _sample(text, "conflictdb_primary_up") == 1
    assert _sample(text, "conflictdb_db_connections_in_use", database="primary") is not None
    assert _sample(text, "conflictdb_db_connections_max", database="primary") == 20
    assert _sample(text, "conflictdb_reads_total", database="primary", retried="false") == 3


def test_metrics_count_streams(client: TestClient, database_url: str, demo: Any) -> None:
    admin = make_key(database_url, ["admin"], name="ops")
    assert client.get("/v1/events?format=csv").status_code == 200
    text = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"}).text
    assert _sample(text, "conflictdb_streams_total", outcome="completed") == 1
    assert _sample(text, "conflictdb_streams_active") == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_metrics_on_a_separate_address_need_no_key(app_with: Callable[..., TestClient]) -> None:
    port = _free_port()
    client = app_with(metrics_address=f"127.0.0.1:{port}")
    client.get("/v1/events")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    assert (
        _sample(
            text, "conflictdb_http_requests_total", method="GET", route="/v1/events", status="200"
        )
        == 1
    )
    # A second app (another worker) finds the port taken and serves nothing itself.
    app_with(metrics_address=f"127.0.0.1:{port}").get("/v1/events")


def test_a_metrics_address_must_be_host_and_port() -> None:
    for good in ("0.0.0.0:9100", ":9100", "[::1]:9100", "metrics.internal:9100"):
        Settings(metrics_address=good)
    for bad in ("9100", "http://x:9100", "a b:1", "host:port"):
        with pytest.raises(ValueError):
            Settings(metrics_address=bad)
