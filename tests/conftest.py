"""Fixtures: every database test runs against SQLite and a real PostgreSQL server.

Each backend is migrated once with the real migrations (``alembic upgrade head``) into a
template; every test gets a fresh copy (a file copy for SQLite, ``CREATE DATABASE ...
TEMPLATE`` for PostgreSQL), so tests are isolated and the migrations are exercised on every run.
PostgreSQL is a throwaway cluster the suite starts itself (see tests/pgcluster.py); set
``CONFLICTDB_TEST_PG_URL`` to an admin URL to use a running server instead.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from app.auth import service as auth_service
from app.config import Settings
from app.db import migrate
from app.db.session import create_db_engine
from app.main import create_app
from app.writer.transaction import write_session
from tests.derived_check import assert_derived_consistent
from tests.pgcluster import PostgresCluster, find_bin_dir

DEMO_PATH = Path(__file__).resolve().parents[1] / "app" / "demo" / "east_qalamoun_2018_04_18.json"
PG_TEMPLATE = "conflictdb_template"
BACKENDS = ["sqlite", "postgresql"]


class PostgresServer:
    """Creates and drops databases on the test server (ours, or one given by URL)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        url = make_url(admin_url)
        self._conninfo = psycopg.conninfo.make_conninfo(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or "",
            dbname=url.database or "postgres",
        )

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _admin(self, stmt: sql.Composable) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(stmt)

    def create(self, name: str, template: str | None = None) -> str:
        if template:
            self._admin(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop(self, name: str) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    external = os.environ.get("CONFLICTDB_TEST_PG_URL")
    if external:
        yield PostgresServer(external)
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL server binaries not found (install postgresql-15, or set "
            "CONFLICTDB_PG_BIN or CONFLICTDB_TEST_PG_URL)"
        )
    cluster = PostgresCluster(bin_dir)
    cluster.start()
    try:
        yield PostgresServer(cluster.admin_url)
    finally:
        cluster.stop()


def _migrated(url: str) -> None:
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    pg_server.drop(PG_TEMPLATE)
    _migrated(pg_server.create(PG_TEMPLATE))
    return PG_TEMPLATE


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    _migrated(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database of the test's backend.

    Afterwards the writer's derived state (rollups, search, change feed) is checked against
    the data the test left (tests/derived_check.py).
    """
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        if not request.node.get_closest_marker("broken_on_purpose"):
            assert_derived_consistent(f"sqlite:///{path}")
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    request.getfixturevalue("pg_template")
    name = f"test_{uuid.uuid4().hex[:12]}"
    url = server.create(name, template=PG_TEMPLATE)
    try:
        yield url
        if not request.node.get_closest_marker("broken_on_purpose"):
            assert_derived_consistent(url)
    finally:
        server.drop(name)


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A fresh database with no schema at all (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"empty_{uuid.uuid4().hex[:12]}"
    url = server.create(name)
    try:
        yield url
    finally:
        server.drop(name)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        environment="test",
        demo=False,
        migrate_on_start=False,
        rate_limit_per_minute=0,
    )


def make_key(database_url: str, scopes: list[str], name: str = "tests") -> str:
    engine = create_db_engine(database_url)
    try:
        with write_session(engine) as session:
            key, _ = auth_service.create_key(session, name=name, scopes=scopes)
        return key
    finally:
        engine.dispose()


@pytest.fixture
def write_key(database_url: str) -> str:
    """A raw API key with the 'write' scope (the client fixture sends it)."""
    return make_key(database_url, ["write"], name="tests-write")


@pytest.fixture
def admin_key(database_url: str) -> str:
    return make_key(database_url, ["admin"], name="tests-admin")


@pytest.fixture
def client(settings: Settings, write_key: str) -> Iterator[TestClient]:
    """The app over HTTP, sending a write key on every request."""
    app = create_app(settings)
    with TestClient(app, headers={"Authorization": f"Bearer {write_key}"}) as test_client:
        yield test_client


@pytest.fixture
def anon_client(client: TestClient) -> TestClient:
    """The same running app, without any key."""
    return TestClient(client.app)


@pytest.fixture
def engine(client: TestClient) -> Engine:
    """The app's own engine, for asserting on what was (not) written."""
    return client.app.state.engine  # type: ignore[attr-defined,no-any-return]


def demo_report() -> dict[str, Any]:
    return json.loads(DEMO_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def demo(client: TestClient) -> dict[str, Any]:
    """The demo report, ingested through the API; returns the 201 body (ids by key)."""
    response = client.post("/v1/reports", json=demo_report())
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
