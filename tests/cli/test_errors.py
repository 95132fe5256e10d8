"""The command line's errors: one line on standard error and a non-zero exit, never a traceback.

Through typer's CliRunner with ``catch_exceptions=False``, so an exception a command lets out
fails the test instead of becoming an exit status.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app import cli as cli_module
from app.cli import cli
from app.config import get_settings
from tests.helpers import ACLED_SAMPLE, GED_SAMPLE
from tests.helpers import run_cli as run

ROOT = Path(__file__).resolve().parents[2]
DRAFT_TEXT = ROOT / "tests" / "data" / "drafts" / "kenya-protest.txt"
NO_DATABASE_URL: dict[str, str | None] = {"DATABASE_URL": None, "CONFLICTDB_DATABASE_URL": None}


def invoke(env: dict[str, str | None], *args: str) -> Result:
    """The CLI with exactly these settings variables (the test process's own removed)."""
    get_settings.cache_clear()
    try:
        clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CONFLICTDB_")}
        return CliRunner().invoke(
            cli, list(args), env={**clean, **NO_DATABASE_URL, **env}, catch_exceptions=False
        )
    finally:
        get_settings.cache_clear()


def assert_one_line_error(result: Result, status: int, *fragments: str) -> str:
    """The command failed with ``status`` and said why in one line, and wrote no data."""
    assert result.exit_code == status, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(r"^conflictdb( [a-z-]+)*: error: \S", lines[0]), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return lines[0]


# Every command that reaches the database, with arguments that get it that far.
COMMANDS = {
    "serve": ["serve", "--port", "8999"],
    "db upgrade": ["db", "upgrade"],
    "migrate": ["migrate"],
    "keys create": ["keys", "create", "--name", "importer"],
    "keys list": ["keys", "list"],
    "keys revoke": ["keys", "revoke", "cdb_00000000"],
    "load-demo": ["load-demo"],
    "import ucdp": ["import", "ucdp", str(GED_SAMPLE), "--version", "23.1"],
    "import acled": ["import", "acled", str(ACLED_SAMPLE)],
    "import reports": ["import", "reports", str(ACLED_SAMPLE)],
    "export": ["export", "--format", "geojson"],
    "draft": ["draft", str(DRAFT_TEXT), "--date", "2018-04-18", "--outlet", "Syria Direct"],
}
# Settings that cannot work, what the one line must say, and the exit status.
BAD_SETTINGS: dict[str, tuple[dict[str, str | None], int, tuple[str, ...]]] = {
    "production without DATABASE_URL": (
        {"CONFLICTDB_ENVIRONMENT": "production"},
        2,
        ("the settings are refused: production needs an explicit DATABASE_URL",),
    ),
    "production with the demo": (
        {"CONFLICTDB_ENVIRONMENT": "production", "DATABASE_URL": "postgresql://h/db"},
        2,
        ("production must not load demo data (CONFLICTDB_DEMO=false)",),
    ),
    "a setting of the wrong type": (
        {"CONFLICTDB_RATE_LIMIT_PER_MINUTE": "many"},
        2,
        ("CONFLICTDB_RATE_LIMIT_PER_MINUTE: Input should be a valid integer",),
    ),
    "an unparsable DATABASE_URL": (
        {"DATABASE_URL": "not a url"},
        2,
        ("DATABASE_URL: Could not parse SQLAlchemy URL", "postgresql+psycopg://"),
    ),
    "a database we have no driver for": (
        {"DATABASE_URL": "mysql://user:s3cret@db/conflicts"},
        2,
        ("DATABASE_URL: No module named",),
    ),
    "a DATABASE_URL with a bad port": (
        {"DATABASE_URL": "postgresql://user:s3cret@db:port/conflicts"},
        2,
        ("DATABASE_URL: invalid literal for int()",),
    ),
    "an unreachable database": (
        {"DATABASE_URL": "postgresql://user:s3cret@127.0.0.1:1/conflicts"},
        1,
        ("database postgresql+psycopg://user:***@127.0.0.1:1/conflicts:", "Connection refused"),
    ),
    "a SQLite file in a missing folder": (
        {"DATABASE_URL": "sqlite:////nonexistent-folder/conflictdb.sqlite3"},
        1,
        ("unable to open database file",),
    ),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_every_command_reports_unusable_settings_in_one_line(command: str, case: str) -> None:
    env, status, fragments = BAD_SETTINGS[case]
    line = assert_one_line_error(invoke(env, *COMMANDS[command]), status, *fragments)
    assert "s3cret" not in line  # a password never reaches the terminal


def test_the_production_refusal_from_the_installed_command_is_one_line(tmp_path: Path) -> None:
    """What a user types, in a process of its own: no traceback on the way out either."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTDB_")}
    env.pop("DATABASE_URL", None)
    env["CONFLICTDB_ENVIRONMENT"] = "production"
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "conflictdb: error: the settings are refused: production needs an explicit DATABASE_URL\n"
    )
    assert done.stdout == ""


def test_a_refused_scope_is_one_line(database_url: str) -> None:
    result = run(database_url, "keys", "create", "--name", "x", "--scope", "superuser")
    assert_one_line_error(
        result,
        2,
        "conflictdb: error: Scopes must be some of read, ingest, curate, write, admin; "
        "got superuser.",
    )


@pytest.mark.parametrize(
    ("args", "status", "fragment"),
    [
        (["import", "ucdp", "/nonexistent/GEDEvent_v23_1.csv"], 2, "does not exist"),
        (["import", "acled", "/"], 2, "is a directory"),
        (["import", "ucdp", str(GED_SAMPLE)], 2, "give it with --version"),
        (["export", "--format", "xml"], 2, "'xml' is not one of 'csv'"),
        (["export", "--colour", "red"], 2, "No such option: --colour"),
        (["export", "--date-from", "2017-13-01"], 2, "'2017-13-01' does not match"),
        (["export", "--sort", "colour"], 2, "--sort 'colour': one of"),
        (["export", "--country", "Syria"], 2, "--country"),
        (["export", "-o", "/nonexistent/folder/events.csv"], 1, "No such file or directory"),
        (["keys", "create"], 2, "Missing option '--name'"),
        (["keys", "create", "--name", "x", "--expires-in-days", "1e10"], 2, "36500"),
        (["keys", "create", "--name", "x", "--expires-in-days", "0"], 2, "in the past"),
        (["keys", "revoke", "cdb_00000000"], 1, "no key 'cdb_00000000'"),
        (["keys", "revoke", "999"], 1, "No API key with id 999"),
        (["db", "upgrade", "nonexistent"], 2, "Can't locate revision identified by"),
        (
            ["draft", "/nonexistent/article.txt", "--date", "2018-04-18", "--outlet", "X"],
            2,
            "/nonexistent/article.txt: No such file or directory",
        ),
        (["draft", str(DRAFT_TEXT), "--date", "18/04/2018", "--outlet", "X"], 2, "published_date"),
        (["draft", str(DRAFT_TEXT), "--date", "2018-04-18", "--outlet", " "], 2, "outlet"),
    ],
)
def test_bad_values_and_files_are_one_line(
    database_url: str, args: list[str], status: int, fragment: str
) -> None:
    assert_one_line_error(run(database_url, *args), status, fragment)


def test_an_unexpected_error_is_one_line_and_its_traceback_on_request(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_module.db_migrate, "upgrade", broken)
    assert_one_line_error(
        run(database_url, "db", "upgrade"),
        1,
        "RuntimeError: boom (this is a bug; CONFLICTDB_TRACEBACK=1 shows where)",
    )
    monkeypatch.setenv("CONFLICTDB_TRACEBACK", "1")
    with pytest.raises(RuntimeError, match="boom"):
        run(database_url, "db", "upgrade")


def test_help_and_no_arguments_are_no_errors() -> None:
    assert invoke({}, "--help").exit_code == 0
    alone = invoke({}, "keys")  # a group alone shows its help, as click does (status 2)
    assert alone.exit_code == 2
    assert "create" in alone.stdout and "error" not in alone.stderr


def test_keys_list_shows_the_whole_prefix_at_80_columns(database_url: str) -> None:
    """`keys revoke` takes the prefix `keys list` shows: it must be there whole, however narrow
    the terminal (rich tables cut cells short with an ellipsis)."""
    name = "ucdp-importer-for-the-nightly-release-with-a-long-name"
    created = run(database_url, "keys", "create", "--name", name, "--scope", "write")
    assert created.exit_code == 0
    prefix = created.stdout.strip()[: len("cdb_00000000")]
    assert re.fullmatch(r"cdb_[0-9a-f]{8}", prefix), prefix

    listed = run(database_url, "keys", "list", env={"COLUMNS": "80"})
    assert listed.exit_code == 0
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    assert "…" not in listed.stdout
    shown = re.findall(r"cdb_[0-9a-f]+", listed.stdout)
    assert shown == [prefix]
    # Folded, not cut: the name is all there, read down its column.
    rows = [line.split("│") for line in listed.stdout.splitlines() if line.startswith("│")]
    assert "".join(cells[3].strip() for cells in rows) == name

    revoked = run(database_url, "keys", "revoke", shown[0])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked key" in revoked.stderr
