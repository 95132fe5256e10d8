"""A small, fully known world of events for the dashboard query tests, written through the
writer's batch API (not HTTP): places with and without coordinates (one on each side of the
antimeridian, one near the pole), actors with dated affiliations, two outlets, quotes, and
events with ties and unknowns in the sort keys.

Every expectation in the tests is computed here from the specs, not read back from the API.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from app import writer
from app.events.schemas import EARTH_RADIUS_KM
from app.writer.transaction import write_session
from tests.conftest import seed

# name -> (kind, country, parent, latitude, longitude)
PLACES: dict[str, tuple[str, str, str | None, float | None, float | None]] = {
    "Syria": ("country", "SY", None, 35.0, 38.5),
    "Homs": ("admin1", "SY", "Syria", 34.73, 36.72),
    "Rastan": ("populated_place", "SY", "Homs", 34.9266, 36.7325),
    "Qusayr": ("populated_place", "SY", "Homs", None, None),
    "Rif Dimashq": ("admin1", "SY", "Syria", 33.52, 36.95),
    "Douma": ("populated_place", "SY", "Rif Dimashq", 33.5711, 36.4025),
    "Iraq": ("country", "IQ", None, 33.0, 44.0),
    "Mosul": ("populated_place", "IQ", "Iraq", 36.34, 43.13),
    "Fiji": ("country", "FJ", None, -17.7, 178.0),
    "Suva": ("populated_place", "FJ", "Fiji", -18.1416, 178.4419),
    "Taveuni": ("populated_place", "FJ", "Fiji", -16.85, -179.97),
    "Norway": ("country", "NO", None, 61.0, 8.0),
    "Longyearbyen": ("populated_place", "NO", "Norway", 78.2232, 15.6267),
}

# name -> kind
ACTORS = {
    "FSA": "coalition",
    "Faction A": "rebel_group",
    "Faction B": "rebel_group",
    "Brigade C": "rebel_group",
    "Army": "state_forces",
}
# (actor, relation, related actor, since, until): Faction A was in the FSA 2013-2016 only;
# Brigade C is in Faction A, so two steps from the FSA.
AFFILIATIONS = [
    ("Faction A", "member_of", "FSA", date(2013, 1, 1), date(2016, 12, 31)),
    ("Faction B", "allied_with", "FSA", None, None),
    ("Brigade C", "member_of", "Faction A", None, None),
]

OUTLETS = ["Outlet One", "Outlet Two"]
# key -> (outlet, title, body)
ARTICLES = {
    "a1": ("Outlet One", "Shelling reported in Rastan", "A resident said the shelling was heavy."),
    "a2": ("Outlet Two", "Clashes near Douma", "A commander said the fighters held the bridge."),
    "a3": ("Outlet One", "Protest in the main square", "Witnesses said the crowd was peaceful."),
}
# key -> (article, text): each text occurs once in its article's body.
QUOTES = {
    "q1": ("a1", "the shelling was heavy"),
    "q2": ("a2", "the fighters held the bridge"),
    "q3": ("a3", "the crowd was peaceful"),
}


@dataclass(frozen=True)
class Spec:
    key: str
    start: date
    event_type: str
    sub_event_type: str
    place: str | None
    actors: tuple[tuple[str, str, str], ...]  # (actor, side, role)
    fatalities: int | None
    geo_precision: int | None
    sources: tuple[tuple[str, tuple[str, ...]], ...]  # (article, quotes)
    summary: str
    end: date | None = None


BATTLE = ("Battles", "Armed clash")
# fmt: off
SPECS = [
    Spec("e1", date(2014, 3, 1), *BATTLE, "Rastan",
         (("Faction A", "a", "primary"), ("Army", "b", "primary")), 10, 1,
         (("a1", ("q1",)),), "Fighting in Rastan between the faction and the army."),
    Spec("e2", date(2017, 6, 1), *BATTLE, "Rastan",
         (("Faction A", "a", "primary"), ("Army", "b", "primary")), 10, 1,
         (("a2", ("q2",)),), "The faction and the army fought again near the bridge."),
    Spec("e3", date(2018, 1, 5), "Explosions/Remote violence", "Air/drone strike", "Douma",
         (("Army", "a", "primary"), ("Faction B", "b", "target")), None, 2,
         (("a1", ()), ("a2", ())), "Barrel bombs hit Douma."),
    Spec("e4", date(2018, 1, 5), "Protests", "Peaceful protest", "Homs",
         (), 0, 3, (("a3", ("q3",)),), "A protest filled the square."),
    Spec("e5", date(2018, 2, 10), *BATTLE, "Mosul",
         (("Brigade C", "a", "primary"),), None, 1, (("a3", ()),), "A brigade clashed in Mosul."),
    Spec("e6", date(2018, 2, 10), "Riots", "Mob violence", "Qusayr",
         (("FSA", "a", "primary"),), 3, 2, (("a2", ()),), "A mob attacked a checkpoint."),
    Spec("e7", date(2019, 7, 4), *BATTLE, "Suva", (), 0, 1, (), "A clash in Suva."),
    Spec("e8", date(2019, 7, 4), "Explosions/Remote violence", "Shelling/artillery/missile attack",
         "Taveuni", (("Army", "a", "primary"),), None, None, (), "Shells fell on Taveuni."),
    Spec("e9", date(2018, 3, 1), *BATTLE, "Rastan",
         (("FSA", "a", "primary"),), 5, 1, (), "Retracted: a duplicate report."),
    Spec("e10", date(2020, 1, 1), "Strategic developments", "Agreement", "Syria",
         (("Army", "a", "primary"), ("FSA", "b", "primary")), None, 3, (), "A truce was agreed."),
    Spec("e11", date(2015, 5, 5), "Protests", "Peaceful protest", "Longyearbyen",
         (), 1, 1, (), "A small protest in the Arctic."),
    Spec("e12", date(2012, 12, 31), *BATTLE, "Douma",
         (("Faction A", "a", "primary"),), 2, 2, (), "New year's eve clash.", date(2013, 1, 1)),
    Spec("e13", date(2018, 1, 5), *BATTLE, None, (("Army", "a", "primary"),), 7, None, (),
         "An event whose place is unknown."),
]
# fmt: on
RETRACTED = {"e9"}
EDITED_LATER = {"e4"}  # edited after `World.before_edit` (for updated_since)


@dataclass
class World:
    events: dict[str, int] = field(default_factory=dict)
    places: dict[str, int] = field(default_factory=dict)
    actors: dict[str, int] = field(default_factory=dict)
    outlets: dict[str, int] = field(default_factory=dict)
    articles: dict[str, int] = field(default_factory=dict)
    before_edit: datetime | None = None

    def key(self, event_id: int) -> str:
        return {v: k for k, v in self.events.items()}[event_id]

    def keys(self, rows: list[dict[str, Any]]) -> list[str]:
        by_id = {v: k for k, v in self.events.items()}
        return [by_id[r["id"]] for r in rows]


def build(engine: Engine) -> World:
    world = World()
    with write_session(engine) as session:
        for name, (kind, country, parent, lat, lon) in PLACES.items():
            (world.places[name],) = writer.create_places(
                session,
                [
                    writer.NewPlace(
                        name=name,
                        kind=kind,
                        country=country,
                        parent_id=world.places[parent] if parent else None,
                        latitude=lat,
                        longitude=lon,
                    )
                ],
            )
        ids = writer.create_actors(
            session, [writer.NewActor(name=n, kind=k, country="SY") for n, k in ACTORS.items()]
        )
        world.actors = dict(zip(ACTORS, ids, strict=True))
        writer.add_affiliations(
            session,
            [
                writer.NewAffiliation(world.actors[a], world.actors[b], rel, since, until)
                for a, rel, b, since, until in AFFILIATIONS
            ],
        )
        ids = writer.create_outlets(session, [writer.NewOutlet(name=n) for n in OUTLETS])
        world.outlets = dict(zip(OUTLETS, ids, strict=True))
        ids = writer.create_articles(
            session,
            [
                writer.NewArticle(
                    outlet_id=world.outlets[outlet],
                    url=f"https://example.org/{key}",
                    title=title,
                    published_date=date(2018, 1, int(key[1:])),
                    body=body,
                )
                for key, (outlet, title, body) in ARTICLES.items()
            ],
        )
        world.articles = dict(zip(ARTICLES, ids, strict=True))
        quote_ids = {}
        for key, (article, text) in QUOTES.items():
            body = ARTICLES[article][2]
            start = body.index(text)
            (quote_ids[key],) = writer.create_quotes(
                session,
                [
                    writer.NewQuote(
                        article_id=world.articles[article],
                        text=text,
                        start=start,
                        end=start + len(text),
                        speaker_name="a witness",
                    )
                ],
            )
        ids = writer.create_events(
            session,
            [
                writer.NewEvent(
                    event_type=s.event_type,
                    sub_event_type=s.sub_event_type,
                    date_start=s.start,
                    date_end=s.end or s.start,
                    date_precision="day",
                    place_id=world.places[s.place] if s.place else None,
                    geo_precision=s.geo_precision,
                    summary=s.summary,
                    fatalities_best=s.fatalities,
                    actors=[
                        writer.NewEventActor(actor_id=world.actors[a], side=side, role=role)
                        for a, side, role in s.actors
                    ],
                    sources=[
                        writer.NewSource(
                            article_id=world.articles[a], quote_ids=[quote_ids[q] for q in qs]
                        )
                        for a, qs in s.sources
                    ],
                )
                for s in SPECS
            ],
        )
        world.events = {s.key: i for s, i in zip(SPECS, ids, strict=True)}
        for key in RETRACTED:
            writer.retract_event(session, world.events[key], 1, "duplicate", api_key_id=None)
    time.sleep(0.01)
    world.before_edit = datetime.now(UTC)
    time.sleep(0.01)
    with write_session(engine) as session:
        for key in EDITED_LATER:
            writer.update_event(
                session, world.events[key], 1, {"fatalities_low": 0}, api_key_id=None
            )
    return world


# -- expectations, from the specs --------------------------------------------------------------


def spec(key: str) -> Spec:
    return next(s for s in SPECS if s.key == key)


def live() -> list[Spec]:
    return [s for s in SPECS if s.key not in RETRACTED]


def coordinates(s: Spec) -> tuple[float, float] | None:
    if s.place is None or PLACES[s.place][3] is None:
        return None
    _, _, _, lat, lon = PLACES[s.place]
    assert lat is not None and lon is not None
    return lat, lon


def country(s: Spec) -> str | None:
    return PLACES[s.place][1] if s.place else None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine, written independently of the app's SQL."""
    (lat1, lon1), (lat2, lon2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def ordered(specs: list[Spec], sort: str, ids: dict[str, int]) -> list[str]:
    """The specs in the order of an API sort key: ties by id the same way, unknown
    fatalities last in both directions."""
    descending = sort.startswith("-")
    name = sort.lstrip("-")

    def value(s: Spec) -> Any:
        return {"id": ids[s.key], "date_start": s.start, "fatalities_best": s.fatalities}[name]

    known = [s for s in specs if value(s) is not None]
    unknown = [s for s in specs if value(s) is None]
    known.sort(key=lambda s: (value(s), ids[s.key]), reverse=descending)
    unknown.sort(key=lambda s: ids[s.key], reverse=descending)
    return [s.key for s in known + unknown]


# The fixture: the world in the test's database from the start (a seeded copy, tests/conftest.py).
world = seed(build, name="world")
