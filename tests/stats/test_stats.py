"""GET /v1/stats/events and /v1/stats/places on both databases, checked against pandas over
what the events list exports for the same filters (its CSV, or its JSON with actors and
sources: see tests/stats/oracle.py), right after a bulk load through the writer and again
after a report, edits, retractions and a place move through the API; every case answered
both from the rollups (where they can) and from the events, which must agree."""

from __future__ import annotations

import csv
import io
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.db.session import read_session
from app.events.schemas import EventFilter
from app.models import Event, Place
from app.stats import repository as stats_repository
from app.stats.schemas import Dimension, Interval
from tests.helpers import assert_problem
from tests.stats import oracle
from tests.stats.conftest import COUNTRIES, Dataset, small_limit_client

STATS_ONLY = ("interval", "group_by", "metrics", "format")


@dataclass
class Case:
    name: str
    params: dict[str, Any]
    rollup: bool = False  # whether the rollups can answer it

    @property
    def filters(self) -> dict[str, Any]:
        """The events list's filters among the parameters: what the export is asked for."""
        return {k: v for k, v in self.params.items() if k not in STATS_ONLY}

    @property
    def interval(self) -> str | None:
        return self.params.get("interval")

    @property
    def dims(self) -> list[str]:
        given = self.params.get("group_by")
        return given.split(",") if given else []

    @property
    def metrics(self) -> list[str]:
        given = self.params.get("metrics")
        return given.split(",") if given else list(oracle.METRICS)


def cases(ds: Dataset, *, updated_since: str | None = None) -> list[Case]:
    """At least one case per filter of the events list, and per grouping the stats offer."""
    sy, ml = ds.countries["SY"], ds.countries["ML"]
    admin1 = ds.admin1[1]  # Syria Province 2
    actor = ds.actors[3]
    out = [
        Case(
            "month by event_type in one country place (closed: rollups)",
            {"interval": "month", "group_by": "event_type", "place": sy},
            rollup=True,
        ),
        Case(
            "month by event_type in a country place with a stray town (events)",
            {"interval": "month", "group_by": "event_type", "place": ml},
        ),
        Case(
            "month by sub_event_type for one country code, whole months (rollups)",
            {
                "interval": "month",
                "group_by": "sub_event_type",
                "country": "ye",
                "date_from": "2018-01-01",
                "date_to": "2018-12-31",
            },
            rollup=True,
        ),
        Case("year by country", {"interval": "year", "group_by": "country"}, rollup=True),
        Case(
            "week over a date range with a gap, across a new year (zero fill)",
            {"interval": "week", "date_from": "2018-11-15", "date_to": "2019-02-10"},
        ),
        Case(
            "day by event_type over the gap",
            {
                "interval": "day",
                "group_by": "event_type",
                "date_from": "2018-12-15",
                "date_to": "2019-01-15",
            },
        ),
        Case("admin1 totals", {"group_by": "admin1"}, rollup=True),
        Case(
            "month by admin1 and event_type, whole months, two types (rollups)",
            {
                "interval": "month",
                "group_by": "admin1,event_type",
                "event_type": ["Battles", "Protests"],
                "date_from": "2018-03-01",
                "date_to": "2019-02-28",
            },
            rollup=True,
        ),
        Case(
            "year by sub_event_type inside one admin1 (rollups)",
            {"interval": "year", "group_by": "sub_event_type", "place": admin1},
            rollup=True,
        ),
        Case(
            "admin1 totals of two sub-types (rollups)",
            {"group_by": "admin1", "sub_event_type": ["Armed clash", "Attack"]},
            rollup=True,
        ),
        Case(
            "event_type by sub_event_type", {"group_by": "event_type,sub_event_type"}, rollup=True
        ),
        Case("actor totals (multi-valued)", {"group_by": "actor"}),
        Case("outlet totals (multi-valued)", {"group_by": "outlet", "metrics": "count,fatalities"}),
        Case("year by actor and outlet", {"interval": "year", "group_by": "actor,outlet"}),
        Case("place totals", {"group_by": "place", "metrics": "count,fatalities_high"}),
        Case(
            "year by event_type for one actor",
            {"interval": "year", "group_by": "event_type", "actor": actor},
        ),
        Case(
            "outlets of one actor's side-a events and its members' (affiliates)",
            {"group_by": "outlet", "actor": actor, "side": "a", "include_affiliates": "true"},
        ),
        Case(
            "actors of one outlet's events by year",
            {"interval": "year", "group_by": "actor", "outlet": ds.outlets[2]},
        ),
        Case(
            "year by event_type, at least 5 fatalities",
            {"interval": "year", "group_by": "event_type", "fatalities_min": 5},
        ),
        Case(
            "country totals of 1 to 3 fatalities, precise places",
            {
                "group_by": "country",
                "fatalities_min": 1,
                "fatalities_max": 3,
                "geo_precision": [1, 2],
            },
        ),
        Case("country totals in a box", {"group_by": "country", "bbox": "-180,0,180,45"}),
        Case("month near a point", {"interval": "month", "near": "10,1,50", "metrics": "count"}),
        Case(
            "year by country, full text", {"interval": "year", "group_by": "country", "q": "bridge"}
        ),
        Case(
            "month with retracted events",
            {"interval": "month", "include_retracted": "true", "metrics": "count"},
        ),
        Case(
            "mid-month bounds (events)",
            {"interval": "month", "date_from": "2019-03-10", "date_to": "2019-08-20"},
        ),
        Case("totals", {}, rollup=True),
        Case(
            "year by event_type, at least two articles",
            {"interval": "year", "group_by": "event_type", "sources_min": 2},
        ),
        Case("country totals, at least two outlets", {"group_by": "country", "outlets_min": 2}),
        Case(
            "month of undisputed events without quotes",
            {"interval": "month", "disputed": "false", "evidence": "none", "metrics": "count"},
        ),
        # The dataset's incident (mutate_through_the_api links a second).
        Case("the records of one incident by country", {"group_by": "country", "incident": 1}),
        Case(
            "year by country counting incidents (events: the rollups count records)",
            {"interval": "year", "group_by": "country", "count": "incidents"},
        ),
    ]
    if updated_since is not None:
        out.append(
            Case(
                "what changed since the edits began, by country",
                {
                    "group_by": "country",
                    "updated_since": updated_since,
                    "include_retracted": "true",
                },
            )
        )
    return out


def test_the_cases_cover_every_filter_of_the_events_list() -> None:
    """A filter added to the events list must get a case here (stats take them all)."""
    ids = list(range(1, 40))
    dummy = Dataset(
        countries={code: i for i, (code, *_) in enumerate(COUNTRIES, 1)},
        admin1=ids,
        actors=ids,
        outlets=ids,
    )
    all_cases = cases(dummy, updated_since="2020-01-01T00:00:00+00:00")
    given = {name for case in all_cases for name in case.params}
    assert set(EventFilter.model_fields) <= given, set(EventFilter.model_fields) - given
    assert {d for case in all_cases for d in case.dims} == set(typing.get_args(Dimension))
    assert {case.interval for case in all_cases} == {None, *typing.get_args(Interval)}
    assert {True, False} == {case.rollup for case in all_cases}


@pytest.fixture
def rollup_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the statements built from the rollups."""
    calls: list[int] = []
    original = stats_repository.rollup_rows

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(stats_repository, "rollup_rows", spy)
    return calls


def _stats(client: TestClient, params: dict[str, Any]) -> dict[str, Any]:
    response = client.get("/v1/stats/events", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def _frame(client: TestClient, case: Case) -> pd.DataFrame:
    if set(case.dims) & oracle.LIST_DIMENSIONS:
        return oracle.list_frame(client, case.filters, case.dims)
    return oracle.csv_frame(client, case.filters)


def _sort_key(dims: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The documented order: bucket, then each group by name (value), nulls last, then id."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        parts: list[Any] = [row.get("bucket", "")]
        for d in dims:
            if d in ("admin1", "place", "actor", "outlet"):
                name, ident = row[f"{d}_name"], row[f"{d}_id"]
                parts += [name is None, name or "", ident or 0]
            else:
                parts += [row[d] is None, row[d] or ""]
        return tuple(parts)

    return key


def check_cases(
    client: TestClient,
    raw_client: TestClient,
    rollup_calls: list[int],
    all_cases: list[Case],
) -> None:
    for case in all_cases:
        rollup_calls.clear()
        body = _stats(client, case.params)
        assert bool(rollup_calls) == case.rollup, case.name
        rollup_calls.clear()
        raw = _stats(raw_client, case.params)
        assert not rollup_calls
        assert body == raw, case.name

        assert body["interval"] == case.interval
        assert body["group_by"] == case.dims
        assert body["metrics"] == case.metrics
        rows = body["data"]
        assert rows == sorted(rows, key=_sort_key(case.dims)), case.name
        for row in rows:
            keys = (["bucket"] if case.interval else []) + [
                c
                for d in case.dims
                for c in (
                    [f"{d}_id", f"{d}_name"] if d in ("admin1", "place", "actor", "outlet") else [d]
                )
            ]
            assert list(row) == keys + case.metrics, case.name

        frame = _frame(client, case)
        assert len(frame), f"{case.name}: no event matches, the case proves nothing"
        want = oracle.expected(
            frame,
            interval=case.interval,
            dims=case.dims,
            metrics=case.metrics,
            date_from=date.fromisoformat(case.params["date_from"])
            if "date_from" in case.params
            else None,
            date_to=date.fromisoformat(case.params["date_to"])
            if "date_to" in case.params
            else None,
        )
        got = oracle.answered(rows, interval=case.interval, dims=case.dims, metrics=case.metrics)
        assert got == want, case.name
        if case.interval:
            assert rows, case.name
            # The range used is given back; without bounds, the data's first and last buckets.
            period = oracle.PERIODS[case.interval]
            first = pd.Timestamp(rows[0]["bucket"]).date().isoformat()
            last = pd.Timestamp(rows[-1]["bucket"]).to_period(period).end_time.date().isoformat()
            assert body["date_from"] == case.params.get("date_from", first), case.name
            assert body["date_to"] == case.params.get("date_to", last), case.name


def _etag(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def mutate_through_the_api(client: TestClient, engine: Engine, ds: Dataset) -> None:
    """A report (new events, new outlet, new evidence for an old event), edits, retractions
    a town moved to another province and a province reclassified, all through HTTP."""
    with read_session(engine) as session:
        active = list(
            session.scalars(select(Event.id).where(Event.status == "active").order_by(Event.id))
        )
    old = active[10]
    report = {
        "article": {
            "url": "https://late.example/report",
            "title": "Late report",
            "published_date": "2019-12-30",
            "outlet": {"name": "Late Wire", "kind": "agency"},
            "body": "Fighting resumed on Monday, a witness said.",
        },
        "quotes": [{"key": "q", "text": "Fighting resumed on Monday"}],
        "events": [
            {"id": old, "quotes": ["q"]},
            {
                "key": "a",
                "event_type": "Battles",
                "sub_event_type": "Armed clash",
                "date_start": "2019-12-30",
                "place": {"id": ds.towns[0]},
                "actors": [
                    {"actor": {"id": ds.actors[0]}, "side": "a"},
                    {"actor": {"id": ds.actors[3]}, "side": "b"},
                ],
                "fatalities": {"low": 3, "best": 4, "high": 9},
                "quotes": ["q"],
            },
            {
                "key": "b",
                "event_type": "Protests",
                "date_start": "2016-01-04",
                "place": {"id": ds.stray},
                "quotes": ["q"],
            },
            {
                "key": "c",
                "event_type": "Explosions/Remote violence",
                "sub_event_type": "Air/drone strike",
                "date_start": "2019-01-02",  # inside the gap: one week and day stop being empty
                "place": {"id": ds.admin1[4]},
                "actors": [{"actor": {"id": ds.actors[3]}}],
                "fatalities": {"best": 7},
                "quotes": ["q"],
            },
        ],
    }
    response = client.post("/v1/reports", json=report)
    assert response.status_code == 201, response.text

    edits = [
        (active[20], {"event_type": "Riots", "sub_event_type": "Mob violence"}),
        (active[21], {"date_start": "2016-02-29", "date_end": "2016-02-29"}),
        (active[22], {"fatalities_best": None, "fatalities_low": 100}),
        (active[23], {"place_id": ds.towns[-1]}),
        (active[24], {"place_id": None}),
    ]
    for event_id, patch in edits:
        path = f"/v1/events/{event_id}"
        response = client.patch(path, json=patch, headers={"If-Match": _etag(client, path)})
        assert response.status_code == 200, response.text
    # Two more records of one incident: count=incidents counts them once.
    linked = client.post("/v1/incidents", json={"events": [active[40], active[41]]})
    assert linked.status_code == 201, linked.text
    for event_id in active[30:33]:
        path = f"/v1/events/{event_id}"
        response = client.delete(
            path, params={"reason": "duplicate"}, headers={"If-Match": _etag(client, path)}
        )
        assert response.status_code == 200, response.text

    # A town (with its events) moves to a district of another province of its country.
    with read_session(engine) as session:
        town = session.execute(
            select(Event.place_id)
            .where(Event.place_id.in_(ds.towns[:6]), Event.status == "active")
            .limit(1)
        ).scalar_one()
    path = f"/v1/places/{town}"
    response = client.patch(
        path, json={"parent_id": ds.admin2[4]}, headers={"If-Match": _etag(client, path)}
    )
    assert response.status_code == 200, response.text

    # A province is reclassified as a region: its events have no admin1 any more.
    path = f"/v1/places/{ds.admin1[7]}"
    response = client.patch(
        path, json={"kind": "region"}, headers={"If-Match": _etag(client, path)}
    )
    assert response.status_code == 200, response.text


def test_stats_agree_with_pandas_over_the_exports_before_and_after_edits(
    engine: Engine,
    client: TestClient,
    raw_client: TestClient,
    dataset: Dataset,
    rollup_calls: list[int],
) -> None:
    check_cases(client, raw_client, rollup_calls, cases(dataset))
    since = datetime.now(UTC).isoformat()
    mutate_through_the_api(client, engine, dataset)
    check_cases(client, raw_client, rollup_calls, cases(dataset, updated_since=since))


def test_empty_buckets_are_present_and_labelled_by_their_first_day(
    client: TestClient, dataset: Dataset
) -> None:
    body = _stats(client, {"interval": "week", "date_from": "2018-12-20", "date_to": "2019-01-09"})
    # ISO weeks: Monday 17 December 2018 holds the 20th; 31 December 2018 opens week 1 of 2019.
    assert [r["bucket"] for r in body["data"]] == [
        "2018-12-17",
        "2018-12-24",
        "2018-12-31",
        "2019-01-07",
    ]
    gap = [r for r in body["data"] if r["bucket"] in ("2018-12-24", "2018-12-31")]
    assert gap == [
        {"bucket": b, "count": 0, "fatalities": 0, "fatalities_low": 0, "fatalities_high": 0}
        for b in ("2018-12-24", "2018-12-31")
    ]
    assert body["date_from"] == "2018-12-20" and body["date_to"] == "2019-01-09"

    # No matching event and a bound not given: no range, no rows.
    body = _stats(client, {"interval": "month", "date_from": "2030-01-01"})
    assert body["data"] == [] and body["date_from"] is None
    # Both bounds given: the buckets are there, empty.
    body = _stats(client, {"interval": "year", "date_from": "2030-01-01", "date_to": "2031-12-31"})
    assert [(r["bucket"], r["count"]) for r in body["data"]] == [
        ("2030-01-01", 0),
        ("2031-01-01", 0),
    ]
    # Zero-filling with groups: only groups that have events, each over every bucket.
    body = _stats(
        client,
        {
            "interval": "month",
            "group_by": "event_type",
            "date_from": "2016-01-01",
            "date_to": "2016-12-31",
        },
    )
    types = {r["event_type"] for r in body["data"]}
    assert len(body["data"]) == 12 * len(types)


def test_csv_has_the_json_rows(client: TestClient, dataset: Dataset) -> None:
    params = {"interval": "year", "group_by": "actor,event_type", "metrics": "count,fatalities"}
    rows = _stats(client, params)["data"]
    response = client.get("/v1/stats/events", params={**params, "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert list(table[0]) == [
        "bucket",
        "actor_id",
        "actor_name",
        "event_type",
        "count",
        "fatalities",
    ]
    assert table == [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]


def test_parameters_may_repeat_or_be_comma_separated(client: TestClient, dataset: Dataset) -> None:
    commas = _stats(client, {"group_by": "actor,outlet", "metrics": "count"})
    repeated = client.get("/v1/stats/events?group_by=actor&group_by=outlet&metrics=count").json()
    assert commas == repeated


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("group_by=colour", ["query", "group_by", 0]),
        ("group_by=actor,outlet,event_type", ["query", "group_by"]),
        ("metrics=deaths", ["query", "metrics", 0]),
        ("interval=fortnight", ["query", "interval"]),
        ("format=xlsx", ["query", "format"]),
        ("colour=red", ["query", "colour"]),
    ],
)
def test_bad_parameters_are_422(client: TestClient, query: str, loc: list[Any]) -> None:
    body = assert_problem(client.get(f"/v1/stats/events?{query}"), 422)
    assert loc in [e["loc"] for e in body["errors"]], body


def test_answers_beyond_the_row_limit_are_422(
    settings: Any, client: TestClient, dataset: Dataset
) -> None:
    # Time buckets alone, counted before any query: 40 years of days.
    body = assert_problem(
        client.get(
            "/v1/stats/events",
            params={"interval": "day", "date_from": "1990-01-01", "date_to": "2029-12-31"},
        ),
        422,
        type_suffix="too-many-rows",
    )
    assert "14,610 rows" in body["detail"] and body["limit"] == 10_000

    small = small_limit_client(settings, client, 40)
    try:
        # 48 months of data: over the limit without any group.
        assert_problem(
            small.get("/v1/stats/events?interval=month"), 422, type_suffix="too-many-rows"
        )
        # 4 years x 12 actors (and the null group) > 40.
        body = assert_problem(
            small.get("/v1/stats/events?interval=year&group_by=actor"),
            422,
            type_suffix="too-many-rows",
        )
        assert "more than" in body["detail"]
        # Groups alone: 12 actors x 7 outlets.
        assert_problem(small.get("/v1/stats/events?group_by=actor,outlet"), 422)
        # Within the limit: 4 years x 5 types.
        assert small.get("/v1/stats/events?interval=year&group_by=event_type").status_code == 200
        # Places for maps are bounded too (about 80 places have events).
        assert_problem(small.get("/v1/stats/places"), 422, type_suffix="too-many-rows")
        assert small.get("/v1/stats/places?level=country").status_code == 200
    finally:
        small.app.state.engine.dispose()  # type: ignore[attr-defined]


def _places(engine: Engine) -> dict[int, dict[str, Any]]:
    with read_session(engine) as session:
        return {
            r["id"]: dict(r)
            for r in session.execute(
                select(
                    Place.id, Place.name, Place.kind, Place.country, Place.latitude, Place.longitude
                )
            ).mappings()
        }


@pytest.mark.parametrize("level", ["place", "admin1", "country"])
def test_places_are_geojson_with_the_events_sums(
    engine: Engine, client: TestClient, dataset: Dataset, level: str
) -> None:
    params: dict[str, Any] = {"date_from": "2017-01-01"}
    if level != "place":
        params["level"] = level
    response = client.get("/v1/stats/places", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["level"] == level
    assert body["metrics"] == list(oracle.METRICS)
    places = _places(engine)
    located: dict[int, dict[str, int]] = {}
    for feature in body["features"]:
        assert set(feature) == {"type", "id", "geometry", "properties"}
        assert feature["type"] == "Feature"
        place = places[feature["id"]]
        # RFC 7946: a Point is [longitude, latitude].
        assert feature["geometry"] == {
            "type": "Point",
            "coordinates": [place["longitude"], place["latitude"]],
        }
        props = feature["properties"]
        assert props["place_id"] == feature["id"]
        assert (props["name"], props["kind"], props["country"]) == (
            place["name"],
            place["kind"],
            place["country"],
        )
        if level != "place":
            assert place["kind"] == level
        assert props["count"] > 0
        located[feature["id"]] = {m: props[m] for m in oracle.METRICS}
    assert list(located) == sorted(located)

    # pandas over the events list: each event at its place, or that place's ancestor.
    frame = oracle.list_frame(client, {"date_from": "2017-01-01"}, ())
    chains = _chains(engine)
    frame["at"] = pd.Series(
        [_at(chains, p, level) if not pd.isna(p) else None for p in frame["place_id"]],
        index=frame.index,
        dtype=object,
    )
    frame["count"] = 1
    for m in oracle.METRICS[1:]:
        frame[m] = frame[m].fillna(0).astype(int)
    drawn = frame["at"].map(lambda p: p is not None and places[p]["latitude"] is not None)
    want = {
        int(at): {m: int(v) for m, v in sums.items()}
        for at, sums in frame[drawn].groupby("at")[list(oracle.METRICS)].sum().iterrows()
    }
    assert located == want
    left = frame[~drawn]
    assert body["unlocated"] == {
        "places": int(left["at"].dropna().nunique()),
        **{m: int(left[m].sum()) for m in oracle.METRICS},
    }
    assert body["unlocated"]["count"] > 0
    if level == "admin1":
        assert body["unlocated"]["places"] == 1  # Yemen Province 3 has no coordinates
    # Nothing is lost: the map and the unlocated add up to the totals.
    totals = _stats(client, {"date_from": "2017-01-01"})["data"][0]
    for m in oracle.METRICS:
        assert sum(f["properties"][m] for f in body["features"]) + body["unlocated"][m] == totals[m]


def _chains(engine: Engine) -> dict[int, list[tuple[int, str]]]:
    """Each place's ancestors (itself first, outward) with their kinds."""
    with read_session(engine) as session:
        parents = {r.id: r.parent_id for r in session.execute(select(Place.id, Place.parent_id))}
        kinds = {r.id: r.kind for r in session.execute(select(Place.id, Place.kind))}
    out: dict[int, list[tuple[int, str]]] = {}
    for place_id in parents:
        chain, current = [], place_id
        while current is not None:
            chain.append((current, kinds[current]))
            current = parents[current]
        out[place_id] = chain
    return out


def _at(chains: dict[int, list[tuple[int, str]]], place_id: Any, level: str) -> int | None:
    if level == "place":
        return int(place_id)
    return next((p for p, kind in chains[int(place_id)] if kind == level), None)


def test_metrics_choose_the_columns(client: TestClient, dataset: Dataset) -> None:
    body = _stats(client, {"group_by": "country", "metrics": "fatalities_high,count"})
    assert body["metrics"] == ["fatalities_high", "count"]
    assert all(list(r) == ["country", "fatalities_high", "count"] for r in body["data"])
    places = client.get("/v1/stats/places?metrics=count").json()
    assert set(places["features"][0]["properties"]) == {
        "place_id",
        "name",
        "kind",
        "country",
        "count",
    }
    assert set(places["unlocated"]) == {"places", "count"}


def test_openapi_documents_the_stats(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for path in ("/v1/stats/events", "/v1/stats/places"):
        op = doc["paths"][path]["get"]
        assert {"422", "503"} <= set(op["responses"]), path
        for param in op["parameters"]:
            assert param["schema"].get("description"), (path, param["name"])
            assert param["schema"].get("examples"), (path, param["name"])
    events = doc["paths"]["/v1/stats/events"]["get"]
    names = {p["name"] for p in events["parameters"]}
    # Exactly the list's filters, plus the stats' own parameters.
    listed = {p["name"] for p in doc["paths"]["/v1/events"]["get"]["parameters"]}
    list_only = {"sort", "limit", "cursor", "total", "fields", "include", "format"}
    assert names == (listed - list_only) | {"interval", "group_by", "metrics", "format"}
    assert "counts once in each of their groups" in events["description"]
    assert "text/csv; charset=utf-8" in events["responses"]["200"]["content"]
    places = doc["paths"]["/v1/stats/places"]["get"]
    assert "application/geo+json" in places["responses"]["200"]["content"]


def test_buckets_reach_the_ends_of_the_calendar(client: TestClient) -> None:
    report = {
        "article": {"title": "Far dates", "outlet": {"name": "Wire", "kind": "agency"}},
        "quotes": [{"key": "t", "text": "Far dates", "in_title": True}],
        "events": [
            {
                "key": k,
                "event_type": "Protests",
                "date_start": d,
                "fatalities": {"best": 1},
                "quotes": ["t"],
            }
            for k, d in (("first", "0001-01-01"), ("last", "9999-12-31"))
        ],
    }
    assert client.post("/v1/reports", json=report).status_code == 201, "report refused"
    body = _stats(client, {"interval": "year"})
    assert (body["date_from"], body["date_to"]) == ("0001-01-01", "9999-12-31")
    assert len(body["data"]) == 9999
    assert body["data"][-1] == {
        "bucket": "9999-01-01",
        "count": 1,
        "fatalities": 1,
        "fatalities_low": 0,
        "fatalities_high": 0,
    }
    for interval, low, buckets in (
        ("month", "9999-11-15", ["9999-11-01", "9999-12-01"]),
        ("week", "9999-12-20", ["9999-12-20", "9999-12-27"]),
        ("day", "9999-12-30", ["9999-12-30", "9999-12-31"]),
    ):
        body = _stats(client, {"interval": interval, "date_from": low})
        assert [r["bucket"] for r in body["data"]] == buckets, interval
        assert body["date_to"] == "9999-12-31"
        assert body["data"][-1]["count"] == 1
