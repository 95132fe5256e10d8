"""Run writers against a uvicorn server, SIGKILL it at random moments, then audit the database.

The server is the real thing (``python -m uvicorn <factory> --factory``) on 127.0.0.1. Clients
POST unique synthetic reports, each with several quotes and events so that a half-written one
shows; every request carries an ``Idempotency-Key`` and is retried with it after a connection
error, so a report whose answer was lost in a kill is answered on retry, not written twice.
A tenth of the acknowledged reports are sent again with their key, and must replay the same ids.

Killing a process (not the machine) is what this exercises: a commit the server acknowledged
must survive it, and a transaction it had not committed must leave nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import Engine, and_, exists, func, select, text
from sqlalchemy.exc import SQLAlchemyError

import app.models  # noqa: F401  (every table registered before the metadata is walked)
from app.auth import service as auth_service
from app.db import migrate
from app.db.base import Base
from app.db.session import create_db_engine, read_session
from app.models import (
    Article,
    AuditEntry,
    Claim,
    EventActor,
    EventSource,
    EventSourceQuote,
    IdempotencyRecord,
    Quote,
    Report,
)
from app.writer.transaction import write_session

REPO_ROOT = Path(__file__).resolve().parents[3]

# The server under test: the real app, or a deliberately broken variant (negative controls).
APPS = {
    "real": "app.main:create_app",
    "row-by-row": "tests.system.crash.faulty_app:create_row_by_row_app",
    "ack-before-commit": "tests.system.crash.faulty_app:create_ack_before_commit_app",
}

ACTOR_POOL = 6  # shared names, so concurrent reports race to create the same actors
PLACE_POOL = 4
RETRYABLE_STATUSES = {429, 502, 503, 504}
URL_BASE = "https://crash.example.org"


@dataclass
class CrashConfig:
    backend: str
    clients: int = 8
    kills: int = 5
    seconds: float = 30.0
    app: str = "real"
    seed: int | None = None
    events_per_report: int = 3
    quotes_per_report: int = 4
    resend_fraction: float = 0.1
    # After the writing time, how long clients keep retrying requests still unanswered.
    grace: float = 30.0
    # A quiet pause before the server is killed for good, so that last kill is not a crash
    # point: what it finds is a server at rest.
    settle: float = 1.0


@dataclass
class Spec:
    """What a report sent: enough to recognise it, whole, in the database."""

    url: str
    quotes: int
    events: int
    actors_per_event: int
    quotes_per_event: list[int]
    document: dict[str, Any]


@dataclass
class Ack:
    url: str
    idempotency_key: str
    status: int
    body: dict[str, Any]


@dataclass
class CrashResult:
    config: CrashConfig
    seed: int
    elapsed: float = 0.0
    sent: int = 0
    acked: list[Ack] = field(default_factory=list)
    unanswered: int = 0
    retries: int = 0
    replays_checked: int = 0
    kills_done: int = 0
    in_flight_at_kills: list[int] = field(default_factory=list)
    restart_seconds: list[float] = field(default_factory=list)  # from the kill to healthy
    latencies: list[float] = field(default_factory=list)
    violations: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def kinds(self) -> Counter[str]:
        return Counter(kind for kind, _ in self.violations)

    @property
    def reports_per_second(self) -> float:
        return len(self.acked) / self.elapsed if self.elapsed else 0.0

    def latency_ms(self, quantile: float) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return 1000 * cuts[min(98, max(0, round(quantile * 100) - 1))]

    def summary(self) -> str:
        c = self.config
        lines = [
            f"crash test: backend={c.backend} app={c.app} clients={c.clients} kills={c.kills} "
            f"seconds={c.seconds:g} seed={self.seed}",
            f"  sent {self.sent} reports, acknowledged {len(self.acked)} "
            f"({self.reports_per_second:.1f}/s over {self.elapsed:.1f}s; "
            f"latency p50 {self.latency_ms(0.5):.0f} ms, p99 {self.latency_ms(0.99):.0f} ms)",
            f"  kills {self.kills_done} (requests in flight at each: {self.in_flight_at_kills}; "
            f"back up after {', '.join(f'{t:.1f}' for t in self.restart_seconds) or '-'} s), "
            f"retried requests {self.retries}, replays checked {self.replays_checked}, "
            f"unanswered {self.unanswered}",
        ]
        lines += [f"  note: {note}" for note in self.notes]
        if self.ok:
            lines.append("  verified: no violations")
        else:
            lines.append(f"  VIOLATIONS {dict(self.kinds())}:")
            lines += [f"    [{kind}] {what}" for kind, what in self.violations[:40]]
            if len(self.violations) > 40:
                lines.append(f"    ... and {len(self.violations) - 40} more")
        return "\n".join(lines)


# -- the database, before the server starts ----------------------------------------------------


def prepare_database(database_url: str) -> tuple[str, int]:
    """Migrate the database and create a write key in it: (the key, its id)."""
    engine = create_db_engine(database_url)
    try:
        migrate.upgrade(engine)
        with write_session(engine) as session:
            key, record = auth_service.create_key(session, name="crash-test", scopes=["write"])
        return key, int(record["id"])
    finally:
        engine.dispose()


# -- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One uvicorn process at a time on a fixed port, restarted after each kill."""

    def __init__(self, factory: str, database_url: str, log_path: Path) -> None:
        self.factory = factory
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTDB_")}
        env.update(
            CONFLICTDB_DATABASE_URL=database_url,
            CONFLICTDB_DEMO="false",
            CONFLICTDB_MIGRATE_ON_START="true",
            # Not "local": that mode writes a key file into the working directory.
            CONFLICTDB_ENVIRONMENT="test",
            # Eight writers on one key would trip the default per-key rate limit.
            CONFLICTDB_RATE_LIMIT_PER_MINUTE="0",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        )
        self.env = env

    def start(self, timeout: float = 60.0) -> None:
        assert self.process is None or self.process.poll() is not None
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {time.strftime('%H:%M:%S')} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    self.factory,
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-access-log",
                ],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        with httpx2.Client(base_url=self.base_url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited at start:\n{self.log_tail()}")
                with contextlib.suppress(httpx2.TransportError):
                    if http.get("/healthz").status_code == 200:
                        return
                time.sleep(0.05)
        raise RuntimeError(f"the server was not healthy within {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text_ = self.log_path.read_text(errors="replace")
        except OSError:
            return "<no log>"
        return "\n".join(text_.splitlines()[-lines:])


# -- the clients ---------------------------------------------------------------------------------


def synthetic_report(
    run: str,
    client: int | str,
    seq: int,
    rng: random.Random,
    cfg: CrashConfig,
    actor_pairs: list[tuple[int, int]] | None = None,
) -> Spec:
    """A unique, valid report with several quotes and events, each event citing some quotes.

    Each event names two actors of a shared pool (``actor_pairs``, or drawn at random).
    """
    if actor_pairs is None:
        actor_pairs = []
        for _ in range(cfg.events_per_report):
            a, b = rng.sample(range(ACTOR_POOL), k=2)
            actor_pairs.append((a, b))
    sentences = [
        f"Witness {client}-{seq}-{i} said the shelling of the market lasted an hour."
        for i in range(cfg.quotes_per_report)
    ]
    quotes = [{"key": f"q{i}", "text": s} for i, s in enumerate(sentences)]
    events = []
    quotes_per_event = []
    for i, (a, b) in enumerate(actor_pairs):
        cited = sorted(rng.sample(range(cfg.quotes_per_report), k=rng.randint(1, 2)))
        quotes_per_event.append(len(cited))
        events.append(
            {
                "key": f"e{i}",
                "event_type": "Explosions/Remote violence",
                "sub_event_type": "Shelling/artillery/missile attack",
                "date_start": f"2018-04-{1 + (seq + i) % 28:02d}",
                "place": {
                    "name": f"Crash Town {rng.randrange(PLACE_POOL)}",
                    "kind": "populated_place",
                    "parent": {"name": "Syria", "kind": "country", "country": "SY"},
                },
                "fatalities": {"best": rng.randint(0, 9)},
                "actors": [
                    {
                        "actor": {
                            "name": f"Crash Group {n}",
                            "kind": "rebel_group",
                            "country": "SY",
                        },
                        "side": side,
                    }
                    for n, side in ((a, "a"), (b, "b"))
                ],
                "quotes": [f"q{j}" for j in cited],
                "measures": [{"kind": "shells", "value": i + 1, "quote": f"q{cited[0]}"}],
            }
        )
    url = f"{URL_BASE}/{run}/{client}/{seq}"
    document = {
        "article": {
            "url": url,
            "title": f"Report {client}-{seq}",
            "published_date": "2018-04-30",
            "outlet": {"name": "Crash Wire", "url": "https://crash.example.org"},
            "body": " ".join(sentences),
        },
        "quotes": quotes,
        "events": events,
    }
    return Spec(url, len(quotes), len(events), 2, quotes_per_event, document)


class Run:
    """Shared state of one crash run: what was sent and acknowledged, and what went wrong."""

    def __init__(self, cfg: CrashConfig, server: Server, key: str, key_id: int, seed: int) -> None:
        self.cfg = cfg
        self.server = server
        self.key = key
        self.key_id = key_id  # what this run wrote is what this key wrote
        self.seed = seed
        self.run_id = uuid.uuid4().hex[:8]
        self.lock = threading.Lock()
        self.specs: dict[str, Spec] = {}
        self.result = CrashResult(cfg, seed)
        self.in_flight = 0
        self.deadline = 0.0
        self.hard_deadline = 0.0

    def violation(self, kind: str, what: str) -> None:
        with self.lock:
            self.result.violations.append((kind, what))

    def post(
        self, http: httpx2.Client, spec: Spec, idempotency_key: str
    ) -> tuple[int, dict[str, Any]] | None:
        """POST until answered (retrying lost connections with the same key), or give up."""
        delay = 0.05
        attempt = 0
        while time.monotonic() < self.hard_deadline:
            attempt += 1
            if attempt > 1:
                with self.lock:
                    self.result.retries += 1
            started = time.monotonic()
            with self.lock:
                self.in_flight += 1
            try:
                response = http.post(
                    "/v1/reports",
                    json=spec.document,
                    headers={"Idempotency-Key": idempotency_key},
                )
            except httpx2.TransportError:
                # The server died under us, or is restarting: same request, same key, later.
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            finally:
                with self.lock:
                    self.in_flight -= 1
            if response.status_code in RETRYABLE_STATUSES:
                retry_after = response.headers.get("retry-after", "")
                time.sleep(min(float(retry_after), 2.0) if retry_after.isdigit() else delay)
                delay = min(delay * 2, 0.5)
                continue
            if response.status_code >= 500:
                self.violation(
                    "server-error", f"{spec.url}: {response.status_code} {response.text[:300]}"
                )
                time.sleep(delay)
                continue
            if 200 <= response.status_code < 300:
                with self.lock:
                    self.result.latencies.append(time.monotonic() - started)
            try:
                body = response.json()
            except ValueError:
                body = {"raw": response.text[:300]}
            return response.status_code, body
        return None

    def client(self, number: int) -> None:
        rng = random.Random(f"{self.seed}-{number}")
        seq = 0
        with httpx2.Client(
            base_url=self.server.base_url,
            timeout=httpx2.Timeout(60.0, connect=2.0),
            headers={"Authorization": f"Bearer {self.key}"},
        ) as http:
            while time.monotonic() < self.deadline:
                spec = synthetic_report(self.run_id, number, seq, rng, self.cfg)
                seq += 1
                idempotency_key = uuid.uuid4().hex
                with self.lock:
                    self.specs[spec.url] = spec
                    self.result.sent += 1
                answer = self.post(http, spec, idempotency_key)
                if answer is None:
                    with self.lock:
                        self.result.unanswered += 1
                    self.violation("unanswered", f"{spec.url}: no answer before the deadline")
                    continue
                status, body = answer
                if not 200 <= status < 300:
                    self.violation("refused", f"{spec.url}: {status} {str(body)[:300]}")
                    continue
                ack = Ack(spec.url, idempotency_key, status, body)
                with self.lock:
                    self.result.acked.append(ack)
                if rng.random() < self.cfg.resend_fraction:
                    self.check_replay(http, spec, ack)

    def check_replay(self, http: httpx2.Client, spec: Spec, ack: Ack) -> None:
        answer = self.post(http, spec, ack.idempotency_key)
        with self.lock:
            self.result.replays_checked += 1
        if answer is None:
            self.violation("replay", f"{spec.url}: the re-send got no answer")
            return
        status, body = answer
        if not 200 <= status < 300 or _ids(body) != _ids(ack.body):
            self.violation(
                "replay",
                f"{spec.url}: re-sent with its key, got {status} {_ids(body)}, "
                f"first answer {ack.status} {_ids(ack.body)}",
            )


def _ids(body: dict[str, Any]) -> tuple[Any, ...]:
    return (
        (body.get("article") or {}).get("id"),
        tuple(sorted((body.get("quotes") or {}).items())),
        tuple(sorted((body.get("events") or {}).items())),
    )


# -- the run -----------------------------------------------------------------------------------


def run_crash_test(cfg: CrashConfig, database_url: str, workdir: Path) -> CrashResult:
    """Write, kill, restart, and verify; the server is always killed before this returns."""
    seed = cfg.seed if cfg.seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    key, key_id = prepare_database(database_url)
    workdir.mkdir(parents=True, exist_ok=True)
    server = Server(APPS.get(cfg.app, cfg.app), database_url, workdir / "server.log")
    run = Run(cfg, server, key, key_id, seed)
    threads: list[threading.Thread] = []
    try:
        server.start()
        started = time.monotonic()
        run.deadline = started + cfg.seconds
        run.hard_deadline = run.deadline + cfg.grace
        threads = [
            threading.Thread(target=run.client, args=(n,), name=f"crash-client-{n}", daemon=True)
            for n in range(cfg.clients)
        ]
        for thread in threads:
            thread.start()
        # Kills at random moments in the middle of the run, so each lands among writes. The
        # run's clock is the server's time up: a restart's time is added to the moments still
        # to come and to the deadlines, so a slow restart (a loaded machine) never leaves the
        # clients less time with a live server, nor one kill right after another.
        down = 0.0
        for moment in sorted(rng.uniform(0.1, 0.85) * cfg.seconds for _ in range(cfg.kills)):
            time.sleep(max(0.0, started + down + moment - time.monotonic()))
            with run.lock:
                run.result.in_flight_at_kills.append(run.in_flight)
            killed_at = time.monotonic()
            server.kill()
            run.result.kills_done += 1
            server.start()
            restart = time.monotonic() - killed_at
            run.result.restart_seconds.append(restart)
            down += restart
            run.deadline += restart
            run.hard_deadline += restart
        for thread in threads:
            thread.join(timeout=max(0.0, run.hard_deadline - time.monotonic()) + 60)
        run.result.elapsed = time.monotonic() - started
        if any(thread.is_alive() for thread in threads):
            run.violation("harness", "client threads still running after the deadline")
        time.sleep(cfg.settle)
    finally:
        # On the way out (also after an error), clients stop and the server dies.
        run.deadline = run.hard_deadline = 0.0
        server.kill()
    if run.result.kinds()["server-error"]:
        run.result.notes.append(f"server log tail:\n{server.log_tail(20)}")
    verify(run, database_url)
    return run.result


# -- verification --------------------------------------------------------------------------------


def verify(run: Run, database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        with read_session(engine) as session:
            _verify_reports(run, session)
        _verify_integrity(run, engine)
    finally:
        engine.dispose()


def _verify_reports(run: Run, session: Any) -> None:
    # This run's articles (the database may hold earlier runs'), and what its key wrote.
    articles: dict[str, list[int]] = defaultdict(list)
    mine = Article.url.startswith(f"{URL_BASE}/{run.run_id}/")
    for article_id, url in session.execute(select(Article.id, Article.url).where(mine)):
        articles[url].append(article_id)
    quotes = _group(session, select(Quote.article_id, Quote.id))
    events = _group(session, select(EventSource.article_id, EventSource.event_id))
    sources = _group(
        session,
        select(EventSource.article_id, EventSourceQuote.quote_id).join(
            EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id
        ),
    )
    actors = _group(session, select(EventActor.event_id, EventActor.actor_id))
    measures = _group(session, select(Claim.event_id, Claim.id).where(Claim.field == "measure"))
    reports = _group(session, select(Report.article_id, Report.id))
    audits = _group(
        session,
        select(AuditEntry.entity_id, AuditEntry.id).where(
            AuditEntry.action == "report.create", AuditEntry.api_key_id == run.key_id
        ),
    )
    by_this_key = IdempotencyRecord.api_key_id == run.key_id
    pending = session.execute(
        select(func.count()).where(by_this_key, IdempotencyRecord.response_status == 0)
    ).scalar_one()
    stored_keys = {
        key: body
        for key, body in session.execute(
            select(IdempotencyRecord.key, IdempotencyRecord.response_body).where(by_this_key)
        )
    }

    # Every acknowledged report is there once, with the ids it was acknowledged with.
    for ack in run.result.acked:
        found = articles.get(ack.url, [])
        if not found:
            run.violation("missing", f"{ack.url}: acknowledged ({ack.status}) but not stored")
            continue
        if len(found) > 1:
            run.violation("duplicate", f"{ack.url}: stored {len(found)} times")
        article_id = found[0]
        stored = (article_id, sorted(quotes[article_id]), sorted(set(events[article_id])))
        answered = _ids(ack.body)
        expected = (
            answered[0],
            sorted(i for _, i in answered[1]),
            sorted(i for _, i in answered[2]),
        )
        if stored != expected:
            run.violation("ids", f"{ack.url}: stored {stored}, acknowledged {expected}")
        if (
            ack.idempotency_key in stored_keys
            and _ids(stored_keys[ack.idempotency_key]) != answered
        ):
            run.violation("idempotency", f"{ack.url}: the stored response differs from the ack")

    # Nothing is half-written: every article holds all its report sent, and its records.
    for url, ids in articles.items():
        spec = run.specs.get(url)
        if spec is None:
            run.violation("unknown", f"{url}: an article nobody sent")
            continue
        for article_id in ids:
            problems = _partial(spec, article_id, quotes, events, sources, actors, measures)
            if len(reports[article_id]) != 1:
                problems.append(f"{len(reports[article_id])} report rows")
            if len(audits[article_id]) != 1:
                problems.append(f"{len(audits[article_id])} report.create audit rows")
            if problems:
                run.violation("partial", f"{url} (article {article_id}): {'; '.join(problems)}")
    if pending:
        run.violation("partial", f"{pending} idempotency keys claimed but never completed")
    orphan_audits = set(audits) - {i for ids in articles.values() for i in ids}
    if orphan_audits:
        run.violation("audit", f"report.create audit rows for absent articles {orphan_audits}")


def _group(session: Any, stmt: Any) -> defaultdict[int, list[int]]:
    out: defaultdict[int, list[int]] = defaultdict(list)
    for parent, child in session.execute(stmt):
        out[parent].append(child)
    return out


def _partial(
    spec: Spec,
    article_id: int,
    quotes: dict[int, list[int]],
    events: dict[int, list[int]],
    sources: dict[int, list[int]],
    actors: dict[int, list[int]],
    measures: dict[int, list[int]],
) -> list[str]:
    problems = []
    if len(quotes[article_id]) != spec.quotes:
        problems.append(f"{len(quotes[article_id])} of {spec.quotes} quotes")
    event_ids = events[article_id]
    if len(event_ids) != spec.events:
        problems.append(f"{len(event_ids)} of {spec.events} events")
    if len(sources[article_id]) != sum(spec.quotes_per_event):
        problems.append(f"{len(sources[article_id])} of {sum(spec.quotes_per_event)} citations")
    for event_id in event_ids:
        if len(actors[event_id]) != spec.actors_per_event:
            problems.append(f"event {event_id} has {len(actors[event_id])} actors")
        if len(measures[event_id]) != 1:
            problems.append(f"event {event_id} has {len(measures[event_id])} measures")
    return problems


def _verify_integrity(run: Run, engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
            if check != ["ok"]:
                run.violation("integrity", f"PRAGMA integrity_check: {check[:5]}")
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                run.violation("integrity", f"PRAGMA foreign_key_check: {broken[:5]}")
        # Every foreign key, checked by query (on PostgreSQL the constraints should make this
        # impossible; the check is what proves it, and catches a missing constraint).
        for orphan in _orphans(conn):
            run.violation("integrity", orphan)
    if engine.dialect.name == "postgresql":
        _amcheck(run, engine)


def _orphans(conn: Any) -> Iterator[str]:
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            parent = fk.referred_table.alias("referred")
            match = and_(*[parent.c[el.column.name] == el.parent for el in fk.elements])
            present = and_(*[column.isnot(None) for column in fk.columns])
            count = conn.execute(
                select(func.count()).select_from(table).where(present, ~exists().where(match))
            ).scalar_one()
            if count:
                columns = ", ".join(c.name for c in fk.columns)
                yield f"{count} rows of {table.name}({columns}) point at no {parent.name} row"


def _amcheck(run: Run, engine: Engine) -> None:
    """B-tree index structure checks (PostgreSQL's amcheck), where the extension exists."""
    with engine.connect() as conn:
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
            conn.commit()
        except SQLAlchemyError as exc:
            conn.rollback()
            run.result.notes.append(f"amcheck unavailable: {str(exc).splitlines()[0]}")
            return
        indexes = conn.execute(
            text(
                "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = c.relam "
                "WHERE am.amname = 'btree' AND c.relnamespace = 'public'::regnamespace"
            )
        ).fetchall()
        for oid, name in indexes:
            try:
                # heapallindexed: every heap tuple must also be found through the index.
                conn.execute(
                    text("SELECT bt_index_check(CAST(CAST(:oid AS oid) AS regclass), true)"),
                    {"oid": oid},
                )
            except SQLAlchemyError as exc:
                conn.rollback()
                run.violation("integrity", f"amcheck on index {name}: {str(exc).splitlines()[0]}")
        conn.rollback()
    run.result.notes.append(f"amcheck: {len(indexes)} b-tree indexes checked")
