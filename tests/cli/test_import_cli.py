"""`conflictdb import ...` and `conflictdb db upgrade` through typer's CliRunner, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from app.cli import cli
from app.config import get_settings
from app.db.session import create_db_engine, read_session
from app.models import Event, EventProvenance
from tests.conftest import demo_report
from tests.datasets.test_loader import ged_csv, ged_rows
from tests.helpers import row_counts
from tests.samples import ACLED_SAMPLE


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def run(database_url: str, *args: str) -> Result:
    get_settings.cache_clear()  # the CLI reads DATABASE_URL through the cached settings
    try:
        return CliRunner().invoke(
            cli, list(args), env={"CONFLICTDB_DATABASE_URL": database_url}, catch_exceptions=False
        )
    finally:
        get_settings.cache_clear()


def event_count(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.execute(select(func.count()).select_from(Event)).scalar_one())


def test_import_ucdp_reads_the_release_from_the_file_name(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    file = tmp_path / "GEDEvent_v23_1.csv"
    file.write_text(ged_csv(ged_rows()[:30]), encoding="utf-8")
    result = run(database_url, "import", "ucdp", str(file))
    assert result.exit_code == 0, result.output
    assert "ucdp-ged 23.1 (GEDEvent_v23_1.csv): 30 rows" in result.stderr
    assert "created 30, updated 0, unchanged 0, conflicts 0, rejected 0" in result.stderr
    assert result.stdout == ""  # standard output is for data only
    with read_session(db) as session:
        versions = set(session.scalars(select(EventProvenance.dataset_version)))
    assert versions == {"23.1"}

    again = run(database_url, "import", "ucdp", str(file), "--batch-size", "7")
    assert again.exit_code == 0
    assert "created 0, updated 0, unchanged 30" in again.stderr


def test_import_ucdp_reports_bad_rows_and_strict_writes_nothing(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    rows = [dict(r) for r in ged_rows()[:12]]
    rows[5]["type_of_violence"] = "4"
    file = tmp_path / "ged.csv"
    file.write_text(ged_csv(rows), encoding="utf-8")

    run(database_url, "db", "upgrade")
    before = row_counts(db)
    strict = run(database_url, "import", "ucdp", str(file), "--version", "23.1", "--strict")
    assert strict.exit_code == 1
    assert "type_of_violence '4' is not 1, 2 or 3" in strict.stderr
    assert "nothing was written" in strict.stderr
    counts = row_counts(db)
    counts.pop("api_key")  # the CLI's recorded principal, made on first use
    before.pop("api_key")
    assert counts == before

    lenient = run(database_url, "import", "ucdp", str(file), "--version", "23.1")
    assert lenient.exit_code == 0
    assert "created 11" in lenient.stderr and "rejected 1" in lenient.stderr
    assert "  line 7: type_of_violence '4' is not 1, 2 or 3" in lenient.stderr
    assert event_count(db) == 11


def test_import_ucdp_without_a_release_or_of_another_layout_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "events.csv"
    file.write_text(ged_csv(ged_rows()[:2]), encoding="utf-8")
    no_version = run(database_url, "import", "ucdp", str(file))
    assert no_version.exit_code == 2
    assert "--version" in no_version.stderr

    wrong = run(database_url, "import", "ucdp", str(ACLED_SAMPLE), "--version", "23.1")
    assert wrong.exit_code == 2
    assert "not a UCDP GED file" in wrong.stderr


def test_import_ucdp_prune(database_url: str, db: Engine, tmp_path: Path) -> None:
    rows = ged_rows()[:8]
    full, part = tmp_path / "ged_23_1.csv", tmp_path / "ged_23_1_part.csv"
    full.write_text(ged_csv(rows), encoding="utf-8")
    part.write_text(ged_csv(rows[:5]), encoding="utf-8")
    assert run(database_url, "import", "ucdp", str(full), "--version", "23.1").exit_code == 0
    result = run(database_url, "import", "ucdp", str(part), "--version", "23.1", "--prune")
    assert result.exit_code == 0
    assert "unchanged 5" in result.stderr and "retracted 3" in result.stderr
    assert event_count(db) == 8


def test_import_acled(database_url: str, db: Engine) -> None:
    result = run(database_url, "import", "acled", str(ACLED_SAMPLE))
    assert result.exit_code == 0
    assert "acled (acled-sample.csv): 33 rows" in result.stderr
    assert "created 26" in result.stderr and "rejected 7" in result.stderr
    assert "  line 12: event_date '2023-13-45' is not a date (YYYY-MM-DD)" in result.stderr
    assert event_count(db) == 26


def test_import_reports_jsonl(database_url: str, db: Engine, tmp_path: Path) -> None:
    broken = demo_report()
    del broken["article"]
    file = tmp_path / "reports.jsonl"
    file.write_text(
        json.dumps(demo_report()) + "\n" + json.dumps(broken) + "\n\n" + "{not json\n",
        encoding="utf-8",
    )
    result = run(database_url, "import", "reports", str(file))
    assert result.exit_code == 0, result.output
    assert "created 1, unchanged 0, rejected 2" in result.stderr
    assert "  line 2: 422" in result.stderr
    assert "  line 4: 400 Malformed JSON" in result.stderr
    events = event_count(db)
    assert events == len(demo_report()["events"])

    again = run(database_url, "import", "reports", str(file))
    assert "created 0, unchanged 1, rejected 2" in again.stderr
    assert event_count(db) == events


def test_import_reports_strict_is_all_or_nothing(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    other = demo_report()
    other["article"]["url"] = "https://example.org/another-article"
    conflicting = demo_report()  # the demo's article again, with a different report: a 409
    conflicting["events"] = conflicting["events"][:1]
    broken = demo_report()
    del broken["article"]
    file = tmp_path / "reports.jsonl"
    lines = [demo_report(), other, conflicting, broken]
    file.write_text("\n".join(json.dumps(r) for r in lines) + "\n", encoding="utf-8")
    before = row_counts(db)

    result = run(database_url, "import", "reports", "--strict", str(file))
    assert result.exit_code == 1, result.output
    # Every bad line is listed (a 409 only the database can tell, a 422 the document shows)...
    assert "  line 3: 409" in result.stderr
    assert "  line 4: 422" in result.stderr
    assert "aborted (--strict): nothing was written" in result.stderr
    # ...and the good lines were not kept either (only the CLI's recorded principal is new).
    after = row_counts(db)
    assert after.pop("api_key") == before.pop("api_key") + 1
    assert after == before

    # The same file without the bad lines loads whole.
    file.write_text("\n".join(json.dumps(r) for r in lines[:2]) + "\n", encoding="utf-8")
    result = run(database_url, "import", "reports", "--strict", str(file))
    assert result.exit_code == 0, result.output
    assert "created 2, unchanged 0, rejected 0" in result.stderr
    assert event_count(db) == 2 * len(demo_report()["events"])


def test_db_upgrade_and_its_migrate_alias(database_url: str) -> None:
    for args in (["db", "upgrade"], ["migrate"]):
        result = run(database_url, *args)
        assert result.exit_code == 0
        assert "migrated to head" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["import", "ucdp"],
        ["import", "acled"],
        ["import", "reports"],
        ["db", "upgrade"],
        ["export"],
        ["migrate"],
    ],
)
def test_help_shows_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: conflictdb " in result.output


def test_a_file_that_stops_being_readable_aborts_and_keeps_what_loaded(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    rows = ged_rows()
    good = ged_csv(rows[:300]).encode()
    file = tmp_path / "ged.csv"
    # Far enough in that the first batches are read (and committed) before the bad bytes.
    file.write_bytes(good + b"\xff\xfe not UTF-8\r\n" + ged_csv(rows[300:310]).encode())
    result = run(
        database_url, "import", "ucdp", str(file), "--version", "23.1", "--batch-size", "20"
    )
    assert result.exit_code == 1
    assert "aborted: 'utf-8' codec can't decode" in result.stderr
    assert "note: stopped: the file could not be read on" in result.stderr
    loaded = event_count(db)
    assert 0 < loaded < 300 and loaded % 20 == 0
