"""What a user gets by exporting the events and aggregating them with pandas: the oracle the
stats endpoints are checked against.

Single-valued dimensions come from `GET /v1/events?format=csv` with the same filters (the
flat, ACLED-like CSV); actors, outlets and places by id from the JSON list with
`include=actors,sources`, page after page, exploded to one row per event and actor (or
outlet: once per event however many of its articles report it). Buckets, ranges and
zero-filling use pandas' own calendar (periods and date_range), not the service's.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

METRICS = ("count", "fatalities", "fatalities_low", "fatalities_high")
# Issue 12: fatalities by whom, asked for by name.
DEATHS = ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")
ALL_METRICS = METRICS + DEATHS
# The frame columns naming each dimension's groups (what the exports have of it).
LABELS: dict[str, list[str]] = {
    "event_type": ["event_type"],
    "sub_event_type": ["sub_event_type"],
    "country": ["country"],
    "admin1": ["admin1_name"],
    "place": ["place_id", "place_name"],
    "actor": ["actor_id", "actor_name"],
    "outlet": ["outlet_id", "outlet_name"],
    # -- issue 12
    "date_precision": ["date_precision"],
    "interaction": ["interaction"],
    "actor_kind": ["actor_kind"],
    "ucdp.type_of_violence": ["ucdp.type_of_violence"],
    "ucdp.conflict": ["ucdp.conflict", "ucdp.conflict_label"],
    "acled.tags": ["acled.tags"],
}
LIST_DIMENSIONS = frozenset({"place", "actor", "outlet", "actor_kind"})
# Dimensions an event may have several values of (exploded to a row each).
MULTI_CODES = frozenset({"acled.tags"})
PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "year": "Y"}
FREQUENCIES = {"day": "D", "week": "W-MON", "month": "MS", "year": "YS"}
_FATALITIES = {
    "fatalities_best": "fatalities",
    "fatalities_low": "fatalities_low",
    "fatalities_high": "fatalities_high",
}


def csv_frame(
    client: TestClient, filters: dict[str, Any], dims: Sequence[str] = ()
) -> pd.DataFrame:
    """One row per event, from the events list's CSV (and per code of a multi-valued scheme
    in ``dims``: an event without any in the null group)."""
    response = client.get("/v1/events", params={**filters, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    df = pd.read_csv(io.StringIO(response.text), dtype=str, keep_default_na=False)
    df = df.replace({"": None})
    # The events above admin1 (a place with a country, no admin1) are "country-level".
    admin1 = df["admin1"].where(df["admin1"].notna() | df["country_code"].isna(), "country-level")
    frame = pd.DataFrame(
        {
            "id": df["id"].astype(int),
            "date": pd.to_datetime(df["event_date"]),
            "date_end": pd.to_datetime(df["date_end"]),
            "event_type": df["event_type"],
            "sub_event_type": df["sub_event_type"],
            "country": df["country_code"],
            "admin1_name": admin1,
            "fatalities": pd.to_numeric(df["fatalities"]),
            "fatalities_low": pd.to_numeric(df["fatalities_low"]),
            "fatalities_high": pd.to_numeric(df["fatalities_high"]),
            **{d: pd.to_numeric(df[d]) for d in DEATHS},
            "date_precision": df["date_precision"],
            "interaction": df["interaction"],
            "ucdp.type_of_violence": df["ucdp.type_of_violence"],
            "ucdp.conflict": df["ucdp.conflict"],
            "ucdp.conflict_label": df["ucdp.conflict_label"],
            "acled.tags": df["acled.tags"],
        }
    )
    for dim in set(dims) & MULTI_CODES:
        frame[dim] = frame[dim].map(lambda v: v.split("; ") if isinstance(v, str) else [None])
        frame = frame.explode(dim)
    return frame


def list_events(client: TestClient, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Every matching event from the JSON list with its actors and sources, page by page."""
    params: dict[str, Any] = {**filters, "include": "actors,sources", "limit": 1000}
    events: list[dict[str, Any]] = []
    while True:
        response = client.get("/v1/events", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        events += page["data"]
        if page["next_cursor"] is None:
            return events
        params["cursor"] = page["next_cursor"]


def list_frame(client: TestClient, filters: dict[str, Any], dims: Sequence[str]) -> pd.DataFrame:
    """One row per event, and per actor and/or outlet of it when ``dims`` has them (an event
    without any in the null group), from the JSON list."""
    records = []
    for event in list_events(client, filters):
        base = {
            "id": event["id"],
            "date": event["date_start"],
            "event_type": event["event_type"],
            "sub_event_type": event["sub_event_type"],
            "country": event["country"],
            "place_id": event["place_id"],
            "place_name": event["place_name"],
            **{name: event[field] for field, name in _FATALITIES.items()},
            **{d: event[d] for d in DEATHS},
        }
        rows = [base]
        if "actor_kind" in dims:
            kinds = list(dict.fromkeys(a["kind"] for a in event["actors"])) or [None]
            rows = [{**r, "actor_kind": k} for r in rows for k in kinds]
        if "actor" in dims:
            actors = [(a["id"], a["name"]) for a in event["actors"]] or [(None, None)]
            rows = [{**r, "actor_id": i, "actor_name": n} for r in rows for i, n in actors]
        if "outlet" in dims:
            outlets = list(
                dict.fromkeys((s["outlet"]["id"], s["outlet"]["name"]) for s in event["sources"])
            ) or [(None, None)]
            rows = [{**r, "outlet_id": i, "outlet_name": n} for r in rows for i, n in outlets]
        records += rows
    columns = ["id", "date", "event_type", "sub_event_type", "country", "place_id", "place_name"]
    columns += [*_FATALITIES.values(), *DEATHS]
    columns += [c for d in dims if d in ("actor", "outlet", "actor_kind") for c in LABELS[d]]
    df = pd.DataFrame.from_records(records, columns=columns)
    df["date"] = pd.to_datetime(df["date"])
    for column in ("place_id", "actor_id", "outlet_id"):
        if column in df:
            df[column] = df[column].astype(object)
    return df


def expected(
    frame: pd.DataFrame,
    *,
    interval: str | None,
    dims: Sequence[str],
    metrics: Sequence[str],
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[tuple[Any, ...]]:
    """The rows pandas computes: (bucket, group labels..., metrics...), zero-filled."""
    df = frame.copy()
    df["count"] = 1
    for m in ALL_METRICS[1:]:
        df[m] = df[m].fillna(0).astype(int)
    labels = [c for d in dims for c in LABELS[d]]
    keys = labels[:]
    if interval is not None:
        df["bucket"] = df["date"].dt.to_period(PERIODS[interval]).dt.start_time
        keys.insert(0, "bucket")
    if keys:
        table = df.groupby(keys, dropna=False)[list(metrics)].sum().reset_index()
    else:
        table = pd.DataFrame([df[list(metrics)].sum().to_dict()])
    if interval is not None:
        low = pd.Timestamp(date_from) if date_from else df["date"].min()
        high = pd.Timestamp(date_to) if date_to else df["date"].max()
        if pd.isna(low) or pd.isna(high):
            return []
        first = low.to_period(PERIODS[interval]).start_time
        buckets = pd.date_range(first, high, freq=FREQUENCIES[interval])
        groups = table[labels].drop_duplicates() if labels else pd.DataFrame(index=[0])
        grid = groups.merge(pd.DataFrame({"bucket": buckets}), how="cross")
        table = grid.merge(table, how="left", on=keys).fillna(dict.fromkeys(metrics, 0))
    out = []
    for row in table[keys + list(metrics)].itertuples(index=False):
        values = [_plain(v) for v in row]
        if interval is not None:
            values[0] = values[0].date().isoformat()
        out.append(tuple(values))
    return sorted(out, key=repr)


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def answered(
    rows: list[dict[str, Any]], *, interval: str | None, dims: Sequence[str], metrics: Sequence[str]
) -> list[tuple[Any, ...]]:
    """The API's rows in the oracle's shape (names where the export has no ids)."""
    keys = (["bucket"] if interval else []) + [c for d in dims for c in LABELS[d]]
    return sorted((tuple(r[k] for k in [*keys, *metrics]) for r in rows), key=repr)
