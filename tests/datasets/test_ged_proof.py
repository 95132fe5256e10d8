"""Issue 12's proof on the real GED sample (tests/data/ucdp-ged-sample-1000.csv), against
pandas over the file itself: the dataset's codes are countable as the file counts them, the
maps locate every event, one actor per group, and coarse dates spread as pandas spreads them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app.core.normalize import normalize_name
from app.db.session import read_session
from app.formats import countries
from app.models import Actor
from tests.conftest import seed
from tests.datasets.test_loader import import_ged
from tests.samples import GED_SAMPLE


@seed
def ged(engine: Engine) -> pd.DataFrame:
    """The sample imported (every row), and the file as pandas reads it."""
    frame = pd.read_csv(GED_SAMPLE, dtype=str, keep_default_na=False)
    summary = import_ged(engine, GED_SAMPLE.read_text(encoding="utf-8"))
    assert (summary.created, summary.rejected_count) == (len(frame), 0)
    for column in ("best", "low", "high", "deaths_a", "deaths_b", "deaths_civilians"):
        frame[column] = frame[column].astype(int)
    frame["date_start"] = pd.to_datetime(frame["date_start"])
    frame["date_end"] = pd.to_datetime(frame["date_end"])
    return frame


def _stats(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/stats/events", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


@pytest.mark.parametrize(
    ("scheme", "column"),
    [
        ("ucdp.type_of_violence", "type_of_violence"),
        ("ucdp.conflict", "conflict_new_id"),
        ("ucdp.dyad", "dyad_new_id"),
    ],
)
def test_yearly_figures_per_code_equal_pandas(
    client: TestClient, ged: pd.DataFrame, scheme: str, column: str
) -> None:
    ged["year"] = ged["date_start"].dt.year.map(lambda y: f"{y}-01-01")
    want = {
        (year, code): (int(n), int(best), int(low), int(high))
        for (year, code), n, best, low, high in ged.groupby(["year", column])
        .agg(n=("id", "size"), best=("best", "sum"), low=("low", "sum"), high=("high", "sum"))
        .itertuples()
    }
    rows = _stats(client, interval="year", group_by=scheme)
    got = {
        (r["bucket"], r[scheme]): (
            r["count"],
            r["fatalities"],
            r["fatalities_low"],
            r["fatalities_high"],
        )
        for r in rows
        if r["count"]
    }
    assert got == want
    # The names the file gives conflicts and dyads come with them.
    if scheme != "ucdp.type_of_violence":
        names = dict(zip(ged[column], ged[column.replace("_new_id", "_name")], strict=True))
        assert {r[scheme]: r[f"{scheme}_label"] for r in rows} == names


def test_type_of_violence_tells_state_based_from_non_state(
    client: TestClient, ged: pd.DataFrame
) -> None:
    """Both become Battles / Armed clash; the code keeps them apart, as a filter too."""
    for code in ("1", "2"):
        response = client.get(
            "/v1/events",
            params={"dimension": f"ucdp.type_of_violence:{code}", "total": "true", "limit": 1},
        )
        assert response.status_code == 200, response.text
        assert response.json()["total"] == int((ged["type_of_violence"] == code).sum())
    deaths = _stats(
        client,
        group_by="ucdp.type_of_violence",
        metrics="deaths_a,deaths_b,deaths_civilians",
    )
    want = ged.groupby("type_of_violence")[["deaths_a", "deaths_b", "deaths_civilians"]].sum()
    assert {
        r["ucdp.type_of_violence"]: [r["deaths_a"], r["deaths_b"], r["deaths_civilians"]]
        for r in deaths
    } == {code: [int(v) for v in values] for code, *values in want.itertuples()}


@pytest.mark.parametrize("level", ["country", "admin1"])
def test_maps_locate_every_event(client: TestClient, ged: pd.DataFrame, level: str) -> None:
    response = client.get("/v1/stats/places", params={"level": level})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["unlocated"]["count"] == 0 and body["unlocated"]["place_list"] == []
    assert sum(f["properties"]["count"] for f in body["features"]) == len(ged)
    if level == "country":
        assert {f["properties"]["country"] for f in body["features"]} == {
            countries.alpha2_from_name(c) for c in ged["country"]
        }


def test_no_two_actors_share_a_name_and_country(engine: Engine, ged: pd.DataFrame) -> None:
    with read_session(engine) as session:
        actors = session.execute(select(Actor.name, Actor.country)).all()
        assert session.execute(select(func.count()).select_from(Actor)).scalar_one() == len(actors)
    keys = [(normalize_name(name), country) for name, country in actors]
    duplicated = {k for k in keys if keys.count(k) > 1}
    assert not duplicated
    # GED's non-state groups have the country they fight in, a government its own.
    assert all(country is not None for _, country in actors)


def _actor_names(ged: pd.DataFrame) -> pd.DataFrame:
    """One row per event and the actors GED names in it: each side (a joint side as itself
    and as each of its groups), GED's civilians as the country's."""
    rows = []
    for event in ged.itertuples():
        names: set[str] = set()
        for side in (event.side_a, event.side_b):
            if side == "Civilians":
                code = countries.alpha2_from_name(event.country)
                assert code is not None
                names.add(f"Civilians ({countries.display_name(code)})")
                continue
            names.add(side.strip())
            if "," in side:
                names.update(part.strip() for part in side.split(",") if part.strip())
        rows += [{"id": event.id, "name": name} for name in names]
    return pd.DataFrame(rows)


def test_top_actors_by_events_equal_pandas(client: TestClient, ged: pd.DataFrame) -> None:
    split = _actor_names(ged)
    counts = split.groupby("name").size().reset_index(name="count")
    counts = counts.sort_values(["count", "name"], ascending=[False, True])
    rows = _stats(client, group_by="actor", metrics="count", sort="-count", limit=10)
    # The two "UCK"s (Kosovo's and Macedonia's) are different groups with one name: pandas
    # on names cannot tell them apart, so the comparison is on names and their counts.
    got = [(r["actor_name"], r["count"]) for r in rows]
    assert got == [(r.name, int(r.count)) for r in counts.head(10).itertuples()]


def test_spread_monthly_sums_equal_pandas(client: TestClient, ged: pd.DataFrame) -> None:
    coarse = ged[ged["date_end"] > ged["date_start"]]
    assert len(coarse) > 50 and (ged["date_prec"] == "5").sum() > 0
    parts = []
    for event in ged.itertuples():
        days = pd.date_range(event.date_start, event.date_end, freq="D")
        parts.append(
            pd.DataFrame(
                {
                    "month": days.to_period("M").start_time,
                    "count": 1 / len(days),
                    "best": event.best / len(days),
                }
            )
        )
    want = pd.concat(parts).groupby("month")[["count", "best"]].sum()
    rows = _stats(client, interval="month", spread="true", metrics="count,fatalities")
    got = {r["bucket"]: (r["count"], r["fatalities"]) for r in rows if r["count"]}
    assert set(got) == {m.date().isoformat() for m in want.index}
    for month, count, best in want.itertuples():
        assert got[month.date().isoformat()] == (
            pytest.approx(count, abs=1e-4),
            pytest.approx(best, abs=1e-4),
        )
    # Year-precision rows no longer land whole in January.
    january = [r for r in rows if r["bucket"].endswith("-01-01")]
    plain = {r["bucket"]: r["count"] for r in _stats(client, interval="month", metrics="count")}
    assert any(r["count"] < plain[r["bucket"]] for r in january)


def test_open_schemes_learn_the_files_codes_with_their_names(
    client: TestClient, ged: pd.DataFrame
) -> None:
    schemes = {s["name"]: s for s in client.get("/v1/vocabulary").json()["dimensions"]}
    conflicts = {c["code"]: c["label"] for c in schemes["ucdp.conflict"]["codes"]}
    assert conflicts == dict(zip(ged["conflict_new_id"], ged["conflict_name"], strict=True))


def test_actors_show_their_ucdp_ids_and_where_they_came_from(
    client: TestClient, ged: pd.DataFrame
) -> None:
    row = ged[ged["side_a"] == "Government of Syria"].iloc[0]
    found = client.get("/v1/actors", params={"name": "Government of Syria"}).json()["data"]
    (actor,) = [a for a in found if a["name"] == "Government of Syria"]
    detail = client.get(f"/v1/actors/{actor['id']}").json()
    assert {"dataset": "ucdp-ged", "external_id": row["side_a_new_id"]} in detail["external_ids"]
    assert detail["datasets"] == ["ucdp-ged"]
    assert detail["country"] == "SY"
