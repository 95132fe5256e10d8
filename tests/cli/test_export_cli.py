"""`conflictdb export` through typer's CliRunner, on both databases."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy import Engine, select

from app.db.session import read_session
from app.formats import events_csv as formats
from app.models import EventProvenance
from tests.cli.test_import_cli import db, run
from tests.datasets.test_loader import ged_rows, import_ged

__all__ = ["db"]  # the fixture, used below by name


def test_export_csv_to_standard_output(database_url: str, db: Engine) -> None:
    rows = ged_rows()[:25]
    import_ged(db, rows)
    result = run(database_url, "export", "--format", "csv")
    assert result.exit_code == 0, result.output
    exported = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(exported) == 25
    assert list(exported[0]) == list(formats.FLAT_COLUMNS)
    assert {r["dataset_event_id"] for r in exported} == {r["id"] for r in rows}
    assert "exported 25 events as csv" in result.stderr


def test_export_geojson_of_a_country_year_to_a_file(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    rows = ged_rows()
    import_ged(db, rows)
    out = tmp_path / "syria-2017.geojson"
    result = run(
        database_url,
        "export",
        "--format",
        "geojson",
        "--country",
        "SY",
        "--date-from",
        "2017-01-01",
        "--date-to",
        "2017-12-31",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert not (tmp_path / "syria-2017.geojson.part").exists()
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    expected = {
        r["id"] for r in rows if r["country"] == "Syria" and r["date_start"].startswith("2017")
    }
    assert expected
    with read_session(db) as session:
        dataset_id = dict(
            session.execute(select(EventProvenance.event_id, EventProvenance.external_id)).all()
        )
    # The API's GeoJSON: each feature's properties are the event as GET /v1/events lists it.
    assert {dataset_id[f["properties"]["id"]] for f in features} == expected
    assert {f["properties"]["country"] for f in features} == {"SY"}
    assert f"exported {len(expected)} events as geojson to {out}" in result.stderr


def test_export_filters_and_formats(database_url: str, db: Engine) -> None:
    import_ged(db, ged_rows()[:40])
    battles = run(database_url, "export", "-f", "ndjson", "--event-type", "Battles")
    assert battles.exit_code == 0
    lines = [json.loads(line) for line in battles.stdout.splitlines()]
    assert lines and {line["event_type"] for line in lines} == {"Battles"}
    acled_csv = run(database_url, "export", "-f", "acled-csv", "--event-type", "Battles")
    assert len(list(csv.DictReader(io.StringIO(acled_csv.stdout)))) == len(lines)

    bad_country = run(database_url, "export", "--country", "Syria")
    assert bad_country.exit_code == 2
    bad_format = run(database_url, "export", "--format", "xml")
    assert bad_format.exit_code == 2
