"""The floors the API is measured against, and the read query mix they share with it.

Reads: the exact SQL that ``app.events.repository.list_events`` sends, captured from the app
itself and replayed through the bare driver (sqlite3 / psycopg); and the repository called
in-process through SQLAlchemy, without HTTP. Writes: the same reports through the ingest
pipeline in-process, and through ``app.writer``'s batch API alone, as a bulk loader would.
"""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from app import writer
from app.core.normalize import normalize_name
from app.core.pagination import encode_cursor
from app.db.session import read_session
from app.events import repository as event_repository
from app.events.schemas import EventListQuery
from app.reports import service
from app.writer.transaction import write_session
from bench.synthetic import YEARS

PAGE_SIZE = 100
SORT = "-date_start"


# -- the read query mix --------------------------------------------------------------------------


@dataclass(frozen=True)
class EventQuery:
    place: int
    date_from: date
    date_to: date


@dataclass(frozen=True)
class QueryMix:
    """A dashboard's list query: one calendar year in a country or in one admin1 division.

    Half the queries name a country, so that full pages (and second pages) are common even
    on a small database; the other half name an admin1 division, whose pages are short.
    """

    country_ids: Sequence[int]
    admin1_ids: Sequence[int]

    def pick(self, rng: random.Random) -> EventQuery:
        places = self.country_ids if rng.random() < 0.5 else self.admin1_ids
        year = rng.choice(YEARS)
        return EventQuery(rng.choice(places), date(year, 1, 1), date(year, 12, 31))


# -- the SQL the app sends -------------------------------------------------------------------------

# Values no real query uses, to find which driver parameter carries which filter.
_SENTINELS: dict[str, Any] = {
    "place": 987_654_321,
    "date_from": date(1901, 2, 3),
    "date_to": date(1902, 3, 4),
    "after_date": date(1903, 4, 5),
    "after_id": 987_654_322,
}


@dataclass(frozen=True)
class CapturedQuery:
    """One statement as the app sends it, with which parameter slot holds which value."""

    sql: str
    keys: tuple[int | str, ...]  # positions (qmark) or names (pyformat)
    roles: tuple[str | None, ...]  # the filter a slot carries, None for a constant
    constants: tuple[Any, ...]
    dates_as_text: bool  # SQLAlchemy hands SQLite dates over as ISO strings
    # Filters the app writes into the SQL as constants (the live place id:
    # app.events.repository.with_live_ids), not as parameters.
    inlined: tuple[str, ...] = ()

    def text(self, values: dict[str, Any]) -> str:
        """The statement for these values (those the app inlines written in, as it does)."""
        sql = self.sql
        for role in self.inlined:
            sql = sql.replace(str(_SENTINELS[role]), str(int(values[role])))
        return sql

    def params(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        out = []
        for role, constant in zip(self.roles, self.constants, strict=True):
            value = constant if role is None else values[role]
            if self.dates_as_text and isinstance(value, date):
                value = value.isoformat()
            out.append(value)
        if all(isinstance(k, int) for k in self.keys):
            return tuple(out)
        return dict(zip(self.keys, out, strict=True))  # type: ignore[arg-type]


def capture_list_queries(engine: Engine) -> tuple[CapturedQuery, CapturedQuery]:
    """The statements for a first page and a following page, taken from the repository itself.

    Replaying what the app really sends keeps the floor honest: the same joins, the same
    place-descendants subquery, the same keyset clause, whatever the repository does next.
    """
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM event" in statement:
            seen.append((statement, parameters))

    first = EventListQuery(
        place=_SENTINELS["place"],
        date_from=_SENTINELS["date_from"],
        date_to=_SENTINELS["date_to"],
        limit=PAGE_SIZE,
        sort=SORT,
    )
    following = first.model_copy(
        update={"cursor": encode_cursor(SORT, [_SENTINELS["after_date"], _SENTINELS["after_id"]])}
    )
    event.listen(engine, "before_cursor_execute", record)
    try:
        for f in (first, following):
            with read_session(engine) as session:
                event_repository.list_events(session, f)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if len(seen) != 2:
        raise RuntimeError(f"expected one statement per page, captured {len(seen)}")
    return _template(*seen[0], {"place", "date_from", "date_to"}), _template(
        *seen[1], set(_SENTINELS)
    )


def _template(sql: str, parameters: Any, expected: set[str]) -> CapturedQuery:
    items = (
        list(parameters.items()) if isinstance(parameters, dict) else list(enumerate(parameters))
    )
    roles: list[str | None] = []
    dates_as_text = False
    for _, value in items:
        role = None
        for name, sentinel in _SENTINELS.items():
            if value == sentinel or (isinstance(sentinel, date) and value == sentinel.isoformat()):
                role = name
                dates_as_text |= isinstance(value, str)
        roles.append(role)
    # An integer filter the app inlines: the sentinel is in the statement's text.
    inlined = tuple(
        sorted(
            name
            for name in expected - set(roles)
            if isinstance(_SENTINELS[name], int)
            and re.search(rf"\b{_SENTINELS[name]}\b", sql) is not None
        )
    )
    missing = expected - set(roles) - set(inlined)
    if missing:
        raise RuntimeError(f"could not find {sorted(missing)} among the parameters of:\n{sql}")
    return CapturedQuery(
        sql=sql,
        keys=tuple(k for k, _ in items),
        roles=tuple(roles),
        constants=tuple(None if r else v for r, (_, v) in zip(roles, items, strict=True)),
        dates_as_text=dates_as_text,
        inlined=inlined,
    )


class BareRead:
    """A page and the next one through the driver alone: no pool, no ORM, no transaction."""

    def __init__(
        self,
        connect: Callable[[], Any],
        queries: tuple[CapturedQuery, CapturedQuery],
        mix: QueryMix,
    ) -> None:
        self.conn = connect()
        self.first, self.following = queries
        self.mix = mix

    def __call__(self, rng: random.Random) -> list[float]:
        return [seconds for seconds, _ in self.pages(self.mix.pick(rng))]

    def pages(self, q: EventQuery) -> list[tuple[float, int]]:
        """The first page and, if there is more, the next: (seconds, rows) for each."""
        values = {"place": q.place, "date_from": q.date_from, "date_to": q.date_to}
        started = time.perf_counter()
        cur = self.conn.execute(self.first.text(values), self.first.params(values))
        rows = cur.fetchall()
        out = [(time.perf_counter() - started, min(len(rows), PAGE_SIZE))]
        if len(rows) > PAGE_SIZE:
            names = [d[0] for d in cur.description]
            last = rows[PAGE_SIZE - 1]
            values["after_date"] = last[names.index("date_start")]
            values["after_id"] = last[names.index("id")]
            started = time.perf_counter()
            more = self.conn.execute(
                self.following.text(values), self.following.params(values)
            ).fetchall()
            out.append((time.perf_counter() - started, min(len(more), PAGE_SIZE)))
        return out

    def first_page_ids(self, q: EventQuery) -> list[int]:
        values = {"place": q.place, "date_from": q.date_from, "date_to": q.date_to}
        cur = self.conn.execute(self.first.text(values), self.first.params(values))
        id_at = [d[0] for d in cur.description].index("id")
        return [row[id_at] for row in cur.fetchall()[:PAGE_SIZE]]

    def close(self) -> None:
        self.conn.close()


def connect_bare(database_url: str, pg_conninfo: str | None) -> Callable[[], Any]:
    """A factory of bare driver connections to the app's database, in autocommit mode."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = url.database
        assert path

        def connect_sqlite() -> sqlite3.Connection:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            return conn

        return connect_sqlite
    assert pg_conninfo is not None
    return lambda: psycopg.connect(pg_conninfo, autocommit=True)


class RepositoryRead:
    """The repository in-process: SQLAlchemy's pool, session and row mapping, but no HTTP."""

    def __init__(self, engine: Engine, mix: QueryMix) -> None:
        self.engine = engine
        self.mix = mix

    def __call__(self, rng: random.Random) -> list[float]:
        q = self.mix.pick(rng)
        f = EventListQuery(
            place=q.place, date_from=q.date_from, date_to=q.date_to, limit=PAGE_SIZE, sort=SORT
        )
        latencies = []
        cursor: str | None = None
        for _ in range(2):
            started = time.perf_counter()
            with read_session(self.engine) as session:
                _, cursor = event_repository.list_events(
                    session, f.model_copy(update={"cursor": cursor}) if cursor else f
                )
            latencies.append(time.perf_counter() - started)
            if cursor is None:
                break
        return latencies

    def close(self) -> None:
        pass


# -- writes in-process -------------------------------------------------------------------------


class PipelineIngest:
    """POST /v1/reports without HTTP: the same parse, checks, resolution and write."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, raw: bytes) -> list[float]:
        started = time.perf_counter()
        outcome = service.ingest_report(self.engine, service.parse_report(raw))
        elapsed = time.perf_counter() - started
        if outcome.status != 201:
            raise RuntimeError(f"in-process ingest answered {outcome.status}: {outcome.body}")
        return [elapsed]

    def close(self) -> None:
        pass


class WriterIngest:
    """The writer's batch API alone, one transaction per report.

    This is what a bulk loader that knows its entities would do: outlets, actors, places and
    events it has written are remembered in memory instead of looked up, and the document is
    trusted instead of validated. The maps are only safe because any failure ends the run.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.outlets: dict[str, int] = {}
        self.actors: dict[tuple[str, str | None, str], int] = {}
        self.places: dict[tuple[str, int | None, str | None], int] = {}
        self.events: dict[str, int] = {}

    def prime(self, actors: list[dict[str, Any]], places: list[dict[str, Any]]) -> None:
        """Write these actors and places (and their parents and affiliates) in one go."""
        with write_session(self.engine) as session:
            for actor in actors:
                self._actor(session, actor)
            for place in places:
                self._place(session, place)

    def __call__(self, raw_and_payload: tuple[bytes, dict[str, Any]]) -> list[float]:
        raw, payload = raw_and_payload
        started = time.perf_counter()
        with write_session(self.engine) as session:
            self.load(session, payload, hashlib.sha256(raw).hexdigest())
        return [time.perf_counter() - started]

    def close(self) -> None:
        pass

    def load(self, session: Any, payload: dict[str, Any], digest: str) -> None:
        a = payload["article"]
        article_id = writer.create_article(
            session,
            writer.NewArticle(
                outlet_id=self._outlet(session, a["outlet"]),
                url=a["url"],
                title=a["title"],
                published_date=_date(a["published_date"]),
                dateline=a["dateline"],
                byline=a["byline"],
                language=a["language"],
                body=a["body"],
            ),
        )
        quotes = payload["quotes"]
        quote_ids = dict(
            zip(
                [q["key"] for q in quotes],
                writer.create_quotes(
                    session,
                    [
                        writer.NewQuote(
                            article_id=article_id,
                            text=q["text"],
                            start=q["start"],
                            end=q["end"],
                            speaker_name=q["speaker"]["name"],
                            speaker_role=q["speaker"]["role"],
                            speaks_for_actor_id=(
                                self._actor(session, q["speaks_for"]) if q["speaks_for"] else None
                            ),
                        )
                        for q in quotes
                    ],
                ),
                strict=True,
            )
        )
        new: list[tuple[dict[str, Any], writer.NewEvent]] = []
        cited: list[tuple[int, writer.NewSource]] = []
        for ev in payload["events"]:
            source = writer.NewSource(article_id, [quote_ids[k] for k in ev["quotes"]])
            if "event_type" not in ev:
                cited.append((self.events[ev["external_id"]], source))
                continue
            new.append((ev, self._event(session, ev, source, quote_ids)))
        event_ids = writer.create_events(session, [e for _, e in new])
        writer.add_sources(session, cited)
        for (ev, _), event_id in zip(new, event_ids, strict=True):
            if ev["external_id"]:
                self.events[ev["external_id"]] = event_id
        response = {
            "article": {"id": article_id},
            "quotes": quote_ids,
            "events": {ev["key"]: eid for (ev, _), eid in zip(new, event_ids, strict=True)},
        }
        writer.record_report(session, article_id, digest, response)

    def _event(
        self,
        session: Any,
        ev: dict[str, Any],
        source: writer.NewSource,
        quote_ids: dict[str, int],
    ) -> writer.NewEvent:
        fatalities = ev["fatalities"]
        return writer.NewEvent(
            event_type=ev["event_type"],
            sub_event_type=ev["sub_event_type"],
            external_id=ev["external_id"],
            date_start=date.fromisoformat(ev["date_start"]),
            date_end=date.fromisoformat(ev["date_end"]),
            date_precision=ev["date_precision"],
            place_id=self._place(session, ev["place"]),
            geo_precision=ev["geo_precision"],
            summary=ev["summary"],
            fatalities_low=fatalities["low"],
            fatalities_best=fatalities["best"],
            fatalities_high=fatalities["high"],
            actors=[
                writer.NewEventActor(
                    actor_id=self._actor(session, x["actor"]), role=x["role"], side=x["side"]
                )
                for x in ev["actors"]
            ],
            measures=[
                writer.NewMeasure(
                    kind=m["kind"],
                    value=m["value"],
                    qualifier=m["qualifier"],
                    quote_id=quote_ids[m["quote"]] if m["quote"] else None,
                )
                for m in ev["measures"]
            ],
            sources=[source],
        )

    def _outlet(self, session: Any, o: dict[str, Any]) -> int:
        key = normalize_name(o["name"])
        if key not in self.outlets:
            (self.outlets[key],) = writer.create_outlets(
                session,
                [writer.NewOutlet(o["name"], o["url"], o["country"], o["language"], o["kind"])],
            )
        return self.outlets[key]

    def _actor(self, session: Any, d: dict[str, Any]) -> int:
        key = (normalize_name(d["name"]), d["country"], d["kind"])
        if key not in self.actors:
            (actor_id,) = writer.create_actors(
                session, [writer.NewActor(d["name"], d["kind"], d["country"], d["aliases"])]
            )
            self.actors[key] = actor_id
            writer.add_affiliations(
                session,
                [
                    writer.NewAffiliation(actor_id, self._actor(session, f["actor"]), f["relation"])
                    for f in d["affiliations"]
                ],
            )
        return self.actors[key]

    def _place(self, session: Any, d: dict[str, Any]) -> int:
        parent_id = self._place(session, d["parent"]) if d["parent"] else None
        key = (normalize_name(d["name"]), parent_id, d["country"] if parent_id is None else None)
        if key not in self.places:
            (self.places[key],) = writer.create_places(
                session,
                [
                    writer.NewPlace(
                        name=d["name"],
                        kind=d["kind"],
                        country=d["country"],
                        parent_id=parent_id,
                        latitude=d["latitude"],
                        longitude=d["longitude"],
                        aliases=d["aliases"],
                    )
                ],
            )
        return self.places[key]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
