"""A seeded synthetic dataset written through the writer's batch API, and the clients that
read stats from it: one answering from the rollups where it can, one always from the events.

The data is built to exercise every rule of the stats: four countries with admin1 > admin2 >
town hierarchies (some places without coordinates, one region outside any admin1, one town
filed under a country code but outside that country's place), events skewed towards later
years with a two-week gap around the new year 2019, events with no place, with two or three
actors, with several articles of one or more outlets, with unknown fatalities, retracted ones.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypedDict

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app import writer
from app.config import Settings
from app.main import create_app
from app.models import DimensionCode
from app.writer.transaction import write_session
from tests.conftest import seed

SEED = 20260127
COUNTRIES = [
    ("SY", "Syria", 35.0, 38.5),
    ("YE", "Yemen", 15.5, 48.0),
    ("ML", "Mali", 17.5, -4.0),
    ("CO", "Colombia", 4.0, -73.0),
]
TYPES: dict[str, list[str | None]] = {
    "Battles": ["Armed clash", "Government regains territory", None],
    "Explosions/Remote violence": ["Air/drone strike", "Shelling/artillery/missile attack", None],
    "Violence against civilians": ["Attack", "Abduction/forced disappearance"],
    "Protests": ["Peaceful protest"],
    "Strategic developments": ["Agreement", "Arrests"],
}
YEARS = {2016: 1, 2017: 2, 2018: 4, 2019: 8}
GAP = (date(2018, 12, 24), date(2019, 1, 6))  # no events: weeks and days to zero-fill
SUMMARIES = [
    "Clashes near the bridge.",
    "Shelling of the market.",
    "Protesters gathered at the bridge.",
    "Checkpoint attacked at night.",
    "Talks between the sides.",
]


@dataclass
class Dataset:
    countries: dict[str, int] = field(default_factory=dict)  # code -> place id
    admin1: list[int] = field(default_factory=list)
    admin2: list[int] = field(default_factory=list)
    towns: list[int] = field(default_factory=list)
    stray: int = 0  # a town with Mali's code outside Mali's place
    actors: list[int] = field(default_factory=list)
    outlets: list[int] = field(default_factory=list)
    articles: list[int] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    retracted: list[int] = field(default_factory=list)
    # Issue 12: dataset codes (scheme, code) -> dimension_code id.
    codes: dict[tuple[str, str], int] = field(default_factory=dict)


def _date(rng: random.Random) -> date:
    while True:
        year = rng.choices(list(YEARS), weights=list(YEARS.values()))[0]
        # Later months more likely within a year too.
        month = min(12, int(rng.triangular(1, 13, 12)))
        day = date(year, month, 1) + timedelta(days=rng.randrange(31))
        if day.month == month and not GAP[0] <= day <= GAP[1]:
            return day


def _fatalities(rng: random.Random) -> tuple[int | None, int | None, int | None]:
    if rng.random() < 0.25:
        return None, None, None
    best = rng.choice([0, 0, 1, 2, 3, 5, 8, 13, 40])
    low = None if rng.random() < 0.3 else max(0, best - rng.randrange(3))
    high = None if rng.random() < 0.3 else best + rng.randrange(5)
    return low, best, high


def _dates(rng: random.Random) -> tuple[date, date, str]:
    """A start, an end and a precision: mostly days, some weeks, months and years (issue 12:
    coarse dates, spread over their buckets)."""
    start = _date(rng)
    precision = rng.choices(["day", "week", "month", "year"], weights=[80, 10, 7, 3])[0]
    if precision == "week":
        return start, start + timedelta(days=6), precision
    first = start.replace(day=1) if precision == "month" else start.replace(month=1, day=1)
    if precision in ("month", "year") and not GAP[0] <= first <= GAP[1]:
        if precision == "month":
            last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
            return first, last, precision
        return first, start.replace(month=12, day=31), precision
    return start, start, "day"  # (a coarse date would start in the gap: kept precise)


class Deaths(TypedDict):
    deaths_a: int | None
    deaths_b: int | None
    deaths_civilians: int | None
    deaths_unknown: int | None


def _deaths(rng: random.Random, best: int | None) -> Deaths:
    """Fatalities by whom: for half the events with a best estimate, a split of it."""
    if best is None or rng.random() < 0.5:
        return Deaths(deaths_a=None, deaths_b=None, deaths_civilians=None, deaths_unknown=None)
    cuts = sorted(rng.randint(0, best) for _ in range(3))
    return Deaths(
        deaths_a=cuts[0],
        deaths_b=cuts[1] - cuts[0],
        deaths_civilians=cuts[2] - cuts[1],
        deaths_unknown=best - cuts[2],
    )


# Codes of two schemes (issue 12): UCDP's closed type_of_violence (seeded), and ACLED's open
# tags (several per event; ACLED separates them with ";"), a tag with "," in it included.
VIOLENCE = ("1", "2", "3")
TAGS = ("crowd size=no report", "local administrators", "women targeted: girls, minors")
CONFLICTS = (("299", "Syria: Government"), ("11345", "Mali: Government"))


def load(engine: Engine, *, events: int = 700, seed: int = SEED) -> Dataset:
    """Write the dataset through the batch API in one transaction."""
    rng = random.Random(seed)
    ds = Dataset()
    with write_session(engine) as session:
        ids = writer.create_places(
            session,
            [
                writer.NewPlace(
                    name=name, kind="country", country=code, latitude=lat, longitude=lon
                )
                for code, name, lat, lon in COUNTRIES
            ],
        )
        ds.countries = {code: i for (code, *_), i in zip(COUNTRIES, ids, strict=True)}
        admin1_specs = []
        for (code, name, lat, lon), country_id in zip(COUNTRIES, ids, strict=True):
            for n in range(3):
                # One admin1 without coordinates: its events are 'unlocated' at that level.
                located = not (code == "YE" and n == 2)
                admin1_specs.append(
                    writer.NewPlace(
                        name=f"{name} Province {n + 1}",
                        kind="admin1",
                        country=code,
                        parent_id=country_id,
                        latitude=lat + n if located else None,
                        longitude=lon + n if located else None,
                    )
                )
        ds.admin1 = writer.create_places(session, admin1_specs)
        admin2_specs = [
            writer.NewPlace(
                name=f"{spec.name} District {m + 1}",
                kind="admin2",
                country=spec.country,
                parent_id=admin1_id,
                latitude=None if m else (spec.latitude or 0) + 0.2,
                longitude=None if m else (spec.longitude or 0) + 0.2,
            )
            for spec, admin1_id in zip(admin1_specs, ds.admin1, strict=True)
            for m in range(2)
        ]
        ds.admin2 = writer.create_places(session, admin2_specs)
        town_specs = [
            writer.NewPlace(
                name=f"{spec.name} Town {k + 1}",
                kind="populated_place",
                country=spec.country,
                parent_id=admin2_id,
                latitude=None if k == 2 else rng.uniform(-60, 60),
                longitude=None if k == 2 else rng.uniform(-170, 170),
            )
            for spec, admin2_id in zip(admin2_specs, ds.admin2, strict=True)
            for k in range(3)
        ]
        ds.towns = writer.create_places(session, town_specs)
        # A region of each country outside its provinces (admin1 null), and a stray town
        # coded ML but filed at the top level, outside Mali's place.
        regions = writer.create_places(
            session,
            [
                writer.NewPlace(
                    name=f"{name} Borderlands",
                    kind="region",
                    country=code,
                    parent_id=ds.countries[code],
                    latitude=lat - 1,
                    longitude=lon - 1,
                )
                for code, name, lat, lon in COUNTRIES
            ],
        )
        (ds.stray,) = writer.create_places(
            session,
            [
                writer.NewPlace(
                    name="Stray Town",
                    kind="populated_place",
                    country="ML",
                    latitude=10,
                    longitude=1,
                )
            ],
        )
        ds.actors = writer.create_actors(
            session,
            [
                writer.NewActor(
                    name=f"Actor {n:02d}",
                    kind=rng.choice(
                        ["state_forces", "rebel_group", "political_militia", "civilians"]
                    ),
                    country=rng.choice(COUNTRIES)[0],
                )
                for n in range(12)
            ],
        )
        # Actors 5 and 6 are members of actor 3 (6 only from 2018): include_affiliates.
        writer.add_affiliations(
            session,
            [
                writer.NewAffiliation(ds.actors[5], ds.actors[3], "member_of"),
                writer.NewAffiliation(
                    ds.actors[6], ds.actors[3], "member_of", since=date(2018, 1, 1)
                ),
            ],
        )
        ds.outlets = writer.create_outlets(
            session, [writer.NewOutlet(name=f"Outlet {n}", kind="agency") for n in range(6)]
        )
        ds.articles = writer.create_articles(
            session,
            [
                writer.NewArticle(
                    outlet_id=ds.outlets[n % len(ds.outlets)],
                    url=f"https://news.example/{n}",
                    title=f"Report {n}",
                    published_date=date(2016, 1, 1) + timedelta(days=n * 25),
                )
                for n in range(60)
            ],
        )
        places = ds.towns * 3 + ds.admin2 + ds.admin1 + regions + [ds.stray] * 3
        seeded = session.execute(
            select(DimensionCode.code, DimensionCode.id).where(
                DimensionCode.scheme == "ucdp.type_of_violence"
            )
        ).all()
        ds.codes = {("ucdp.type_of_violence", code): i for code, i in seeded}
        new_codes: list[tuple[str, str, str | None]] = [("acled.tags", tag, None) for tag in TAGS]
        new_codes += [("ucdp.conflict", code, label) for code, label in CONFLICTS]
        for (scheme, code, _), code_id in zip(
            new_codes, writer.create_dimension_codes(session, new_codes), strict=True
        ):
            ds.codes[(scheme, code)] = code_id
        new_events = []
        for _ in range(events):
            event_type = rng.choice(list(TYPES))
            low, best, high = _fatalities(rng)
            start, end, precision = _dates(rng)
            dimension_ids = []
            if rng.random() < 0.7:
                dimension_ids.append(ds.codes[("ucdp.type_of_violence", rng.choice(VIOLENCE))])
                dimension_ids.append(ds.codes[("ucdp.conflict", rng.choice(CONFLICTS)[0])])
            dimension_ids += [
                ds.codes[("acled.tags", t)] for t in rng.sample(TAGS, rng.randrange(3))
            ]
            n_actors = rng.choices([0, 1, 2, 3], weights=[1, 4, 4, 2])[0]
            n_sources = rng.choices([0, 1, 2, 3], weights=[1, 4, 3, 2])[0]
            new_events.append(
                writer.NewEvent(
                    summary=rng.choice(SUMMARIES),
                    geo_precision=rng.choice([1, 2, 3, None]),
                    event_type=event_type,
                    sub_event_type=rng.choice(TYPES[event_type]),
                    date_start=start,
                    date_end=end,
                    date_precision=precision,
                    dimension_ids=dimension_ids,
                    **_deaths(rng, best),
                    place_id=None if rng.random() < 0.05 else rng.choice(places),
                    fatalities_low=low,
                    fatalities_best=best,
                    fatalities_high=high,
                    actors=[
                        writer.NewEventActor(actor_id=a, role="primary", side=rng.choice("ab"))
                        for a in rng.sample(ds.actors, n_actors)
                    ],
                    # Articles n and n + 6 share an outlet: such events count once for it.
                    sources=[
                        writer.NewSource(article_id=a)
                        for a in rng.sample(ds.articles[:12], n_sources)
                    ],
                )
            )
        ds.events = writer.create_events(session, new_events)
        ds.retracted = sorted(rng.sample(ds.events, len(ds.events) // 12))
        for event_id in ds.retracted:
            writer.retract_event(session, event_id, 1, "synthetic retraction", api_key_id=None)
        # Two records of one incident (count=incidents counts them once; incident=1).
        active = [e for e in ds.events if e not in set(ds.retracted)]
        writer.link_events(session, active[:2], api_key_id=None)
    return ds


@seed
def dataset(engine: Engine) -> Dataset:
    """The 700 events of ``load``, in the test's database from the start (a seeded copy)."""
    return load(engine)


@pytest.fixture
def raw_client(settings: Settings, client: TestClient) -> Iterator[TestClient]:
    """The same database through an app that never reads the rollups."""
    app = create_app(settings.model_copy(update={"stats_use_rollups": False}))
    try:
        yield TestClient(app, headers=dict(client.headers))
    finally:
        app.state.engine.dispose()


def small_limit_client(settings: Settings, client: TestClient, limit: int) -> TestClient:
    app = create_app(settings.model_copy(update={"stats_max_buckets": limit}))
    return TestClient(app, headers=dict(client.headers))
