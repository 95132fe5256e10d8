"""GET /v1/events as a dashboard query API: every filter alone and combined, with the exact
events expected (computed from tests/events/world.py's specs), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.db.session import read_session
from app.events import repository
from app.events.schemas import EventFilter
from app.models import Event, EventActor
from tests.events import world as w
from tests.events.world import World
from tests.helpers import assert_problem, error_locs


def listed(client: TestClient, world: World, **params: Any) -> list[str]:
    response = client.get("/v1/events", params={"sort": "id", "limit": 1000, **params})
    assert response.status_code == 200, response.text
    return world.keys(response.json()["data"])


def expect(predicate: Any) -> list[str]:
    return [s.key for s in w.live() if predicate(s)]


def test_no_filter_lists_every_live_event(client: TestClient, world: World) -> None:
    assert listed(client, world) == expect(lambda s: True)
    assert "e9" not in listed(client, world)
    assert "e9" in listed(client, world, include_retracted="true")


def test_dates(client: TestClient, world: World) -> None:
    got = listed(client, world, date_from="2018-01-05", date_to="2018-02-10")
    assert got == expect(lambda s: date(2018, 1, 5) <= s.start <= date(2018, 2, 10))
    assert got == ["e3", "e4", "e5", "e6", "e13"]


def test_event_and_sub_event_types_repeat_as_any_of(client: TestClient, world: World) -> None:
    assert listed(client, world, event_type=["Protests", "Riots"]) == ["e4", "e6", "e11"]
    assert listed(client, world, sub_event_type="Air/drone strike") == ["e3"]
    assert listed(
        client,
        world,
        sub_event_type=["Air/drone strike", "Shelling/artillery/missile attack"],
    ) == ["e3", "e8"]
    # Types and sub-types combine with AND.
    assert listed(client, world, event_type="Battles", sub_event_type="Agreement") == []


def test_place_includes_everything_inside(client: TestClient, world: World) -> None:
    homs = world.places["Homs"]
    assert listed(client, world, place=homs) == ["e1", "e2", "e4", "e6"]
    assert listed(client, world, place=world.places["Syria"]) == expect(
        lambda s: w.country(s) == "SY"
    )


@pytest.mark.parametrize("code", ["SY", "sy", "IQ", "FJ", "NO", "DE"])
def test_country_is_the_country_of_the_events_place(
    client: TestClient, world: World, code: str
) -> None:
    assert listed(client, world, country=code) == expect(lambda s: w.country(s) == code.upper())


def in_box(west: float, south: float, east: float, north: float) -> list[str]:
    return expect(
        lambda s: (
            (c := w.coordinates(s)) is not None and south <= c[0] <= north and west <= c[1] <= east
        )
    )


def test_bbox(client: TestClient, world: World) -> None:
    assert listed(client, world, bbox="36.0,33.0,37.0,35.0") == in_box(36.0, 33.0, 37.0, 35.0)
    assert in_box(36.0, 33.0, 37.0, 35.0) == ["e1", "e2", "e3", "e4", "e12"]
    # Edges are included: boxes with a corner exactly at Rastan (e1, e2).
    assert listed(client, world, bbox="36.7325,34.9266,40,40") == ["e1", "e2", "e10"]
    assert listed(client, world, bbox="30,30,36.7325,34.9266") == ["e1", "e2", "e3", "e4", "e12"]
    assert listed(client, world, bbox="36.7325,34.9266,36.7325,34.9266") == ["e1", "e2"]
    # Qusayr has no coordinates: its event (e6) is in no box, not even the whole world.
    everywhere = listed(client, world, bbox="-180,-90,180,90")
    assert everywhere == expect(lambda s: w.coordinates(s) is not None)
    assert "e6" not in everywhere and "e13" not in everywhere


def test_bbox_across_the_antimeridian(client: TestClient, world: World) -> None:
    # minlon > maxlon wraps past 180° (RFC 7946, 5.2): Suva (178.44) and Taveuni (-179.97).
    assert listed(client, world, bbox="178,-20,-179,-15") == ["e7", "e8"]
    assert listed(client, world, bbox="-179,-20,178,-15") == []  # the other way round: neither
    assert listed(client, world, bbox="178,-20,179,-15") == ["e7"]


def test_near_is_the_exact_great_circle_distance(client: TestClient, world: World) -> None:
    rastan = w.PLACES["Rastan"][3:5]
    for km in (1, 30, 100, 300, 700):
        expected = expect(
            lambda s, km=km: (c := w.coordinates(s)) is not None and w.distance_km(rastan, c) <= km  # type: ignore[arg-type]
        )
        assert listed(client, world, near=f"{rastan[0]},{rastan[1]},{km}") == expected, km
    # Right at the edge: Douma is d km from Rastan; a hair more includes it, a hair less not.
    douma = w.PLACES["Douma"][3:5]
    d = w.distance_km(rastan, douma)  # type: ignore[arg-type]
    at = f"{rastan[0]},{rastan[1]}"
    assert "e3" in listed(client, world, near=f"{at},{d + 2e-6:.6f}")
    assert "e3" not in listed(client, world, near=f"{at},{d - 2e-6:.6f}")


def test_near_across_the_antimeridian_and_the_pole(client: TestClient, world: World) -> None:
    suva, taveuni = w.PLACES["Suva"][3:5], w.PLACES["Taveuni"][3:5]
    d = w.distance_km(suva, taveuni)  # type: ignore[arg-type]
    assert 100 < d < 400
    assert listed(client, world, near=f"{suva[0]},{suva[1]},{d + 1:.3f}") == ["e7", "e8"]
    assert listed(client, world, near=f"{taveuni[0]},{taveuni[1]},{d + 1:.3f}") == ["e7", "e8"]
    assert listed(client, world, near=f"{taveuni[0]},{taveuni[1]},{d - 1:.3f}") == ["e8"]
    # A circle around the North Pole takes every longitude: Longyearbyen at ~15.6°E is found
    # from a point at 0°E.
    svalbard = w.PLACES["Longyearbyen"][3:5]
    d = w.distance_km((89.0, 0.0), svalbard)  # type: ignore[arg-type]
    assert listed(client, world, near=f"89,0,{d + 1:.3f}") == ["e11"]
    assert listed(client, world, near=f"89,0,{d - 1:.3f}") == []


def test_actor_and_its_affiliates(client: TestClient, world: World) -> None:
    fsa = world.actors["FSA"]
    assert listed(client, world, actor=fsa) == ["e6", "e10"]
    # Affiliates one level down, while affiliated: Faction A in 2013-2016 (e1 and e12, whose
    # dates overlap 1 January 2013; not e2 in 2017), Faction B always (e3). Brigade C is a
    # member of Faction A, two steps away (e5): not included.
    assert listed(client, world, actor=fsa, include_affiliates="true") == [
        "e1",
        "e3",
        "e6",
        "e10",
        "e12",
    ]
    assert listed(client, world, actor=fsa, include_affiliates="true", side="a") == [
        "e1",
        "e6",
        "e12",
    ]
    assert listed(client, world, actor=fsa, include_affiliates="true", side="b") == ["e3", "e10"]
    # The direction: members find nothing of the FSA's through their affiliation.
    faction_a = world.actors["Faction A"]
    assert listed(client, world, actor=faction_a, include_affiliates="true") == [
        "e1",
        "e2",
        "e5",
        "e12",
    ]
    assert listed(client, world, actor=world.actors["Army"], side="b") == ["e1", "e2"]


def test_outlet(client: TestClient, world: World) -> None:
    one, two = world.outlets["Outlet One"], world.outlets["Outlet Two"]
    assert listed(client, world, outlet=one) == ["e1", "e3", "e4", "e5"]
    assert listed(client, world, outlet=two) == ["e2", "e3", "e6"]


def test_fatalities(client: TestClient, world: World) -> None:
    assert listed(client, world, fatalities_min=3) == ["e1", "e2", "e6", "e13"]
    assert listed(client, world, fatalities_max=0) == ["e4", "e7"]
    assert listed(client, world, fatalities_min=1, fatalities_max=5) == ["e6", "e11", "e12"]
    # An unknown figure matches no bound at all.
    assert not {"e3", "e5", "e8", "e10"} & set(listed(client, world, fatalities_min=0))


def test_geo_precision(client: TestClient, world: World) -> None:
    assert listed(client, world, geo_precision=1) == expect(lambda s: s.geo_precision == 1)
    assert listed(client, world, geo_precision=[2, 3]) == ["e3", "e4", "e6", "e10", "e12"]


def test_updated_since(client: TestClient, world: World) -> None:
    assert world.before_edit is not None
    # Any offset: the same instant written in UTC+02:00.
    since = world.before_edit.astimezone(timezone(timedelta(hours=2)))
    assert listed(client, world, updated_since=since.isoformat()) == sorted(w.EDITED_LATER)
    earlier = (world.before_edit - timedelta(days=1)).isoformat()
    assert listed(client, world, updated_since=earlier) == expect(lambda s: True)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"country": "SY", "event_type": "Battles", "date_from": "2014-01-01"}, ["e1", "e2"]),
        ({"bbox": "36,33,38,36", "fatalities_min": 1, "actor": "Army"}, ["e1", "e2"]),
        ({"near": "34.9266,36.7325,1", "outlet": "Outlet Two"}, ["e2"]),
        ({"place": "Syria", "geo_precision": 2, "sub_event_type": "Armed clash"}, ["e12"]),
        ({"actor": "FSA", "include_affiliates": "true", "country": "SY", "date_to": "2017-01-01"},
         ["e1", "e12"]),
        ({"outlet": "Outlet One", "fatalities_max": 0, "event_type": "Protests"}, ["e4"]),
    ],
)  # fmt: skip
def test_filters_combine_with_and(
    client: TestClient, world: World, params: dict[str, Any], expected: list[str]
) -> None:
    resolved = dict(params)
    for name, table in (
        ("actor", world.actors),
        ("outlet", world.outlets),
        ("place", world.places),
    ):
        if name in resolved:
            resolved[name] = table[resolved[name]]
    assert listed(client, world, **resolved) == expected


def test_total_counts_with_every_filter(client: TestClient, world: World) -> None:
    body = client.get(
        "/v1/events", params={"country": "SY", "limit": 1, "total": "true", "event_type": "Battles"}
    ).json()
    assert body["total"] == len(
        expect(lambda s: w.country(s) == "SY" and s.event_type == "Battles")
    )


@pytest.mark.parametrize(
    "params, loc",
    [
        ({"bbox": "36,35,37,34"}, ["query", "bbox"]),  # minlat above maxlat
        ({"bbox": "36,33,37"}, ["query", "bbox"]),
        ({"bbox": "181,33,37,34"}, ["query", "bbox"]),
        ({"bbox": "36,-91,37,34"}, ["query", "bbox"]),
        ({"near": "33,36,0"}, ["query", "near"]),
        ({"near": "33,36,20001"}, ["query", "near"]),
        ({"near": "91,36,10"}, ["query", "near"]),
        ({"near": "33,36"}, ["query", "near"]),
        ({"side": "a"}, ["query", "side"]),
        ({"side": "c", "actor": "1"}, ["query", "side"]),
        ({"include_affiliates": "true"}, ["query", "include_affiliates"]),
        ({"country": "SYR"}, ["query", "country"]),
        ({"geo_precision": "4"}, ["query", "geo_precision", 0]),
        ({"updated_since": "2018-04-18T00:00:00"}, ["query", "updated_since"]),  # no offset
        ({"updated_since": "0001-01-01T00:00:00+01:00"}, ["query", "updated_since"]),
        ({"fatalities_min": "-1"}, ["query", "fatalities_min"]),
        ({"outlet": "0"}, ["query", "outlet"]),
        ({"sub_event_type": "x\x00"}, ["query"]),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, Any], loc: list[Any]
) -> None:
    body = assert_problem(client.get("/v1/events", params=params), 422)
    assert loc in error_locs(body), body
    if len(loc) > 1:
        assert str(loc[1]) in body["detail"]


def test_filters_stand_alone_in_a_query_joining_the_same_tables(
    client: TestClient, world: World, engine: Engine
) -> None:
    """The stats join event_actor (and others) around filter_clauses: the filters' subqueries
    must not correlate with those joins. Filtering on the FSA keeps every actor row of the
    FSA's events, not only the FSA's own."""

    def rows(f: EventFilter) -> set[tuple[str, int]]:
        stmt = (
            select(Event.id, EventActor.actor_id)
            .join(EventActor, EventActor.event_id == Event.id)
            .where(*repository.filter_clauses(f))
        )
        with read_session(engine) as session:
            return {(world.key(e), a) for e, a in session.execute(stmt)}

    fsa, army = world.actors["FSA"], world.actors["Army"]
    assert rows(EventFilter(actor=fsa)) == {("e6", fsa), ("e10", fsa), ("e10", army)}
    assert rows(EventFilter(actor=fsa, outlet=world.outlets["Outlet Two"])) == {("e6", fsa)}
    faction_b = world.actors["Faction B"]
    assert rows(EventFilter(actor=fsa, include_affiliates=True, date_from=date(2018, 1, 1))) == {
        ("e3", army),
        ("e3", faction_b),
        ("e6", fsa),
        ("e10", fsa),
        ("e10", army),
    }


def test_place_and_actor_reach_the_planner_as_constants(world: World, engine: Engine) -> None:
    """Every event query with a session reads the live place and actor first
    (``with_live_ids``): its statements then carry them as constants, which the planner can
    estimate (hidden in a merged-id subquery, a country looked to PostgreSQL like a handful
    of places: bench/README.md). The events are the same either way."""
    syria, fsa = world.places["Syria"], world.actors["FSA"]
    given = EventFilter(place=syria, actor=fsa, include_affiliates=True)
    with read_session(engine) as session:
        live = repository.with_live_ids(session, given)
        found = []
        for f, constants in ((given, False), (live, True)):
            stmt = repository.list_statement(f, "id", ["id"])
            sql = str(stmt.compile(dialect=engine.dialect))
            assert ("merged_into_id" not in sql) == constants
            assert (f"ancestor_id = {syria}" in sql) == constants
            assert (f"actor_id = {fsa}" in sql) == constants
            found.append(session.execute(stmt).scalars().all())
    assert found[0] == found[1] and found[0]
    assert repository.with_live_ids(session, live) is live  # read once
