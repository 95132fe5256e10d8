"""GET /v1/stats/events and /v1/stats/places on both databases, checked against pandas over
what the events list exports for the same filters (its CSV, or its JSON with actors and
sources: see tests/stats/oracle.py), right after a bulk load through the writer and again
after a report, edits, retractions and a place move through the API; every case answered
both from the rollups (where they can) and from the events, which must agree."""

from __future__ import annotations

import csv
import io
import math
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

STATS_ONLY = ("interval", "group_by", "metrics", "format", "sort", "limit", "spread")


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


def cases(ds: Dataset, *, updated_since: str | None = None, as_of: str | None = None) -> list[Case]:
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
        # -- issue 12
        Case("year by date precision", {"interval": "year", "group_by": "date_precision"}),
        Case(
            "month by date precision, coarse ones only",
            {
                "interval": "month",
                "group_by": "date_precision",
                "date_precision": ["month", "year"],
            },
        ),
        Case("interaction totals", {"group_by": "interaction"}),
        Case(
            "year by interaction, three of them",
            {"interval": "year", "group_by": "interaction", "interaction": ["10", "12", "17"]},
        ),
        Case(
            "actor kinds by year, state forces or rebels on side a",
            {
                "interval": "year",
                "group_by": "actor_kind",
                "actor_kind": ["state_forces", "rebel_group"],
                "side": "a",
            },
        ),
        Case(
            "type of violence in one conflict, with fatalities by whom",
            {
                "group_by": "ucdp.type_of_violence",
                "dimension": ["ucdp.conflict:299"],
                "metrics": "count,fatalities,deaths_a,deaths_b,deaths_civilians,deaths_unknown",
            },
        ),
        Case(
            "conflicts by year, two types of violence",
            {
                "interval": "year",
                "group_by": "ucdp.conflict",
                "dimension": ["ucdp.type_of_violence:1", "ucdp.type_of_violence:3"],
            },
        ),
        Case(
            "tags by year (multi-valued), with a tag",
            {
                "interval": "year",
                "group_by": "acled.tags",
                "dimension": ["acled.tags:local administrators"],
            },
        ),
        Case(
            "month of the events overlapping a range (the earlier starts in its first month)",
            {
                "interval": "month",
                "date_from": "2018-03-10",
                "date_to": "2018-06-20",
                "date_overlap": "true",
            },
        ),
        Case(
            "event types of fifty events by id",
            {"group_by": "event_type", "id": [str(i) for i in ds.events[10:60]]},
        ),
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
    if as_of is not None:  # issue 12: the current version, read from the history
        out.append(
            Case(
                "year by country as of a version",
                {"interval": "year", "group_by": "country", "as_of": as_of},
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
    all_cases = cases(dummy, updated_since="2020-01-01T00:00:00+00:00", as_of="1")
    given = {name for case in all_cases for name in case.params}
    assert set(EventFilter.model_fields) <= given, set(EventFilter.model_fields) - given
    dims = {d for case in all_cases for d in case.dims}
    assert set(typing.get_args(Dimension)) <= dims
    assert {d for d in dims if "." in d}, "a dataset's scheme as a dimension"
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
        frame = oracle.list_frame(client, case.filters, case.dims)
    else:
        frame = oracle.csv_frame(client, case.filters, case.dims)
    if case.params.get("date_overlap") == "true" and "date_from" in case.params:
        # An event starting before the range counts in its first bucket.
        frame["date"] = frame["date"].clip(lower=pd.Timestamp(case.params["date_from"]))
    return frame


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
            keys = (["bucket"] if case.interval else []) + stats_repository.group_columns(case.dims)
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
    version = client.get("/v1/events?limit=1").headers["Data-Version"]
    check_cases(
        client, raw_client, rollup_calls, cases(dataset, updated_since=since, as_of=version)
    )


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
        "actor_kind",
        "actor_country",
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
    chains = _chains(engine)
    points = _points(places, chains)
    located: dict[int, dict[str, int]] = {}
    for feature in body["features"]:
        assert set(feature) == {"type", "id", "geometry", "properties"}
        assert feature["type"] == "Feature"
        place = places[feature["id"]]
        # RFC 7946: a Point is [longitude, latitude]; the place's own point, its centroid or
        # its nearest located ancestor's (issue 12), as computed here.
        lat, lon, source = points[feature["id"]]
        assert feature["geometry"]["type"] == "Point"
        assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-9)
        props = feature["properties"]
        assert props["point"] == source
        assert props["place_id"] == feature["id"]
        assert (props["name"], props["kind"], props["country"]) == (
            place["name"],
            place["kind"],
            place["country"],
        )
        if level != "place":
            # Above the level: the event's outermost place, and said so.
            assert place["kind"] == level or props["above_level"] == f"{place['kind']}-level"
        assert props["count"] > 0
        located[feature["id"]] = {m: props[m] for m in oracle.METRICS}
    assert list(located) == sorted(located)

    # pandas over the events list: each event at its place, that place's ancestor on the
    # level, or else its outermost ancestor.
    frame = oracle.list_frame(client, {"date_from": "2017-01-01"}, ())
    frame["at"] = pd.Series(
        [_at(chains, p, level) if not pd.isna(p) else None for p in frame["place_id"]],
        index=frame.index,
        dtype=object,
    )
    frame["count"] = 1
    for m in oracle.METRICS[1:]:
        frame[m] = frame[m].fillna(0).astype(int)
    drawn = frame["at"].map(lambda p: p is not None and points[p][2] is not None)
    want = {
        int(at): {m: int(v) for m, v in sums.items()}
        for at, sums in frame[drawn].groupby("at")[list(oracle.METRICS)].sum().iterrows()
    }
    assert located == want
    left = frame[~drawn]
    unlocated = dict(body["unlocated"])
    listed = unlocated.pop("place_list")
    assert unlocated == {
        "places": int(left["at"].dropna().nunique()),
        **{m: int(left[m].sum()) for m in oracle.METRICS},
    }
    assert sorted(p["id"] for p in listed) == sorted(int(p) for p in left["at"].dropna().unique())
    # Every event with a place is drawn: the places without coordinates of their own take
    # their centroid or an ancestor's point; only the events without a place are left.
    assert unlocated["places"] == 0 and unlocated["count"] == int(frame["place_id"].isna().sum())
    # Nothing is lost: the map and the unlocated add up to the totals.
    totals = _stats(client, {"date_from": "2017-01-01"})["data"][0]
    for m in oracle.METRICS:
        assert sum(f["properties"][m] for f in body["features"]) + unlocated[m] == totals[m]


def _points(
    places: dict[int, dict[str, Any]], chains: dict[int, list[tuple[int, str]]]
) -> dict[int, tuple[float | None, float | None, str | None]]:
    """Each place's point by the documented rule, computed here: its own coordinates, else
    the spherical mean of the located places inside it, else the nearest ancestor's."""
    inside: dict[int, list[int]] = {p: [] for p in places}
    for place_id, chain in chains.items():
        for ancestor, _ in chain[1:]:
            inside[ancestor].append(place_id)

    def own_or_centroid(place_id: int) -> tuple[float, float] | None:
        place = places[place_id]
        if place["latitude"] is not None:
            return place["latitude"], place["longitude"]
        vectors = [
            (
                math.cos(math.radians(places[p]["latitude"]))
                * math.cos(math.radians(places[p]["longitude"])),
                math.cos(math.radians(places[p]["latitude"]))
                * math.sin(math.radians(places[p]["longitude"])),
                math.sin(math.radians(places[p]["latitude"])),
            )
            for p in inside[place_id]
            if places[p]["latitude"] is not None
        ]
        if not vectors:
            return None
        x, y, z = (sum(v[i] for v in vectors) for i in range(3))
        return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))

    out: dict[int, tuple[float | None, float | None, str | None]] = {}
    for place_id, chain in chains.items():
        out[place_id] = (None, None, None)
        for depth, (ancestor, _) in enumerate(chain):
            point = own_or_centroid(ancestor)
            if point is not None:
                source = (
                    "ancestor"
                    if depth
                    else ("own" if places[ancestor]["latitude"] is not None else "centroid")
                )
                out[place_id] = (*point, source)
                break
    return out


@pytest.mark.parametrize(
    "params, rollup",
    [
        ({"level": "admin1"}, True),
        ({"level": "admin1", "event_type": "Battles", "date_from": "2017-01-01"}, True),
        ({"level": "admin1", "country": "SY", "date_to": "2018-12-31"}, True),
        ({"level": "admin1", "date_from": "2017-01-02"}, False),  # not a whole month
        ({"level": "admin1", "fatalities_min": 1}, False),  # not in the rollups
        ({"level": "country"}, False),
        ({"level": "place", "event_type": "Battles"}, False),
    ],
)
def test_the_map_of_divisions_reads_the_rollups_and_agrees_with_the_events(
    client: TestClient,
    raw_client: TestClient,
    dataset: Dataset,
    rollup_calls: list[int],
    params: dict[str, Any],
    rollup: bool,
) -> None:
    rollup_calls.clear()
    answer = client.get("/v1/stats/places", params=params)
    assert answer.status_code == 200, answer.text
    assert bool(rollup_calls) == rollup
    rollup_calls.clear()
    from_events = raw_client.get("/v1/stats/places", params=params)
    assert not rollup_calls
    assert answer.json() == from_events.json()
    assert answer.json()["features"]


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
    chain = chains[int(place_id)]
    return next((p for p, kind in chain if kind == level), chain[-1][0])


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
        "point",
        "count",
    }
    assert set(places["unlocated"]) == {"places", "count", "place_list"}


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
    assert names == (listed - list_only) | {
        "interval",
        "group_by",
        "metrics",
        "format",
        "sort",
        "limit",
        "spread",
    }
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


# -- issue 12: top N, spread, CSV by Accept, refusals -------------------------------------------


def test_top_n_of_actors_is_pandas_top_n(client: TestClient, dataset: Dataset) -> None:
    """sort and limit: the N groups first in the order, ties by name then id; with an
    interval, within each bucket."""
    frame = oracle.list_frame(client, {}, ["actor"]).dropna(subset=["actor_id"])
    frame["count"] = 1
    frame["fatalities"] = frame["fatalities"].fillna(0).astype(int)
    totals = frame.groupby(["actor_id", "actor_name"])[["count", "fatalities"]].sum().reset_index()
    totals = totals.sort_values(
        ["fatalities", "actor_name", "actor_id"], ascending=[False, True, True]
    )
    body = _stats(
        client,
        {"group_by": "actor", "metrics": "count,fatalities", "sort": "-fatalities", "limit": 3},
    )
    assert [(r["actor_id"], r["fatalities"], r["count"]) for r in body["data"]] == [
        (int(r.actor_id), int(r.fatalities), int(r.count)) for r in totals.head(3).itertuples()
    ]
    # Per bucket: the top 2 of each year.
    frame["bucket"] = frame["date"].dt.year
    yearly = frame.groupby(["bucket", "actor_id", "actor_name"])["count"].sum().reset_index()
    yearly = yearly.sort_values(
        ["bucket", "count", "actor_name", "actor_id"], ascending=[True, False, True, True]
    )
    want = [
        (f"{int(r.bucket)}-01-01", int(r.actor_id), int(r.count))
        for r in yearly.groupby("bucket").head(2).itertuples()
    ]
    body = _stats(
        client,
        {"interval": "year", "group_by": "actor", "metrics": "count", "sort": "-count", "limit": 2},
    )
    assert [(r["bucket"], r["actor_id"], r["count"]) for r in body["data"] if r["actor_id"]] == [
        w for w in want
    ]
    # Ascending by name: a dimension sorts too.
    body = _stats(client, {"group_by": "actor", "metrics": "count", "sort": "actor", "limit": 2})
    names = sorted(totals["actor_name"])
    assert [r["actor_name"] for r in body["data"]] == names[:2]


def test_spread_shares_events_out_over_their_days(client: TestClient, dataset: Dataset) -> None:
    """spread=true: monthly sums equal pandas' day-weighted spreading of each event."""
    frame = oracle.csv_frame(client, {})
    assert (frame["date_end"] > frame["date"]).sum() > 20, "coarse dates to spread"
    frame["fatalities"] = frame["fatalities"].fillna(0)
    parts = []
    for event in frame.itertuples():
        days = pd.date_range(event.date, event.date_end, freq="D")
        parts.append(
            pd.DataFrame(
                {
                    "month": days.to_period("M").start_time,
                    "count": 1 / len(days),
                    "fatalities": event.fatalities / len(days),
                }
            )
        )
    spread = pd.concat(parts).groupby("month")[["count", "fatalities"]].sum()
    body = _stats(client, {"interval": "month", "spread": "true", "metrics": "count,fatalities"})
    got = {r["bucket"]: (r["count"], r["fatalities"]) for r in body["data"]}
    want = {m.date().isoformat(): (c, f) for m, c, f in spread.itertuples()}
    assert set(got) == set(want)
    for month, (count, fatalities) in want.items():
        assert got[month] == (pytest.approx(count, abs=1e-5), pytest.approx(fatalities, abs=1e-5))
    assert any(not float(c).is_integer() for c, _ in got.values()), "decimals"
    # Without spread, integers: a year-precision event lands whole in its first month.
    plain = _stats(client, {"interval": "month", "metrics": "count"})
    assert all(isinstance(r["count"], int) for r in plain["data"])
    assert sum(r["count"] for r in plain["data"]) == pytest.approx(sum(c for c, _ in got.values()))


def test_stats_answer_csv_to_accept(client: TestClient, dataset: Dataset) -> None:
    params = {"group_by": "country", "metrics": "count"}
    rows = _stats(client, params)["data"]
    response = client.get("/v1/stats/events", params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "Accept" in response.headers["vary"]
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert table == [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    places = client.get(
        "/v1/stats/places", params={"level": "country"}, headers={"Accept": "text/csv"}
    )
    assert places.status_code == 200 and places.headers["content-type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(places.text)))
    assert header[:7] == ["place_id", "name", "kind", "country", "latitude", "longitude", "point"]
    # GeoJSON is JSON: a client asking for application/json (the explorer's fetch) gets it.
    as_json = client.get(
        "/v1/stats/places", params={"level": "country"}, headers={"Accept": "application/json"}
    )
    assert as_json.status_code == 200
    assert as_json.headers["content-type"] == "application/geo+json"
    refused = client.get("/v1/stats/events", headers={"Accept": "image/png"})
    assert refused.status_code == 406


@pytest.mark.parametrize(
    ("query", "loc", "says"),
    [
        ("group_by=ucdp.nothing", ["query", "group_by"], "ucdp.type_of_violence"),
        ("dimension=ucdp.nothing:1", ["query", "dimension"], "ucdp.conflict"),
        ("dimension=ucdp.type_of_violence:9", ["query", "dimension"], "one of 1, 2, 3"),
        ("dimension=type_of_violence", ["query", "dimension"], "scheme:code"),
        ("interaction=99", ["query", "interaction", 0], "interaction"),
        ("date_precision=decade", ["query", "date_precision", 0], "day"),
        ("spread=true", ["query"], "interval"),
        ("sort=-nothing&group_by=actor", ["query"], "count"),
    ],
)
def test_unknown_schemes_and_codes_are_422(
    client: TestClient, dataset: Dataset, query: str, loc: list[Any], says: str
) -> None:
    response = client.get(f"/v1/stats/events?{query}")
    body = assert_problem(response, 422, type_suffix="validation-error")
    assert any(e["loc"][: len(loc)] == loc and says in e["msg"] for e in body["errors"]), body


def test_datasets_are_named_with_their_licence(
    client: TestClient, dataset: Dataset, engine: Engine
) -> None:
    from app import writer
    from app.writer.transaction import write_session

    assert _stats(client, {})["datasets"] == []
    with write_session(engine) as session:
        dataset_id = writer.create_dataset(session, "ucdp-ged", "CC BY 4.0", "Sundberg 2013", None)
        writer.import_events(
            session,
            [
                writer.NewEvent(
                    event_type="Battles",
                    date_start=date(2019, 5, 1),
                    date_end=date(2019, 5, 1),
                    date_precision="day",
                )
            ],
            [
                writer.NewProvenance(
                    dataset_id=dataset_id,
                    external_id="1",
                    dataset_version="23.1",
                    content_sha256="0" * 64,
                    original={"row": {}, "flags": []},
                )
            ],
            api_key_id=None,
        )
    terms = [{"name": "ucdp-ged", "licence": "CC BY 4.0", "citation": "Sundberg 2013", "url": None}]
    assert _stats(client, {})["datasets"] == terms
    assert client.get("/v1/stats/places").json()["datasets"] == terms
    assert _stats(client, {"date_to": "2018-12-31"})["datasets"] == []
