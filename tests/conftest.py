"""Fixtures: every database test runs against SQLite and a real PostgreSQL server.

Each backend is migrated once with the real migrations (``alembic upgrade head``) into a
template; every test gets a fresh copy (a file copy for SQLite, ``CREATE DATABASE ...
TEMPLATE`` for PostgreSQL), so tests are isolated and the migrations are exercised on every run.
Fixtures made with ``seed`` (below) load their rows once into a template of their own, and
their tests get copies of that one.
PostgreSQL is a throwaway cluster the suite starts itself, in memory when a tmpfs has room
(see tests/pgcluster.py); set ``CONFLICTDB_TEST_PG_URL`` to an admin URL to use a running
server instead.

The suite runs in parallel (pytest-xdist, ``-n`` in pyproject.toml). Session fixtures are per
worker process, so each worker starts its own cluster and migrates its own templates (about a
second, in parallel with the others); templates and databases carry the worker's id in their
names, so workers can also share one server given by ``CONFLICTDB_TEST_PG_URL``.
"""

from __future__ import annotations

import copy
import functools
import gc
import json
import os
import queue
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from app.auth import service as auth_service
from app.config import Settings
from app.db import dialect, migrate
from app.db.session import create_db_engine
from app.main import create_app
from app.writer.transaction import write_session
from tests.derived_check import assert_derived_consistent, fingerprint
from tests.pgcluster import PostgresCluster, find_bin_dir

DEMO_PATH = Path(__file__).resolve().parents[1] / "app" / "demo" / "east_qalamoun_2018_04_18.json"
# The xdist worker ("gw0", "gw1", ...), or "main" without xdist: in database names, so that
# workers sharing one server (CONFLICTDB_TEST_PG_URL) never touch each other's databases.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
PG_TEMPLATE = f"conflictdb_template_{WORKER}"
BACKENDS = ["sqlite", "postgresql"]
T = TypeVar("T")


def unique_name(prefix: str) -> str:
    """A database name of this worker's, new each call."""
    return f"{prefix}_{WORKER}_{uuid.uuid4().hex[:12]}"


@pytest.hookimpl(optionalhook=True)  # xdist's hook: absent under -p no:xdist
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one worker more than there are cores.

    A worker is not always busy: the crash runs sleep through restarts and commit delays, and
    every test waits on its database server. Measured on 2 cores under the same load, 3 workers
    ran the suite in 353 s, 2 workers in 404 s. PYTEST_XDIST_AUTO_NUM_WORKERS still decides
    when set (None: xdist's own hook reads it).
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores + 1


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the garbage collector off what outlives every test, and collect less often.

    Each test makes an app, engines and schemas that only the cycle collector frees, and a
    full collection walked every object pytest, hypothesis, pandas and the app had imported:
    on `tests/stats tests/events -m "not slow"` in one process it took 48 s of 276 s. After
    collection those objects move to the permanent generation (``gc.freeze``), and a young
    generation of 10,000 objects instead of 700 makes its collections rarer: 16 s of GC, and
    the run 169 s. The app in production is untouched.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


@pytest.hookimpl(trylast=True)  # after pytest's own reordering (module fixtures' params)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow system tests first, each group in its own order.

    The fuzz and crash tests take up to a minute each; started first, they run beside the
    many short tests instead of after them, and no worker is left with a long test at the end
    while the others idle (``--dist loadgroup`` hands tests out one at a time, in this order).
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class PostgresServer:
    """Creates and drops databases on the test server (ours, or one given by URL).

    One admin connection serves every CREATE DATABASE (a connection costs a server process
    each time). A background thread with its own connection does the rest: ``drop_later``
    hands it drops, so a test's teardown does not wait for the server to delete a database
    nobody uses any more, and ``fresh`` has it copy the next test's database from the
    template while this test runs. ``close`` waits for that thread.
    """

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
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._jobs: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._errors: list[str] = []
        # Databases copied ahead from a template, by template: (name, None) when made, or
        # (name, the error) when the copy failed.
        self._spares: dict[str, queue.Queue[tuple[str, str | None]]] = {}
        self._spares_started: dict[str, bool] = {}

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self._conninfo, autocommit=True)

    def _admin(self, stmt: sql.Composable) -> None:
        # CREATE/DROP DATABASE cannot run in a transaction block: autocommit.
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            try:
                self._conn.execute(stmt)  # type: ignore[call-overload]  # a Composable
            except psycopg.OperationalError:
                # A broken admin connection (server restarted): once more on a new one.
                self._conn.close()
                self._conn = self._connect()
                self._conn.execute(stmt)  # type: ignore[call-overload]

    def create(self, name: str, template: str | None = None) -> str:
        # PostgreSQL 15's default strategy, WAL_LOG: measured against FILE_COPY on a test
        # cluster with other databases being written, 60 against 87 ms a copy of the migrated
        # template (FILE_COPY's checkpoint writes every dirty page of the whole server first).
        if template:
            self._admin(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def fresh(self, template: str) -> tuple[str, str]:
        """A new copy of ``template``: (name, URL). The copy was made while the previous test
        ran when there is one; the next is started now. The template must not change."""
        spares = self._spares.setdefault(template, queue.Queue())
        self._submit("create", template)
        if self._spares_started.get(template):
            name, error = spares.get()
            if error is None:
                return name, self.url_for(name)
            self._errors.append(f"copy of {template}: {error}")
        self._spares_started[template] = True
        name = unique_name("test")
        return name, self.create(name, template=template)

    def drop(self, name: str) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def drop_later(self, name: str) -> None:
        """Drop ``name`` in the background (WITH (FORCE): connections a test left go too)."""
        self._submit("drop", name)

    def _submit(self, job: str, arg: str) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="pg-admin", daemon=True)
            self._worker.start()
        self._jobs.put((job, arg))

    def _work(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while (item := self._jobs.get()) is not None:
            job, arg = item
            name = unique_name("test") if job == "create" else arg
            if job == "create":
                stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(arg)
                )
            else:
                stmt = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            try:
                if conn is None or conn.closed:
                    conn = self._connect()
                conn.execute(stmt)
            except psycopg.Error as exc:
                if job == "create":
                    self._spares[arg].put((name, str(exc)))
                else:
                    self._errors.append(f"{name}: {exc}")
                if conn is not None:
                    conn.close()
                conn = None
            else:
                if job == "create":
                    self._spares[arg].put((name, None))
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Wait for the background drops, then close the admin connection."""
        if self._worker is not None:
            for spares in self._spares.values():  # the copies made ahead that no test took
                while not spares.empty():
                    self._jobs.put(("drop", spares.get()[0]))
            self._jobs.put(None)
            self._worker.join()
            self._worker = None
            for spares in self._spares.values():  # copies finished after the drops were queued
                while not spares.empty():
                    self.drop(spares.get()[0])
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        if self._errors:
            raise RuntimeError("databases not made or dropped:\n" + "\n".join(self._errors))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    external = os.environ.get("CONFLICTDB_TEST_PG_URL")
    if external:
        server = PostgresServer(external)
        try:
            yield server
        finally:
            server.close()
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL server binaries not found (install postgresql-15, or set "
            "CONFLICTDB_PG_BIN or CONFLICTDB_TEST_PG_URL)"
        )
    cluster = PostgresCluster(bin_dir, in_memory=True)
    cluster.start()
    server = PostgresServer(cluster.admin_url)
    try:
        yield server
    finally:
        try:
            server.close()
        finally:
            cluster.stop()


def _migrated(url: str) -> None:
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        # What the app's first start does (an ANALYZE on a SQLite database never analysed),
        # done once in the template rather than in every test's copy.
        dialect.refresh_statistics(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    pg_server.drop(PG_TEMPLATE)  # a previous run's, on a server given by URL
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


# One engine per test database for the fixtures' and helpers' own reads and writes (keys, the
# derived-state check): a new engine costs a connection and the dialect's first-connect queries
# each time. Opened when the database is made, disposed when it goes; the app has its own.
_helper_engines: dict[str, Engine] = {}


def helper_engine(url: str) -> Engine:
    """The fixtures' engine on a test's database, or a new one the caller must dispose."""
    return _helper_engines.get(url) or create_db_engine(url)


@contextmanager
def _helper_engine_for(url: str) -> Iterator[Engine]:
    engine = _helper_engines[url] = create_db_engine(url)
    try:
        yield engine
    finally:
        del _helper_engines[url]
        engine.dispose()


# -- seeded databases -----------------------------------------------------------------------
# Some fixtures load the same rows for every test that asks for them (the stats tests' 700
# events, the GED sample, the events tests' world). Each is loaded once per worker and backend
# into a copy of the migrated template, and that copy is the template of those tests'
# databases: the same rows, ids and derived state as loading them into each, for the price
# of a copy. The fixture then returns a copy of what its loader returned.

_SEEDS: dict[str, Callable[[Engine], Any]] = {}
# (backend, seed) -> (the SQLite file or PostgreSQL database, what the loader returned, its
# fingerprint once its derived state was checked: tests/derived_check.py)
_seeded: dict[tuple[str, str], tuple[str, Any, tuple[int, ...]]] = {}


def seed(load: Callable[[Engine], T], *, name: str | None = None) -> Callable[..., T]:
    """A fixture named after ``load`` (or ``name``) whose rows come with the test's database.

    A test asking for two seeded fixtures gets the first one's copy, and the second loads its
    rows into it as a plain fixture would. Seeds are known by fixture name: no other fixture
    may have a seed's name (a module reuses the seed itself, imported).
    """
    name = name or load.__name__
    assert name not in _SEEDS, f"two seeded fixtures named {name}"
    _SEEDS[name] = load

    def fixture(request: pytest.FixtureRequest, database_url: str) -> T:
        if request.node.stash.get(_SEED_KEY, None) == name:
            result: T = copy.deepcopy(_seeded[(request.getfixturevalue("backend"), name)][1])
            return result
        return load(request.getfixturevalue("engine"))

    fixture.__name__ = name
    fixture.__doc__ = load.__doc__
    return pytest.fixture(name=name)(fixture)


_SEED_KEY = pytest.StashKey[str]()


def _seed_template(backend: str, name: str, request: pytest.FixtureRequest) -> str:
    """This worker's template holding seed ``name``'s rows: a SQLite path or a database name.
    Its derived state is checked once, when it is made."""
    found = _seeded.get((backend, name))
    if found is not None:
        return found[0]
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        path = factory.mktemp(f"seed-{name}") / "seed.sqlite3"
        shutil.copyfile(template, path)
        where, url = str(path), f"sqlite:///{path}"
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        where = f"seed_{name}_{WORKER}"
        server.drop(where)  # a previous run's, on a server given by URL
        url = server.create(where, template=request.getfixturevalue("pg_template"))
    engine = create_db_engine(url)
    try:
        result = _SEEDS[name](engine)
        # Checked once here; a test's copy again only if the test wrote to it.
        assert_derived_consistent(engine)
        checked = fingerprint(engine)
    finally:
        engine.dispose()
    _seeded[(backend, name)] = (where, result, checked)
    return where


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of the test's backend: empty, or holding the rows of the
    seeded fixture the test asks for (``seed`` above).

    Afterwards the writer's derived state (rollups, search, change feed) is checked against
    the data the test left (tests/derived_check.py), unless it is a seeded copy the test
    did not write to.
    """
    check = not request.node.get_closest_marker("broken_on_purpose")
    seeds = [n for n in request.fixturenames if n in _SEEDS]
    seeded = _seed_template(backend, seeds[0], request) if seeds else None
    checked = _seeded[(backend, seeds[0])][2] if seeds else None
    if seeds:
        request.node.stash[_SEED_KEY] = seeds[0]
    if backend == "sqlite":
        template = Path(seeded) if seeded else request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        with _helper_engine_for(url) as engine:
            yield url
            if check:
                assert_derived_consistent(engine, checked=checked)
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name, url = server.fresh(seeded or request.getfixturevalue("pg_template"))
    try:
        with _helper_engine_for(url) as engine:
            yield url
            if check:
                assert_derived_consistent(engine, checked=checked)
    finally:
        server.drop_later(name)


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A fresh database with no schema at all (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = unique_name("empty")
    url = server.create(name)
    try:
        yield url
    finally:
        server.drop_later(name)


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
    engine = helper_engine(database_url)
    try:
        with write_session(engine) as session:
            key, _ = auth_service.create_key(session, name=name, scopes=scopes)
        return key
    finally:
        if engine is not _helper_engines.get(database_url):
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
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    return engine


@functools.cache
def _demo_text() -> str:
    return DEMO_PATH.read_text(encoding="utf-8")


def demo_report() -> dict[str, Any]:
    """The demo report, a new copy each call (the file is read once)."""
    report: dict[str, Any] = json.loads(_demo_text())
    return report


@pytest.fixture
def demo(client: TestClient) -> dict[str, Any]:
    """The demo report, ingested through the API; returns the 201 body (ids by key)."""
    response = client.post("/v1/reports", json=demo_report())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
