"""Synthetic conflict data at dashboard scale (10k to 1M events), written through app.writer.

    python -m bench.dataset --events 100000 [--seed N] [--postgresql]   # build, print figures

The world is ``bench/synthetic.py``'s (four countries with their real admin1 divisions,
actors with aliases and coalitions, outlets), given a deeper gazetteer — country > admin1 >
admin2 > towns with coordinates, a few thousand places — and a few local militias per
province affiliated to their coalition. Events come in stories: 1-3 events on the same days
in one district, each story reported by 1-3 articles from different outlets, every article
a source for every event of its story, with 1-3 quotes that are exact spans of its body.
Dates run 2015-2024 with later years heavier; places are Zipf-skewed at every level, and a
few towns per country are hot spots with a share of their own. The same seed and size give
the same rows with the same ids (only the timestamps are the load's).

Loading goes through the writer's batch API (``create_articles``, ``create_quotes``,
``create_events`` ...) in transactions of a few thousand events with the bulk flag set, so
everything the writer derives (closure rows, revisions, rollups, the search index, the change
feed) is there, as after a real import. The SQLite file is cached under bench/data/
(git-ignored) by seed, size, Alembic head and a digest of the code that decides its bytes.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, func, select, text

from app import writer
from app.datasets.loader import few_collections
from app.db import migrate
from app.db.session import create_db_engine
from bench import synthetic
from bench.synthetic import Actor, Country, Outlet, Place

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = Path(__file__).resolve().parent / "data" / "dashboards"
DEFAULT_SEED = synthetic.DEFAULT_SEED
BATCH_EVENTS = 5000

# Events per story and articles per story, as (values, cumulative per cent).
_EVENTS_PER_STORY = ((1, 2, 3), [55, 85, 100])  # cumulative: 55%, 30%, 15%
_ARTICLES_PER_STORY = ((1, 2, 3), [45, 80, 100])  # 45%, 35%, 20%
_WORD = re.compile(r"[a-z0-9]+")  # URL slugs: ASCII words of the title
_HOTSPOTS_PER_COUNTRY = 3
_HOTSPOT_SHARE = 0.15  # of a country's stories, spread over its hot spots
# Files whose content decides the bytes of a generated database (the cache key's digest).
_INPUTS = ("app/db/bulk.py", "bench/dataset.py", "bench/synthetic.py")
_INPUT_DIRS = ("app/writer", "app/derived", "app/models", "migrations/versions")


def _cum(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


# -- the world -----------------------------------------------------------------------------------


@dataclass
class District:
    place: Place
    towns: list[Place]
    town_cum: list[float]


@dataclass
class Province:
    place: Place
    districts: list[District]
    district_cum: list[float]
    militias: list[Actor]


@dataclass
class Region:
    """One country's gazetteer and cast, with the weights events are drawn by."""

    country: Country
    provinces: list[Province]
    province_cum: list[float]
    hotspots: list[tuple[Province, District, Place]]
    outlets: list[Outlet]


@dataclass
class World:
    regions: list[Region]
    region_cum: list[float]
    places: list[Place]  # parents before children: the order they are written in
    actors: list[Actor]  # idem (a coalition before its members)
    outlets: list[Outlet]
    international: list[Outlet]

    def counts(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for p in self.places:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        return {**kinds, "actors": len(self.actors), "outlets": len(self.outlets)}


def build_world(seed: int = DEFAULT_SEED) -> World:
    """synthetic.py's countries, provinces, actors and outlets, with districts and towns below."""
    base = synthetic.build_world(seed)
    rng = random.Random(f"dashboards-world:{seed}")
    names = synthetic._Names(rng)
    regions: list[Region] = []
    places: list[Place] = []
    actors: dict[int, Actor] = {}

    def add_actor(a: Actor) -> None:
        if a.member_of is not None:
            add_actor(a.member_of)
        actors.setdefault(id(a), a)

    for country in base.countries:
        scope = f"place:{country.code}"
        names.claim(scope, country.place.name)
        for province in country.admin1:
            names.claim(scope, province.name, *province.aliases)
        places.append(country.place)
        places.extend(country.admin1)
        coalition = next((a.member_of for a in country.armed if a.member_of), None)
        provinces = []
        for province in country.admin1:  # already in hot-spot order (synthetic shuffles them)
            districts = []
            for _ in range(rng.randint(3, 7)):
                d_name, d_aliases = names.town(country.style, scope)
                district = Place(
                    d_name,
                    "admin2",
                    country.code,
                    province.latitude + rng.gauss(0, 0.25),
                    province.longitude + rng.gauss(0, 0.25),
                    d_aliases,
                    province,
                )
                towns = []
                for _ in range(rng.randint(8, 30)):
                    t_name, t_aliases = names.town(country.style, scope)
                    towns.append(
                        Place(
                            t_name,
                            "populated_place",
                            country.code,
                            district.latitude + rng.gauss(0, 0.08),
                            district.longitude + rng.gauss(0, 0.08),
                            t_aliases,
                            district,
                        )
                    )
                districts.append(
                    District(district, towns, _cum(synthetic._zipf_weights(len(towns))))
                )
            militias = []
            for _ in range(2):
                while True:
                    m_name = f"{names.root(country.style)} Brigade of {province.name}"
                    if names.claim(f"actor:{country.code}", m_name):
                        break
                militias.append(
                    Actor(m_name, "political_militia", country.code, (), coalition)
                    if coalition and rng.random() < 0.5
                    else Actor(m_name, "political_militia", country.code)
                )
            provinces.append(
                Province(
                    province,
                    districts,
                    _cum(synthetic._zipf_weights(len(districts))),
                    militias,
                )
            )
        for p in provinces:
            places.extend(d.place for d in p.districts)
        for p in provinces:
            places.extend(t for d in p.districts for t in d.towns)
        # Hot spots: a besieged city, a contested crossing ... drawn from the busier provinces.
        hotspots = []
        for p in rng.sample(provinces[:4], _HOTSPOTS_PER_COUNTRY):
            d = p.districts[0]
            hotspots.append((p, d, rng.choice(d.towns[:3])))
        for a in (
            *country.state,
            *country.armed,
            *country.external,
            country.protesters,
            country.rioters,
            country.civilians,
        ):
            add_actor(a)
        for p in provinces:
            for a in p.militias:
                add_actor(a)
        regions.append(
            Region(
                country,
                provinces,
                _cum(synthetic._zipf_weights(len(provinces))),
                hotspots,
                country.outlets,
            )
        )
    outlets = [o for r in regions for o in r.outlets] + list(base.international_outlets)
    return World(
        regions,
        _cum(base.country_weights),
        places,
        list(actors.values()),
        outlets,
        list(base.international_outlets),
    )


@dataclass
class WorldIds:
    """Database ids of the world's places, actors and outlets (by object identity)."""

    places: dict[int, int] = field(default_factory=dict)
    actors: dict[int, int] = field(default_factory=dict)
    outlets: dict[int, int] = field(default_factory=dict)


def write_world(session: Any, world: World) -> WorldIds:
    ids = WorldIds()
    for outlet, oid in zip(
        world.outlets,
        writer.create_outlets(
            session,
            [writer.NewOutlet(o.name, o.url, o.country, o.language, o.kind) for o in world.outlets],
        ),
        strict=True,
    ):
        ids.outlets[id(outlet)] = oid
    for actor, aid in zip(
        world.actors,
        writer.create_actors(
            session,
            [writer.NewActor(a.name, a.kind, a.country, a.aliases) for a in world.actors],
        ),
        strict=True,
    ):
        ids.actors[id(actor)] = aid
    writer.add_affiliations(
        session,
        [
            writer.NewAffiliation(ids.actors[id(a)], ids.actors[id(a.member_of)], "member_of")
            for a in world.actors
            if a.member_of is not None
        ],
    )
    # Level by level: create_places needs every parent written first.
    for kind in ("country", "admin1", "admin2", "populated_place"):
        level = [p for p in world.places if p.kind == kind]
        new = [
            writer.NewPlace(
                name=p.name,
                kind=p.kind,
                country=p.country,
                parent_id=ids.places[id(p.parent)] if p.parent else None,
                latitude=round(p.latitude, 5),
                longitude=round(p.longitude, 5),
                aliases=p.aliases,
            )
            for p in level
        ]
        for p, pid in zip(level, writer.create_places(session, new), strict=True):
            ids.places[id(p)] = pid
    return ids


# -- events, articles, quotes ----------------------------------------------------------------------


@dataclass
class Batch:
    """A transaction's worth of stories, as the writer takes them.

    Articles are written first, then quotes, then events; until then a quote's
    ``article_id``, a source's ``article_id`` and ``quote_ids`` and a measure's ``quote_id``
    hold positions in this batch's lists, which ``write_batch`` replaces by the new ids.
    """

    articles: list[writer.NewArticle] = field(default_factory=list)
    quotes: list[writer.NewQuote] = field(default_factory=list)
    events: list[writer.NewEvent] = field(default_factory=list)


class Generator:
    """Stories drawn from the world, deterministically by seed; see the module docstring."""

    def __init__(self, world: World, ids: WorldIds, seed: int) -> None:
        self.world = world
        self.ids = ids
        self.rng = random.Random(f"dashboards-events:{seed}")
        # synthetic's report maker pairs actors by event type and draws fatalities the way
        # it does for the HTTP benchmark; it draws from our RNG.
        self.maker = synthetic._ReportMaker(synthetic.World([], [], []), seed)
        self.maker.rng = self.rng
        self.names = synthetic._Names(self.rng)
        self.types = synthetic.event_types()
        self.type_names = list(synthetic.TYPE_WEIGHTS)
        self.type_cum = _cum(list(synthetic.TYPE_WEIGHTS.values()))
        self.sub_cum = {t: _cum([3] + [1] * (len(s) - 1)) for t, s in self.types.items()}
        self.year_cum = _cum(synthetic.YEAR_WEIGHTS)
        self.year_start = {y: date(y, 1, 1).toordinal() for y in synthetic.YEARS}
        self.story = 0

    def _pick(self, items: Sequence[Any], cum: Sequence[float]) -> Any:
        return items[bisect.bisect(cum, self.rng.random() * cum[-1])]

    def batches(self, events: int, batch_events: int = BATCH_EVENTS) -> Iterator[Batch]:
        left = events
        while left > 0:
            batch = Batch()
            while left > 0 and len(batch.events) < batch_events:
                left -= self.add_story(batch, left)
            yield batch

    def add_story(self, batch: Batch, at_most: int) -> int:
        rng = self.rng
        s = self.story
        self.story += 1
        region: Region = self._pick(self.world.regions, self.world.region_cum)
        country = region.country
        if rng.random() < _HOTSPOT_SHARE:
            province, district, hotspot = rng.choice(region.hotspots)
        else:
            province = self._pick(region.provinces, region.province_cum)
            district = self._pick(province.districts, province.district_cum)
            hotspot = None
        year = self._pick(synthetic.YEARS, self.year_cum)
        days = 366 if year % 4 == 0 else 365
        day0 = self.year_start[year] + rng.randrange(days)
        n_events = min(at_most, self._pick(*_EVENTS_PER_STORY))

        first_event = len(batch.events)
        leads: list[str] = []
        latest = day0
        for k in range(n_events):
            event, lead, end = self._event(s, k, region, province, district, hotspot, day0)
            batch.events.append(event)
            leads.append(lead)
            latest = max(latest, end)

        n_articles = self._pick(*_ARTICLES_PER_STORY)
        first = (
            rng.choice(region.outlets)
            if rng.random() < 0.6
            else rng.choice(self.world.international)
        )
        others = [o for o in (*region.outlets, *self.world.international) if o is not first]
        outlets = [first, *rng.sample(others, n_articles - 1)]
        for j, outlet in enumerate(outlets):
            self._article(batch, s, j, outlet, country, province, leads, first_event, latest)
        return n_events

    def _event(
        self,
        s: int,
        k: int,
        region: Region,
        province: Province,
        district: District,
        hotspot: Place | None,
        day0: int,
    ) -> tuple[writer.NewEvent, str, int]:
        rng = self.rng
        country = region.country
        event_type = self._pick(self.type_names, self.type_cum)
        subs = self.types[event_type]
        sub_type = self._pick(subs, self.sub_cum[event_type])
        a, b, b_role = self.maker._actors(event_type, sub_type, country)
        if event_type in ("Battles", "Violence against civilians") and rng.random() < 0.3:
            a = rng.choice(province.militias)  # local forces carry part of the fighting

        start = day0 - rng.choice((0, 0, 0, 1, 2, 3))
        precision = self._pick(("day", "week", "month"), [85, 95, 100])  # 85/10/5%
        if precision == "month":
            d = date.fromordinal(start)
            start = d.replace(day=1).toordinal()
            nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1).toordinal()
            end = nxt - 1
        elif precision == "week":
            end = start + 6
        else:
            end = start + rng.choice((0, 0, 0, 1))

        town = hotspot or self._pick(district.towns, district.town_cum)
        where = rng.random()
        place, geo_precision = (
            (town, 1)
            if where < 0.7
            else (town, 2)
            if where < 0.85
            else (district.place, 2)
            if where < 0.95
            else (province.place, 3)
        )
        lead = rng.choice(synthetic._LEADS.get(sub_type, synthetic._LEAD_FALLBACK)).format(
            a=a.name,
            b=b.name if b else "unidentified gunmen",
            place=place.name,
            admin1=province.place.name,
            day=synthetic._WEEKDAYS[date.fromordinal(start).weekday()],
        )
        f = self.maker._fatalities(event_type, sub_type)
        actors = [writer.NewEventActor(self.ids.actors[id(a)], "primary", "a")]
        if b is not None and b is not a:
            actors.append(writer.NewEventActor(self.ids.actors[id(b)], b_role, "b"))
        event = writer.NewEvent(
            event_type=event_type,
            sub_event_type=sub_type,
            date_start=date.fromordinal(start),
            date_end=date.fromordinal(end),
            date_precision=precision,
            external_id=f"DSH-{country.iso3}-{s}-{k}" if rng.random() < 0.3 else None,
            place_id=self.ids.places[id(place)],
            geo_precision=geo_precision,
            summary=lead,
            fatalities_low=f["low"],
            fatalities_best=f["best"],
            fatalities_high=f["high"],
            actors=actors,
            measures=[],
            sources=[],
        )
        return event, lead, end

    def _article(
        self,
        batch: Batch,
        s: int,
        j: int,
        outlet: Outlet,
        country: Country,
        province: Province,
        leads: list[str],
        first_event: int,
        latest: int,
    ) -> None:
        rng = self.rng
        article_at = len(batch.articles)
        n_events = len(leads)
        n_quotes = rng.randint(n_events, 3)
        body = synthetic._Body()
        quotes_of: list[list[int]] = [[] for _ in range(n_events)]
        for k, lead in enumerate(leads):
            event = batch.events[first_event + k]
            body.paragraph()
            if k == 0:
                body.add(f"{country.dateline.upper()}: ")
            lead_span = body.length, body.length + len(lead)
            body.add(lead)
            killed = event.fatalities_best
            if killed:
                body.add(
                    " Local sources said one person was killed."
                    if killed == 1
                    else f" Local sources said {killed} people were killed."
                )
            for q in range(k, n_quotes, n_events):
                quote, measure = self._quote(
                    q, k, body, outlet, country, province, event, lead_span
                )
                quote.article_id = article_at
                if measure is not None and j == 0:  # measures come from the first article
                    measure.quote_id = len(batch.quotes)
                    event.measures.append(measure)  # type: ignore[attr-defined]
                quotes_of[k].append(len(batch.quotes))
                batch.quotes.append(quote)
        for _ in range(rng.randint(1, 2)):
            body.paragraph()
            body.add(
                " ".join(
                    rng.choice(synthetic._BACKGROUND).format(
                        year0=rng.randint(2011, 2015),
                        admin1=province.place.name,
                        place=rng.choice(province.districts[0].towns).name,
                        state=country.state[0].name,
                        armed=rng.choice(country.armed).name,
                    )
                    for _ in range(rng.randint(1, 3))
                )
            )
        text_ = body.text()
        for k in range(n_events):
            batch.events[first_event + k].sources.append(  # type: ignore[attr-defined]
                writer.NewSource(article_at, quotes_of[k])
            )
        for quote in batch.quotes[-n_quotes:]:
            if text_[quote.start : quote.end] != quote.text:
                raise AssertionError(f"story {s}: a quote is not the body's span")
        published = date.fromordinal(latest + rng.randint(0, 2))
        title = leads[0].rstrip(".")
        slug = "-".join(_WORD.findall(title.lower())[:8])
        batch.articles.append(
            writer.NewArticle(
                outlet_id=self.ids.outlets[id(outlet)],
                url=f"{outlet.url}/{published:%Y/%m}/{slug}-{s}-{j}",
                title=title,
                published_date=published,
                dateline=country.dateline,
                byline=self.names.person(country.style) if rng.random() < 0.3 else None,
                language="en",
                body=text_,
            )
        )

    def _quote(
        self,
        q: int,
        k: int,
        body: synthetic._Body,
        outlet: Outlet,
        country: Country,
        province: Province,
        event: writer.NewEvent,
        lead_span: tuple[int, int],
    ) -> tuple[writer.NewQuote, writer.NewMeasure | None]:
        """A quote added to the body (its article and a measure's quote are set by the caller)."""
        rng = self.rng
        if q == 0 and k == 0 and rng.random() < 0.5:
            # The outlet's own words: the lead sentence.
            start, end = lead_span
            lead = event.summary or ""
            return writer.NewQuote(0, lead, start, end, outlet.name, "narration"), None
        where = province.place.name
        measure = None
        if event.event_type == "Explosions/Remote violence" and rng.random() < 0.6:
            template, qualifier = rng.choice(synthetic._COUNT_QUOTES)
            count, weapon = rng.randint(3, 150), rng.choice(synthetic._WEAPONS)
            quote_text = template.format(k=count, weapon=weapon, place=where)
            measure = writer.NewMeasure(weapon, count, qualifier)
        else:
            quote_text = rng.choice(synthetic._SPEAKER_QUOTES).format(place=where)
        role = rng.choice(synthetic._ROLES).format(place=where, admin1=where)
        speaker = self.names.person(country.style)
        body.paragraph()
        if rng.random() < 0.5:
            start, end = body.add_quoted("“", quote_text, f",” said {speaker}, {role}.")
        else:
            start, end = body.add_quoted(
                f"{speaker}, {role}, told {outlet.name}: “", quote_text, ".”"
            )
        return writer.NewQuote(0, quote_text, start, end, speaker, role), measure


def write_batch(session: Any, batch: Batch) -> dict[str, int]:
    """Write a batch with the writer's batch API; the rows it wrote, by table."""
    article_ids = writer.create_articles(session, batch.articles)
    for q in batch.quotes:
        q.article_id = article_ids[q.article_id]
    quote_ids = writer.create_quotes(session, batch.quotes)
    for e in batch.events:
        for src in e.sources:
            src.article_id = article_ids[src.article_id]
            src.quote_ids = [quote_ids[i] for i in src.quote_ids]
        for m in e.measures:
            if m.quote_id is not None:
                m.quote_id = quote_ids[m.quote_id]
    writer.create_events(session, batch.events)
    return {
        "article": len(article_ids),
        "quote": len(quote_ids),
        "event": len(batch.events),
    }


# -- loading -------------------------------------------------------------------------------------


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table (the ORM's and the others, such as the search index)."""
    meta = MetaData()
    meta.reflect(engine)
    shadows: set[str] = set()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # An FTS5 table keeps its data in shadow tables (<name>_data, _idx ...): count
            # the virtual table's rows, not its storage.
            virtual = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
            ).scalars()
            for name in virtual:
                shadows.update(t for t in meta.tables if t.startswith(f"{name}_"))
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in sorted(meta.tables.items())
            if name not in shadows
        }


def load(
    engine: Engine,
    events: int,
    seed: int = DEFAULT_SEED,
    *,
    batch_events: int = BATCH_EVENTS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the world and ``events`` events into a migrated, empty database; what it took."""
    say = progress or (lambda _msg: None)
    before = table_counts(engine)
    started = time.perf_counter()
    cpu0 = time.process_time()
    world = build_world(seed)
    with few_collections():
        with writer.bulk_session(engine) as session:
            ids = write_world(session, world)
        generator = Generator(world, ids, seed)
        gen_seconds = 0.0
        written = 0
        next_report = time.perf_counter() + 10
        batches = generator.batches(events, batch_events)
        for number in itertools.count(1):
            t0 = time.perf_counter()
            batch = next(batches, None)
            gen_seconds += time.perf_counter() - t0
            if batch is None:
                break
            with writer.bulk_session(engine) as session:
                write_batch(session, batch)
            written += len(batch.events)
            if engine.dialect.name == "postgresql" and number & (number - 1) == 0:
                # Let the planner see the tables grow (batches 1, 2, 4, 8 ...), as the
                # importer does: the writer's own lookups would otherwise scan.
                with engine.connect() as conn:
                    conn.execute(text("ANALYZE"))
                    conn.commit()
            if time.perf_counter() >= next_report:
                rate = written / (time.perf_counter() - started)
                say(f"{written:,} / {events:,} events ({rate:,.0f} events/s)")
                next_report = time.perf_counter() + 10
    load_seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu0
    finish_started = time.perf_counter()
    finish(engine)
    finish_seconds = time.perf_counter() - finish_started
    after = table_counts(engine)
    rows = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}
    total = sum(rows.values())
    return {
        "events": events,
        "seed": seed,
        "batch_events": batch_events,
        "stories": generator.story,
        "world": world.counts(),
        "rows": rows,
        "rows_total": total,
        "load_seconds": round(load_seconds, 2),
        "generate_seconds": round(gen_seconds, 2),
        "loader_cpu_seconds": round(cpu_seconds, 2),
        "finish_seconds": round(finish_seconds, 2),
        "rows_per_second": round(total / load_seconds),
        "events_per_second": round(events / load_seconds),
    }


def finish(engine: Engine) -> None:
    """What a deployment's database has after a big import: statistics, a clean WAL."""
    if engine.dialect.name == "postgresql":
        # Autovacuum would get there: planner statistics and the visibility map (index-only
        # scans), now rather than in the middle of a measurement.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    else:
        # No ANALYZE here: the app runs it at start-up on a database never analysed
        # (app.db.dialect.refresh_statistics), and its statistics are then in the file for
        # every system that reads it after. The WAL is folded back so a read-only (immutable)
        # reader sees everything.
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# -- the SQLite cache ----------------------------------------------------------------------------


def alembic_head() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    return "+".join(sorted(heads))


def code_digest() -> str:
    """A digest of the files that decide a generated database's bytes (schema, writer, generator).

    Finer than the Alembic head alone: the writer's derived state (rollups, the search index)
    can change without a migration, and a stale cache would then be measured without it.
    """
    h = hashlib.sha256()
    paths = [ROOT / p for p in _INPUTS]
    for d in _INPUT_DIRS:
        paths.extend(sorted((ROOT / d).glob("*.py")))
    for path in paths:
        if path.exists():
            h.update(path.relative_to(ROOT).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:10]


def cache_key(events: int, seed: int) -> str:
    return f"s{seed}-n{events}-h{alembic_head()}-{code_digest()}"


def sqlite_database(
    events: int,
    seed: int = DEFAULT_SEED,
    *,
    rebuild: bool = False,
    progress: Callable[[str], None] | None = None,
    cache_dir: Path = CACHE_DIR,
    key: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """The cached SQLite file for (seed, events, schema, code), built if missing; its load figures.

    ``key`` is ``cache_key(events, seed)`` unless given (a caller that took it earlier). Older
    files for the same seed and size (another schema or writer) are removed.
    """
    say = progress or (lambda _msg: None)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = key or cache_key(events, seed)
    path = cache_dir / f"{key}.sqlite3"
    meta_path = cache_dir / f"{key}.json"
    if path.exists() and meta_path.exists() and not rebuild:
        meta = json.loads(meta_path.read_text())
        meta["cached"] = True
        return path, meta
    for old in cache_dir.glob(f"s{seed}-n{events}-*"):
        old.unlink()
    tmp = cache_dir / f"{key}.building.sqlite3"
    for leftover in cache_dir.glob(f"{key}.building.sqlite3*"):
        leftover.unlink()
    url = f"sqlite:///{tmp}"
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        say(f"SQLite: loading {events:,} events (seed {seed}) into {tmp.name}")
        meta = load(engine, events, seed, progress=lambda m: say(f"SQLite: {m}"))
    finally:
        engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    meta.update(
        database="sqlite",
        sqlite_version=sqlite3.sqlite_version,
        alembic_head=alembic_head(),
        code_digest=code_digest(),
        bytes=tmp.stat().st_size,
        cached=False,
    )
    os.replace(tmp, path)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return path, meta


def copy_database(source: Path, target: Path) -> None:
    """A private copy of a cached file, so that nothing a benchmark does can change the cache."""
    shutil.copyfile(source, target)


def describe(meta: dict[str, Any]) -> str:
    return (
        f"{meta['events']:,} events, {meta['rows_total']:,} rows in {meta['load_seconds']:.1f} s: "
        f"{meta['rows_per_second']:,} rows/s, {meta['events_per_second']:,} events/s "
        f"(generation {meta['generate_seconds']:.1f} s of it)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--rebuild", action="store_true", help="ignore the SQLite cache")
    parser.add_argument("--cache-key", help=argparse.SUPPRESS)  # bench.dashboards passes its own
    parser.add_argument(
        "--postgresql", action="store_true", help="also load a throwaway PostgreSQL cluster"
    )
    args = parser.parse_args(argv)

    def say(msg: str) -> None:
        print(f"… {msg}", file=sys.stderr, flush=True)

    path, meta = sqlite_database(
        args.events, args.seed, rebuild=args.rebuild, progress=say, key=args.cache_key
    )
    print(f"SQLite {path}: {describe(meta)}{' (cached)' if meta.get('cached') else ''}")
    print(json.dumps(meta["rows"]))
    if args.postgresql:
        from tests.pgcluster import PostgresCluster

        with PostgresCluster() as cluster:
            url = cluster.create_database("dashboards")
            engine = create_db_engine(url)
            try:
                migrate.upgrade(engine)
                pg = load(
                    engine, args.events, args.seed, progress=lambda m: say(f"PostgreSQL: {m}")
                )
            finally:
                engine.dispose()
            print(f"PostgreSQL: {describe(pg)}")
            print(json.dumps(pg["rows"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
