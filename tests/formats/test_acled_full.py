"""Issue 12's ACLED proof: a file built here with every column of ACLED's codebook and awkward
values (several tags with `;` between them and `=` inside, a disorder type that is itself
`;`-joined, empty admin2/admin3, negative latitudes and longitudes, quotes, commas and line
breaks in notes, one-sided events) keeps every code as data, counts them as pandas counts the
file, and round-trips through `export --format acled-csv` in meaning, into a second database
that then holds the same codes."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.db.session import read_session
from app.formats import acled
from app.models import DimensionCode, Event, EventDimension, EventProvenance
from tests.datasets.test_loader import import_acled
from tests.formats.test_exports import export_text, snapshot

# (iso, country, region, admin1, admin2, admin3, location, latitude, longitude)
PLACES = [
    ("484", "Mexico", "Central America", "Sinaloa", "Culiacan", "", "Culiacan", 24.8091, -107.394),
    (
        "170",
        "Colombia",
        "South America",
        "Cauca",
        "Argelia",
        "El Plateado",
        "El Plateado",
        2.2531,
        -77.1261,
    ),
    (
        "152",
        "Chile",
        "South America",
        "Santiago Metropolitan",
        "",
        "",
        "Santiago",
        -33.4569,
        -70.6483,
    ),
    (
        "604",
        "Peru",
        "South America",
        "Lima",
        "Lima",
        "Miraflores",
        "Miraflores",
        -12.1211,
        -77.0297,
    ),
    (
        "760",
        "Syria",
        "Middle East",
        "Idlib",
        "Maarrat An Nu'man",
        "Kafr Nabl",
        "Kafr Nabl",
        35.6137,
        36.5594,
    ),
    ("566", "Nigeria", "Western Africa", "Borno", "Maiduguri", "", "Maiduguri", 11.8333, 13.15),
    ("242", "Fiji", "Oceania", "Northern", "", "", "Labasa", -16.4167, 179.3833),
]
# (disorder_type, event_type, sub_event_type, inter1, inter2, civilian_targeting)
KINDS = [
    ("Political violence", "Battles", "Armed clash", "1", "2", ""),
    ("Political violence", "Violence against civilians", "Attack", "3", "7", "Civilian targeting"),
    (
        "Political violence",
        "Explosions/Remote violence",
        "Air/drone strike",
        "8",
        "7",
        "Civilian targeting",
    ),
    ("Demonstrations", "Protests", "Peaceful protest", "6", "0", ""),
    (
        "Political violence; Demonstrations",
        "Protests",
        "Excessive force against protesters",
        "1",
        "6",
        "Civilian targeting",
    ),
    ("Demonstrations", "Riots", "Violent demonstration", "5", "1", ""),
    ("Strategic developments", "Strategic developments", "Arrests", "1", "6", ""),
    ("Political violence", "Battles", "Non-state actor overtakes territory", "4", "2", ""),
]
ACTORS = {
    "1": "Military Forces of {country} (2018-)",
    "2": "Rebels of the {admin1} Front",
    "3": "Unidentified Armed Group ({country})",
    "4": "{admin1} Ethnic Militia ({country})",
    "5": "Rioters ({country})",
    "6": "Protesters ({country})",
    "7": "Civilians ({country})",
    "8": "Private Security Forces ({country})",
}
TAGS = [
    "",
    "crowd size=no report",
    "crowd size=around 50; women targeted: girls",
    "armed presence; crowd size=hundreds; local administrators",
    "women targeted: candidates for office",
]
SCALES = ["National", "Subnational", "Local partner-National", "New media-Regional", "Other"]


def build_file(rows: int = 56) -> str:
    """An ACLED export as the codebook lays it out (every column, in ACLED's order)."""
    out: list[dict[str, Any]] = []
    for k in range(rows):
        iso, country, region, admin1, admin2, admin3, location, lat, lon = PLACES[k % len(PLACES)]
        disorder, event_type, sub_type, inter1, inter2, targeting = KINDS[k % len(KINDS)]
        names = {"country": country, "admin1": admin1}
        actor1 = ACTORS[inter1].format(**names)
        actor2 = "" if inter2 == "0" else ACTORS[inter2].format(**names)
        low, high = (inter1, inter2) if inter2 == "0" else sorted((inter1, inter2))
        day = 1 + k % 28
        out.append(
            {
                "event_id_cnty": f"{country[:3].upper()}{7000 + k}",
                "event_date": f"2023-{1 + k % 12:02d}-{day:02d}",
                "year": "2023",
                "time_precision": str(1 + k % 3),
                "disorder_type": disorder,
                "event_type": event_type,
                "sub_event_type": sub_type,
                "actor1": actor1,
                "assoc_actor_1": "" if k % 4 else f"Students ({country}); Women ({country})",
                "inter1": inter1,
                "actor2": actor2,
                "assoc_actor_2": "",
                "inter2": inter2,
                "interaction": f"{low}{high}",
                "civilian_targeting": targeting,
                "iso": iso,
                "region": region,
                "country": country,
                "admin1": admin1,
                "admin2": admin2,
                "admin3": admin3,
                "location": location,
                "latitude": f"{lat:.4f}",
                "longitude": f"{lon:.4f}",
                "geo_precision": str(1 + k % 3),
                "source": "Reforma; El Universal" if k % 3 else "Local Source",
                "source_scale": SCALES[k % len(SCALES)],
                "notes": f'On {day} 2023, "a, b", line one\nline two ({k}).',
                "fatalities": str(k % 5),
                "tags": TAGS[k % len(TAGS)],
                "timestamp": str(1_700_000_000 + k),
            }
        )
    frame = pd.DataFrame(out, columns=list(acled.ACLED_COLUMNS))
    text: str = frame.to_csv(index=False, lineterminator="\r\n")
    return text


def read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).set_index(
        "event_id_cnty"
    )


def codes_by_event(engine: Engine) -> dict[str, set[tuple[str, str]]]:
    """Each imported event's codes, by its ACLED id."""
    with read_session(engine) as session:
        rows = session.execute(
            select(EventProvenance.external_id, DimensionCode.scheme, DimensionCode.code)
            .join(EventDimension, EventDimension.event_id == EventProvenance.event_id)
            .join(DimensionCode, DimensionCode.id == EventDimension.code_id)
            .join(Event, Event.id == EventProvenance.event_id)
        ).all()
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for external_id, scheme, code in rows:
        out[external_id].add((scheme, code))
    return dict(out)


def file_codes(frame: pd.DataFrame) -> dict[str, set[tuple[str, str]]]:
    """The codes pandas reads in the file: one per coded column, tags split on `;`."""
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    single = ["disorder_type", "inter1", "inter2", "interaction", "civilian_targeting", "iso"]
    single += ["region", "admin1", "admin2", "admin3", "source_scale"]
    for event_id, row in frame.iterrows():
        for column in single:
            if row[column]:
                out[str(event_id)].add((f"acled.{column}", row[column]))
        for tag in row["tags"].split(";"):
            if tag.strip():
                out[str(event_id)].add(("acled.tags", tag.strip()))
    return dict(out)


@pytest.fixture
def built() -> str:
    return build_file()


def test_every_code_is_kept_and_counted_as_pandas_counts_it(
    client: TestClient, engine: Engine, built: str
) -> None:
    frame = read(built)
    summary = import_acled(engine, built)
    assert (summary.created, summary.rejected) == (len(frame), [])
    assert codes_by_event(engine) == file_codes(frame)

    tags = frame["tags"].str.split(";").explode().str.strip()
    for tag in sorted(set(tags) - {""}):
        response = client.get(
            "/v1/events",
            params={"dimension": f"acled.tags:{tag}", "total": "true", "limit": 1},
        )
        assert response.status_code == 200, response.text
        assert response.json()["total"] == int((tags == tag).sum()), tag
    for column in ("disorder_type", "admin1", "source_scale", "interaction"):
        response = client.get(
            "/v1/stats/events", params={"group_by": f"acled.{column}", "metrics": "count"}
        )
        assert response.status_code == 200, response.text
        got = {r[f"acled.{column}"]: r["count"] for r in response.json()["data"]}
        want = frame[frame[column] != ""].groupby(column).size()
        assert got == {code: int(n) for code, n in want.items()}, column
    # The events of ACLED carry ACLED's licence and citation into the figures.
    body = client.get("/v1/stats/events", params={"metrics": "count"}).json()
    assert [d["name"] for d in body["datasets"]] == ["acled"]
    assert body["datasets"][0]["licence"] and body["datasets"][0]["citation"]


def test_the_built_file_round_trips_in_meaning(
    client: TestClient, engine: Engine, other_engine: Engine, built: str
) -> None:
    import_acled(engine, built)
    exported = export_text(engine, "acled-csv")
    assert exported.splitlines()[0] == ",".join(acled.ACLED_COLUMNS)
    given, back = read(built), read(exported)
    assert sorted(back.index) == sorted(given.index)
    back = back.loc[given.index]
    for column in acled.ACLED_COLUMNS[1:]:
        if column in ("latitude", "longitude"):
            assert back[column].astype(float).tolist() == given[column].astype(float).tolist()
        elif column in ("assoc_actor_1", "assoc_actor_2", "source"):
            # Associated actors and outlets may come back in another order.
            assert [sorted(v.split("; ")) for v in back[column]] == [
                sorted(v.split("; ")) for v in given[column]
            ], column
        else:
            assert back[column].tolist() == given[column].tolist(), column

    summary = import_acled(other_engine, exported)
    assert (summary.created, summary.rejected) == (len(given), [])
    assert snapshot(other_engine) == snapshot(engine)
    assert codes_by_event(other_engine) == codes_by_event(engine) == file_codes(given)
    # And once more: the second database's export is the first's, byte for byte.
    assert export_text(other_engine, "acled-csv") == exported
    assert next(csv.reader(io.StringIO(exported))) == list(acled.ACLED_COLUMNS)
