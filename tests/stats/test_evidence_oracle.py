"""sources_min, outlets_min, disputed and count=incidents against a pandas oracle, after random
writes, attaches, curator edits, retractions, place merges, links and unlinks through HTTP.

The test keeps its own model of what it wrote (each event's articles and outlets, each
outlet's fatality claims in the order and with the dates it gave them, the curator's figures,
the incidents as the linking rule makes them) and computes, with pandas, what the lists, the
CSV export and the stats must answer under the documented rules: the headline is the
curator's figure while one stands, else the lower median of each outlet's latest claim;
disputed is a spread of the outlets' latest figures beyond 25% of the largest; an incident
counts once, as its earliest-reported active record (then the lowest id).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem, error_locs

SYRIA = {"name": "Syria", "kind": "country", "country": "SY"}
PROVINCES = ["Homs", "Idlib", "Daraa"]
TYPES = ["Battles", "Explosions/Remote violence", "Violence against civilians"]
OUTLETS = [f"Wire {n}" for n in range(5)]
THRESHOLD = 0.25  # CONFLICTDB_DISPUTE_THRESHOLD's default


@dataclass
class Ev:
    id: int
    event_type: str
    province: str
    date_start: date
    status: str = "active"
    articles: dict[int, tuple[str, date]] = field(default_factory=dict)  # id -> outlet, date
    quotes: int = 0
    # (outlet, article date, order recorded, value) of each fatalities_best claim
    claims: list[tuple[str, date, int, int]] = field(default_factory=list)
    curator: int | None = None
    incident: int | None = None


@dataclass
class Model:
    events: dict[int, Ev] = field(default_factory=dict)
    provinces: dict[str, int] = field(default_factory=dict)  # name -> place id
    merged: dict[str, str] = field(default_factory=dict)  # province -> survivor
    seq: int = 0
    article: int = 0

    def province(self, name: str) -> str:
        while name in self.merged:
            name = self.merged[name]
        return name

    def headline(self, ev: Ev) -> tuple[int | None, bool]:
        latest: dict[str, tuple[date, int, int]] = {}
        for outlet, day, order, value in ev.claims:
            if outlet not in latest or (day, order) > latest[outlet][:2]:
                latest[outlet] = (day, order, value)
        values = sorted(v for _, _, v in latest.values())
        disputed = len(values) >= 2 and values[-1] > 0
        disputed = disputed and (values[-1] - values[0]) / values[-1] > THRESHOLD
        if ev.curator is not None:
            return ev.curator, disputed
        return (values[(len(values) - 1) // 2] if values else None), disputed

    def frame(self) -> pd.DataFrame:
        rows = []
        for ev in self.events.values():
            best, disputed = self.headline(ev)
            rows.append(
                {
                    "id": ev.id,
                    "event_type": ev.event_type,
                    "admin1_name": self.province(ev.province),
                    "date": pd.Timestamp(ev.date_start),
                    "status": ev.status,
                    "sources": len(ev.articles),
                    "outlets": len({o for o, _ in ev.articles.values()}),
                    "quotes": ev.quotes,
                    "first": min(d for _, d in ev.articles.values()),
                    "fatalities": best,
                    "disputed": disputed,
                    "incident": ev.incident,
                }
            )
        df = pd.DataFrame(rows)
        # The lead of each incident: active first, then earliest first report, then lowest id.
        linked = df[df["incident"].notna()].copy()
        linked["retracted"] = linked["status"] != "active"
        leads = set(
            linked.sort_values(["retracted", "first", "id"]).groupby("incident")["id"].first()
        )
        df["counts_as_incident"] = df["incident"].isna() | df["id"].isin(leads)
        return df


def _report(
    model: Model, rng: random.Random, outlet: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    model.article += 1
    day = date(2020, 1, 1) + timedelta(days=rng.randrange(60))
    sentence = f"Witnesses quoted in report {model.article} described the attack."
    for ev in events:
        ev["quotes"] = ["q"]
    return {
        "article": {
            "url": f"https://wire.example/{model.article}",
            "title": f"Report {model.article}",
            "published_date": day.isoformat(),
            "outlet": {"name": outlet, "kind": "agency"},
            "body": sentence,
        },
        "quotes": [{"key": "q", "text": sentence}],
        "events": events,
    }


def _etag(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def _post_report(client: TestClient, model: Model, report: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/reports", json=report)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _new_event(client: TestClient, model: Model, rng: random.Random) -> None:
    outlet = rng.choice(OUTLETS)
    province = rng.choice(PROVINCES)
    event_type = rng.choice(TYPES)
    start = date(2020, 1, 1) + timedelta(days=rng.randrange(90))
    best = rng.choice([None, 0, 4, 5, 10, 20])
    ev: dict[str, Any] = {
        "key": "e",
        "event_type": event_type,
        "date_start": start.isoformat(),
        "place": {"name": province, "kind": "admin1", "parent": SYRIA},
    }
    if best is not None:
        ev["fatalities"] = {"best": best}
    report = _report(model, rng, outlet, [ev])
    answer = _post_report(client, model, report)
    event_id = answer["events"]["e"]
    article_id = answer["article"]["id"]
    day = date.fromisoformat(report["article"]["published_date"])
    new = Ev(event_id, event_type, province, start)
    new.articles[article_id] = (outlet, day)
    new.quotes = 1
    model.seq += 1
    if best is not None:
        new.claims.append((outlet, day, model.seq, best))
    model.events[event_id] = new


def _attach(client: TestClient, model: Model, rng: random.Random) -> None:
    active = [e for e in model.events.values() if e.status == "active"]
    targets = rng.sample(active, min(len(active), rng.choice([1, 2])))
    outlet = rng.choice(OUTLETS)
    refs: list[dict[str, Any]] = []
    given: dict[int, int | None] = {}
    for ev in targets:
        best = rng.choice([None, 3, 5, 6, 12, 40])
        ref: dict[str, Any] = {"id": ev.id}
        if best is not None:
            ref["fatalities"] = {"best": best}
        given[ev.id] = best
        refs.append(ref)
    report = _report(model, rng, outlet, refs)
    answer = _post_report(client, model, report)
    day = date.fromisoformat(report["article"]["published_date"])
    for ev in targets:
        ev.articles[answer["article"]["id"]] = (outlet, day)
        ev.quotes += 1
        model.seq += 1
        value = given[ev.id]
        if value is not None:
            ev.claims.append((outlet, day, model.seq, value))


def _curate(client: TestClient, model: Model, rng: random.Random) -> None:
    ev = rng.choice([e for e in model.events.values() if e.status == "active"])
    value = rng.choice([1, 7, 30])
    path = f"/v1/events/{ev.id}"
    response = client.patch(
        path, json={"fatalities_best": value}, headers={"If-Match": _etag(client, path)}
    )
    assert response.status_code == 200, response.text
    ev.curator = value


def _retract(client: TestClient, model: Model, rng: random.Random) -> None:
    ev = rng.choice([e for e in model.events.values() if e.status == "active"])
    path = f"/v1/events/{ev.id}"
    response = client.delete(
        path, params={"reason": "duplicate"}, headers={"If-Match": _etag(client, path)}
    )
    assert response.status_code == 200, response.text
    ev.status = "retracted"


def _link(client: TestClient, model: Model, rng: random.Random) -> None:
    active = [e for e in model.events.values() if e.status == "active"]
    group = rng.sample(active, min(len(active), rng.choice([2, 2, 3])))
    response = client.post("/v1/incidents", json={"events": [e.id for e in group]})
    existing = sorted({e.incident for e in group if e.incident is not None})
    if len(existing) == 1 and all(e.incident is not None for e in group):
        assert response.status_code == 422, response.text  # linked as one already
        return
    assert response.status_code == (200 if existing else 201), response.text
    target = response.json()["id"]
    if existing:
        assert target == existing[0]  # the oldest incident survives
    for ev in model.events.values():
        if ev in group or (ev.incident is not None and ev.incident in existing):
            ev.incident = target


def _unlink(client: TestClient, model: Model, rng: random.Random) -> None:
    linked = [e for e in model.events.values() if e.incident is not None]
    if not linked:
        return
    ev = rng.choice(linked)
    incident = ev.incident
    response = client.delete(f"/v1/incidents/{incident}/events/{ev.id}")
    assert response.status_code == 200, response.text
    members = [e for e in model.events.values() if e.incident == incident]
    for member in members if len(members) <= 2 else [ev]:
        member.incident = None


def _merge_provinces(client: TestClient, model: Model) -> None:
    """Daraa merges into Homs: its events are counted in Homs from now on."""
    for ev in model.events.values():
        if ev.province not in model.provinces:
            detail = client.get(f"/v1/events/{ev.id}").json()
            model.provinces[ev.province] = detail["place"]["id"]
    response = client.post(
        f"/v1/places/{model.provinces['Daraa']}/merge", json={"into": model.provinces["Homs"]}
    )
    assert response.status_code == 200, response.text
    model.merged["Daraa"] = "Homs"


def _list_ids(client: TestClient, params: dict[str, Any]) -> list[int]:
    ids: list[int] = []
    query: dict[str, Any] = {**params, "limit": 7, "sort": "id"}
    while True:
        response = client.get("/v1/events", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [e["id"] for e in page["data"]]
        if page["next_cursor"] is None:
            return ids
        query["cursor"] = page["next_cursor"]


def _csv_ids(client: TestClient, params: dict[str, Any]) -> list[int]:
    response = client.get("/v1/events", params={**params, "format": "csv", "sort": "id"})
    assert response.status_code == 200, response.text
    frame = pd.read_csv(io.StringIO(response.text), dtype=str, keep_default_na=False)
    return [int(i) for i in frame["id"]]


FILTERS: list[dict[str, Any]] = [
    {},
    {"sources_min": 0},
    {"sources_min": 2},
    {"sources_min": 3},
    {"outlets_min": 2},
    {"outlets_min": 3, "sources_min": 3},
    {"disputed": "true"},
    {"disputed": "false"},
    {"disputed": "true", "outlets_min": 2},
    {"include_retracted": "true", "sources_min": 2},
]


def _select(df: pd.DataFrame, params: dict[str, Any], count: str) -> pd.DataFrame:
    keep = pd.Series(True, index=df.index)
    if params.get("include_retracted") != "true":
        keep &= df["status"] == "active"
    keep &= df["sources"] >= params.get("sources_min", 0)
    keep &= df["outlets"] >= params.get("outlets_min", 0)
    if "disputed" in params:
        keep &= df["disputed"] == (params["disputed"] == "true")
    if count == "incidents":
        keep &= df["counts_as_incident"]
    return df[keep]


def _check(client: TestClient, model: Model) -> None:
    df = model.frame()
    # The detail shows what the model holds, event by event.
    for ev in model.events.values():
        got = client.get(f"/v1/events/{ev.id}").json()
        row = df[df["id"] == ev.id].iloc[0]
        assert (got["source_count"], got["outlet_count"], got["quote_count"]) == (
            row["sources"],
            row["outlets"],
            row["quotes"],
        ), ev.id
        assert got["first_reported_date"] == row["first"].isoformat(), ev.id
        assert (got["fatalities_best"], got["disputed"]) == model.headline(ev), ev.id
        assert got["evidence"] == "quotes"
        assert (got["incident"] or {}).get("id") == ev.incident, ev.id
    for params in FILTERS:
        for count in ("events", "incidents"):
            query = {**params, "count": count}
            want = sorted(_select(df, params, count)["id"])
            assert _list_ids(client, query) == want, query
            assert _csv_ids(client, query) == want, query
            _check_stats(client, df, params, count)


def _check_stats(client: TestClient, df: pd.DataFrame, params: dict[str, Any], count: str) -> None:
    if params.get("include_retracted"):
        return  # the stats count active events only
    chosen = _select(df, params, count).copy()
    chosen["count"] = 1
    chosen["fatalities"] = chosen["fatalities"].fillna(0).astype(int)
    chosen["disputed_n"] = chosen["disputed"].astype(int)
    table = chosen.groupby(["event_type", "admin1_name"]).agg(
        count=("count", "sum"),
        fatalities=("fatalities", "sum"),
        disputed=("disputed_n", "sum"),
        sources_mean=("sources", "mean"),
        outlets_mean=("outlets", "mean"),
    )
    want = {
        key: (
            int(r["count"]),
            int(r["fatalities"]),
            int(r["disputed"]),
            round(float(r["sources_mean"]), 2),
            round(float(r["outlets_mean"]), 2),
        )
        for key, r in table.iterrows()
    }
    metrics = "count,fatalities,disputed,sources_mean,outlets_mean"
    response = client.get(
        "/v1/stats/events",
        params={**params, "count": count, "group_by": "event_type,admin1", "metrics": metrics},
    )
    assert response.status_code == 200, response.text
    got = {
        (r["event_type"], r["admin1_name"]): (
            r["count"],
            r["fatalities"],
            r["disputed"],
            r["sources_mean"],
            r["outlets_mean"],
        )
        for r in response.json()["data"]
        if r["count"]
    }
    assert got == want, (params, count)
    # By month: an incident counts in its lead record's month.
    response = client.get(
        "/v1/stats/events",
        params={**params, "count": count, "interval": "month", "metrics": "count"},
    )
    assert response.status_code == 200, response.text
    months = chosen.groupby(chosen["date"].dt.to_period("M").dt.start_time)["count"].sum()
    assert {r["bucket"]: r["count"] for r in response.json()["data"] if r["count"]} == {
        k.date().isoformat(): int(v) for k, v in months.items()
    }, (params, count)


@pytest.mark.parametrize("seed", [1, 2])
def test_corroboration_filters_and_incident_counts_agree_with_pandas(
    client: TestClient, seed: int
) -> None:
    rng = random.Random(seed)
    model = Model()
    for _ in range(14):
        _new_event(client, model, rng)
    steps = [_attach] * 14 + [_new_event] * 6 + [_link] * 8 + [_unlink] * 2
    steps += [_curate] * 2 + [_retract] * 3
    rng.shuffle(steps)
    for n, step in enumerate(steps):
        step(client, model, rng)
        if n == len(steps) // 2:
            _check(client, model)
            _merge_provinces(client, model)
    _check(client, model)
    # The draw exercised every rule.
    df = model.frame()
    assert df["disputed"].any() and not df["disputed"].all()
    assert (df["outlets"] >= 2).any() and (df["sources"] >= 3).any()
    assert (~df["counts_as_incident"]).any()
    assert (df["status"] != "active").any()


@pytest.mark.parametrize("path", ["/v1/events", "/v1/stats/events"])
@pytest.mark.parametrize(
    "query, name",
    [
        ("sources_min=-1", "sources_min"),
        ("outlets_min=-2", "outlets_min"),
        ("disputed=maybe", "disputed"),
        ("count=articles", "count"),
    ],
)
def test_thresholds_outside_their_ranges_are_422(
    anon_client: TestClient, path: str, query: str, name: str
) -> None:
    body = assert_problem(anon_client.get(f"{path}?{query}"), 422)
    assert ["query", name] in error_locs(body)


def test_sources_min_0_means_all(client: TestClient) -> None:
    rng = random.Random(3)
    model = Model()
    for _ in range(3):
        _new_event(client, model, rng)
    assert _list_ids(client, {"sources_min": 0}) == sorted(model.events)
    assert _list_ids(client, {"sources_min": 2}) == []
