"""The command-line entry point: ``conflictdb serve | db | import | export | keys``.

Commands that write act as a recorded local principal (``app.auth.service.local_principal``),
so revisions and the audit log say the command line made the change. Progress and summaries
go to standard error; standard output carries only data (an export, a new key).

An error is one line on standard error, ``conflictdb: error: ...``, never a traceback
(``CONFLICTDB_TRACEBACK=1`` shows one): ``OneLineErrors`` turns whatever a command raises into
that line and the exit status: 2 for what the user can fix in the command or its settings
(usage, a refused setting, a bad value, an unusable DATABASE_URL), 1 when the work failed
(the database unreachable, a file that cannot be written).
"""

from __future__ import annotations

import io
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Final

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session
from typer.core import TyperGroup
from typer.exceptions import Abort, TyperException

from app.config import get_settings
from app.db import migrate as db_migrate
from app.db.session import create_db_engine
from app.incidents import matching

# Markdown: docstrings wrapped at 100 columns read as paragraphs, not as broken lines.
MARKUP: Final = "markdown"
err = Console(stderr=True)
EXIT_FAILED: Final = 1  # the work failed: the database, the file system
EXIT_REFUSED: Final = 2  # the command cannot be run as given (click's status for usage errors)
TRACEBACK_VARIABLE: Final = "CONFLICTDB_TRACEBACK"


class CommandError(Exception):
    """A failure the user should see as one line, with the exit status to end with."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


class OneLineErrors(TyperGroup):
    """The top command: runs the command line with click's own error handling off, and
    reports every error, a usage error included, as one line and an exit status."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            # Not standalone: click raises instead of printing (a typer.Exit comes back as its
            # status; so does --help, as 0).
            status = super().main(args, prog_name, complete_var, False, **extra)
        except TyperException as exc:  # click's usage errors, as typer vendors click
            # `conflictdb` or `conflictdb keys` alone: the help, already printed.
            if type(exc).__name__ != "NoArgsIsHelpError":
                ctx = getattr(exc, "ctx", None)
                where = ctx.command_path if ctx is not None else "conflictdb"
                hint = f" (see {where} --help)" if ctx is not None else ""
                _error(exc.format_message().replace("Value error, ", "") + hint, where)
            sys.exit(exc.exit_code)
        except Abort:
            _error("aborted")
            sys.exit(EXIT_FAILED)
        except Exception as exc:
            if os.environ.get(TRACEBACK_VARIABLE):
                raise
            message, code = _failure(exc)
            _error(message)
            sys.exit(code)
        sys.exit(status if isinstance(status, int) else 0)


def _error(message: str, where: str = "conflictdb") -> None:
    # One line whatever the terminal's width, and never read as rich markup (messages quote
    # the user's input).
    _line(f"{where}: error: {' '.join(message.split())}")


def _failure(exc: Exception) -> tuple[str, int]:
    """The line and exit status reporting ``exc``."""
    from alembic.util.exc import CommandError as AlembicError
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    from app.config import describe_refusal
    from app.core.errors import ProblemError, Unprocessable

    if isinstance(exc, CommandError):
        return str(exc), exc.status
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return f"the settings are refused: {describe_refusal(exc)}", EXIT_REFUSED
    if isinstance(exc, ProblemError):  # what the API would answer with a problem
        status = EXIT_REFUSED if isinstance(exc, Unprocessable) else EXIT_FAILED
        return str(exc.detail or exc.title), status
    if isinstance(exc, AlembicError):  # e.g. `db upgrade` to an unknown revision
        return str(exc), EXIT_REFUSED
    if isinstance(exc, DBAPIError):
        return f"database {_database()}: {exc.orig}", EXIT_FAILED
    if isinstance(exc, OSError) and exc.strerror:
        return (f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror), EXIT_FAILED
    return (
        f"{type(exc).__name__}: {exc} (this is a bug; {TRACEBACK_VARIABLE}=1 shows where)",
        EXIT_FAILED,
    )


def _database() -> str:
    try:
        return _redact(get_settings().database_url)
    except Exception:
        return "(DATABASE_URL)"


cli = typer.Typer(
    cls=OneLineErrors,
    name="conflictdb",
    help="conflictdb: a conflict-events API with source-level evidence.",
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
    pretty_exceptions_enable=False,
)

# How many rejected rows and conflicts the summary shows (the audit log keeps the counts).
SHOWN = 20


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", envvar="HOST", help="Address to bind."),
    port: int = typer.Option(8000, envvar="PORT", help="Port to bind."),
    workers: int = typer.Option(1, envvar="WEB_CONCURRENCY", help="uvicorn worker processes."),
) -> None:
    """Serve the API (migrating the database and loading the demo first, unless disabled).

    Example: conflictdb serve --port 8000
    """
    import uvicorn

    settings = get_settings()
    # Reach the database first: an unusable DATABASE_URL or a database that is down is one
    # line here, not a traceback from every worker's start-up.
    engine = _new_engine()
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
    err.print(f"conflictdb on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    err.print(f"database: {_redact(settings.database_url)}")
    from app.http.metrics import prepare_workers

    # Several workers answer /metrics in turn: each must report all of them (docs/scaling.md).
    metrics_dir = prepare_workers(workers)
    if metrics_dir is not None:
        err.print(f"metrics of the {workers} workers: {metrics_dir}")
    # The app writes its own access log (CONFLICTDB_ACCESS_LOG): uvicorn's would repeat it.
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
    )


# -- the schema --------------------------------------------------------------------------------

db_cli = typer.Typer(
    help="The database: its schema (Alembic migrations) and derived state.",
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
)
cli.add_typer(db_cli, name="db")


def _upgrade(revision: str) -> None:
    engine = _new_engine()
    try:
        db_migrate.upgrade(engine, revision)
    finally:
        engine.dispose()
    err.print(f"migrated to {revision}")


@db_cli.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Upgrade the schema of the database in DATABASE_URL (alembic upgrade).

    Example: conflictdb db upgrade
    """
    _upgrade(revision)


@db_cli.command("rebuild-derived")
def db_rebuild_derived() -> None:
    """Recompute all derived state from the stored data: what events keep from their evidence
    and claims (counts, headline figures, disputed: after a change of
    CONFLICTDB_DISPUTE_THRESHOLD too), rollups, search documents, and one change-feed entry
    per event under a new data version (after a fix made outside the API).

    Example: conflictdb db rebuild-derived
    """
    engine = _engine()
    try:
        events = rebuild_derived(engine)
    finally:
        engine.dispose()
    err.print(f"rebuilt the rollups, search documents and change feed of {events} events")


def rebuild_derived(engine: Engine) -> int:
    """Derive everything again, in one write transaction, with the app's derived-state code
    (``app.derived.hooks.rebuild``), recorded in the audit log. Returns the number of events."""
    from sqlalchemy import select

    from app import writer
    from app.auth import service as auth_service
    from app.derived import hooks
    from app.models import Event
    from app.writer.revisions import record_revisions
    from app.writer.versions import bump

    def work(session: Session) -> int:
        principal = auth_service.local_principal(session)
        # What the writer keeps on events from their evidence and claims (a changed dispute
        # threshold re-marks every event): headline figures that move get a revision.
        ids = list(session.scalars(select(Event.id).order_by(Event.id)))
        figures = writer.refresh_evidence(session, ids)
        bump(session, Event, figures)
        record_revisions(
            session,
            [(eid, "rebuild", changes) for eid, changes in sorted(figures.items())],
            principal,
        )
        events = hooks.rebuild(session)
        writer.audit(
            session,
            "derived.rebuild",
            api_key_id=principal,
            detail={"events": events, "figures_changed": sorted(figures)},
        )
        return events

    return writer.write_transaction(engine, work)


@db_cli.command("backup")
def db_backup(
    file: Path = typer.Argument(..., help="Where to write the backup.", dir_okay=False),
) -> None:
    """A consistent copy of the database, taken while the server keeps serving and writing:
    SQLite's online backup (a SQLite file), or pg_dump's custom format on PostgreSQL.

    Example: conflictdb db backup backups/conflictdb-$(date +%F).backup
    """
    from app.db import backup

    engine = create_db_engine(get_settings().database_url)
    try:
        backup.backup(engine, file)
    except backup.BackupError as exc:
        _line(f"backup failed: {exc}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    err.print(f"backed up {_redact(get_settings().database_url)} to {file}")


@db_cli.command("restore")
def db_restore(
    file: Path = typer.Argument(..., help="A backup made by `conflictdb db backup`."),
    overwrite: bool = typer.Option(
        False, "--replace", help="Replace the contents of a database that holds data."
    ),
) -> None:
    """Bring a backup back into the database in DATABASE_URL, which must be empty unless
    --replace; stop the servers that use it first. The restored database is checked.

    Example: conflictdb db restore backups/conflictdb-2026-12-07.backup
    """
    from app.db import backup

    engine = create_db_engine(get_settings().database_url)
    try:
        backup.restore(engine, file, replace=overwrite)
        # A backup of an earlier release comes up to this release's schema.
        db_migrate.upgrade(engine)
        problems = backup.integrity_problems(engine)
    except backup.BackupError as exc:
        _line(f"restore failed: {exc}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if problems:
        _line(f"restored, but the integrity check found: {'; '.join(problems[:5])}")
        raise typer.Exit(1)
    err.print(f"restored {file} into {_redact(get_settings().database_url)}")


@cli.command()
def migrate(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Upgrade the database schema: the same as `conflictdb db upgrade`.

    Example: conflictdb migrate
    """
    _upgrade(revision)


# -- API keys ----------------------------------------------------------------------------------

keys_cli = typer.Typer(help="Manage API keys.", no_args_is_help=True, rich_markup_mode=MARKUP)
cli.add_typer(keys_cli, name="keys")


@keys_cli.command("create")
def keys_create(
    name: str = typer.Option(..., "--name", help="Who or what uses the key."),
    scope: list[str] = typer.Option(
        ["write"],
        "--scope",
        help="read; ingest (post reports, create entities); curate (edit, retract, merge, "
        "delete); write (ingest and curate); admin. Repeat for several.",
    ),
    expires_in_days: float | None = typer.Option(
        None,
        "--expires-in-days",
        min=0,
        max=36_500,
        help="Expire the key after this many days (at most 100 years).",
    ),
) -> None:
    """Create a key and print it, alone, on standard output (it is shown only once).

    Example: KEY=$(conflictdb keys create --scope write --name ucdp-importer)
    """
    from datetime import timedelta

    from app.auth import service
    from app.db.base import utcnow
    from app.writer.transaction import write_transaction

    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days is not None else None
    engine = _engine()
    try:

        def work(session: Session) -> tuple[str, Any]:
            principal = service.local_principal(session)
            return service.create_key(
                session, name=name, scopes=scope, expires_at=expires, created_by=principal
            )

        key, record = write_transaction(engine, work)
    finally:
        engine.dispose()
    err.print(f"created key {record['id']} ({record['prefix']}…) with scopes {record['scopes']}")
    typer.echo(key)


@keys_cli.command("list")
def keys_list() -> None:
    """List keys: id, prefix, name, scopes, dates (never the keys themselves).

    Example: conflictdb keys list
    """
    from rich.table import Table

    from app.auth import repository
    from app.db.session import read_session

    engine = _engine()
    try:
        with read_session(engine) as session:
            rows = repository.list_keys(session)
    finally:
        engine.dispose()
    # At any width every cell is shown whole: the prefix on one line (it is what `keys
    # revoke` takes), the rest wrapped or folded, never cut short with an ellipsis.
    width = max([len("prefix"), *(len(r["prefix"]) for r in rows)])
    table = Table(show_lines=False)
    table.add_column("id", no_wrap=True, overflow="fold")
    table.add_column("prefix", no_wrap=True, min_width=width)
    for header in ("name", "scopes", "created (UTC)", "expires", "revoked", "last used"):
        table.add_column(header, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["prefix"],
            r["name"],
            r["scopes"],
            *(_when(r[c]) for c in ("created_at", "expires_at", "revoked_at", "last_used_at")),
        )
    Console().print(table)


def _when(moment: datetime | None) -> str:
    """A key's date to the minute, in UTC (the column says so): short enough for a table."""
    if moment is None:
        return "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


@keys_cli.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="The key's id or prefix (cdb_xxxxxxxx)."),
) -> None:
    """Revoke a key: it stops working at once.

    Example: conflictdb keys revoke cdb_1a2b3c4d
    """
    from app.auth import repository, service
    from app.writer.transaction import write_transaction

    def work(session: Session) -> Any:
        record = repository.key_by_prefix(session, key) if not key.isdigit() else None
        key_id = int(key) if key.isdigit() else (record["id"] if record else None)
        if key_id is None:
            raise CommandError(f"no key {key!r}")
        principal = service.local_principal(session)
        return service.revoke_key(session, key_id, revoked_by=principal)

    engine = _engine()
    try:
        revoked = write_transaction(engine, work)
    finally:
        engine.dispose()
    err.print(f"revoked key {revoked['id']} ({revoked['prefix']}…) at {revoked['revoked_at']}")


def _new_engine() -> Engine:
    """An engine for DATABASE_URL. A URL SQLAlchemy cannot use (unparsable, an unknown
    database or driver) is the user's to fix: one line naming the variable, not the URL,
    which may hold a password."""
    url = get_settings().database_url
    try:
        return create_db_engine(url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise CommandError(
            f"DATABASE_URL: {exc}; it takes sqlite:///path/to/file.sqlite3 or "
            "postgresql+psycopg://user:password@host/database",
            EXIT_REFUSED,
        ) from exc


def _engine() -> Engine:
    """An engine for DATABASE_URL, its schema migrated to the head revision."""
    engine = _new_engine()
    try:
        db_migrate.upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


@cli.command("load-demo")
def load_demo() -> None:
    """Ingest the demo report (Syria Direct, East Qalamoun, 18 April 2018).

    Example: conflictdb load-demo
    """
    from app.demo import load_demo as _load

    engine = _new_engine()
    try:
        db_migrate.upgrade(engine)
        outcome = _load(engine)
    finally:
        engine.dispose()
    err.print("stored" if outcome.status == 201 else "already present", outcome.body["events"])


# -- imports -----------------------------------------------------------------------------------

import_cli = typer.Typer(
    help=(
        "Bulk imports: UCDP GED and ACLED files, and report documents (JSON Lines). "
        "Re-importing a file is safe: unchanged rows are skipped."
    ),
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
)
cli.add_typer(import_cli, name="import")

FileArgument = typer.Argument(
    ..., exists=True, dir_okay=False, readable=True, help="The file to import."
)
StrictOption = typer.Option(
    False,
    "--strict",
    help="One transaction for the whole file: any bad row and nothing is written.",
)
PruneOption = typer.Option(
    False,
    "--prune",
    help="Retract (never delete) this dataset's events the file no longer contains.",
)
BatchSizeOption = typer.Option(
    2000, "--batch-size", min=1, help="Rows per transaction (and per set-based insert)."
)


class _CountingReader(io.RawIOBase):
    """Counts the bytes read from the file, for a progress bar by position in the file."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return int(n or 0)


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar (rows, rows/s, ETA by position in the file) when standard error is a
    terminal; None when it is piped or redirected, so logs stay clean."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:>12,} rows"),
        TextColumn("{task.fields[rate]:>8,.0f} rows/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
    ) as bar:
        task = bar.add_task(label, total=max(total, 1), rows=0, rate=0.0)
        started = time.monotonic()

        def update(rows: int, position: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=position, rows=rows, rate=rows / elapsed)

        yield update


def _principal(engine: Engine) -> int:
    from app.auth import service as auth_service
    from app.writer.transaction import write_transaction

    return write_transaction(engine, auth_service.local_principal)


def _line(text: str) -> None:
    """Data on standard error, never read as rich markup (reasons quote the file's text)."""
    err.print(text, markup=False, highlight=False, soft_wrap=True)


def _print_summary(summary: Any, file: Path, elapsed: float) -> None:
    label = f"{summary.dataset} {summary.version or ''}".strip()
    rate = summary.rows / elapsed if elapsed > 0 else 0.0
    _line(f"{label} ({file.name}): {summary.rows:,} rows in {elapsed:,.1f} s ({rate:,.0f} rows/s)")
    _line(
        f"created {summary.created:,}, updated {summary.updated:,}, "
        f"unchanged {summary.unchanged:,}, conflicts {summary.conflict_count:,}, "
        f"rejected {summary.rejected_count:,}, retracted {summary.retracted:,}"
    )
    if summary.rejected:
        _line(
            f"rejected (first {min(SHOWN, summary.rejected_count)} of {summary.rejected_count:,}):"
        )
        for error in summary.rejected[:SHOWN]:
            _line(f"  line {error.line}: {error.reason}")
    if summary.conflicts:
        _line(
            f"conflicts (first {min(SHOWN, summary.conflict_count)} of {summary.conflict_count:,}):"
        )
        for c in summary.conflicts[:SHOWN]:
            where = f"line {c.line}" if c.line is not None else "not in the file"
            _line(f"  {where}, id {c.external_id} (event {c.event_id}): {c.reason}")
    for note in summary.notes:
        _line(f"note: {note}")


def _import_dataset(
    file: Path,
    parse: Callable[[IO[str]], Any],
    dataset: Any,
    *,
    strict: bool,
    prune: bool,
    batch_size: int,
) -> None:
    from app.datasets import loader
    from app.db import dialect
    from app.formats.csvfile import LayoutError

    engine = _engine()
    started = time.monotonic()
    try:
        principal = _principal(engine)
        with (
            file.open("rb") as raw,
            _progress(file.stat().st_size, f"{dataset.name} {dataset.version or ''}") as update,
        ):
            counter = _CountingReader(raw)
            text = io.TextIOWrapper(
                io.BufferedReader(counter, 1 << 16), encoding="utf-8", newline=""
            )
            progress = (lambda rows: update(rows, counter.count)) if update else None
            try:
                summary = loader.import_records(
                    engine,
                    parse(text),
                    dataset,
                    strict=strict,
                    prune=prune,
                    batch_size=batch_size,
                    principal_id=principal,
                    progress=progress,
                    source=file.name,
                )
            except (LayoutError, ValueError) as exc:
                raise CommandError(f"{file.name}: {exc}", EXIT_REFUSED) from None
            except loader.ImportAborted as exc:
                _print_summary(exc.summary, file, time.monotonic() - started)
                _line(f"aborted: {exc.cause}")
                raise typer.Exit(1) from None
        # The planner's statistics, for the data just loaded (SQLite has none otherwise).
        dialect.refresh_statistics(engine, full=True)
    finally:
        engine.dispose()
    _print_summary(summary, file, time.monotonic() - started)
    if summary.aborted:
        raise typer.Exit(1)


@import_cli.command("ucdp")
def import_ucdp(
    file: Path = FileArgument,
    version: str | None = typer.Option(
        None,
        "--version",
        help="The GED release, e.g. 23.1. Default: read from the file name (GEDEvent_v23_1.csv).",
    ),
    strict: bool = StrictOption,
    prune: bool = PruneOption,
    batch_size: int = BatchSizeOption,
) -> None:
    """Import a UCDP GED CSV file (GED's own 49-column layout).

    Each row becomes an event with its place hierarchy, its two sides and its sources, and
    keeps its GED id, release and original values (shown as the event's provenance).
    Importing again skips unchanged rows and updates changed ones, except events edited
    through the API since: those are reported as conflicts and keep the edit. Bad rows are
    reported by line and the rest load.

    Example: conflictdb import ucdp GEDEvent_v23_1.csv --prune
    """
    from app.datasets import ucdp
    from app.formats.records import UCDP_GED

    release = version or ucdp.version_from_filename(file.name)
    if release is None:
        raise CommandError(
            f"{file.name}: the GED release is not in the file name; give it with --version",
            EXIT_REFUSED,
        )
    _import_dataset(
        file,
        lambda text: ucdp.parse_rows(text, release),
        replace(UCDP_GED, version=release),
        strict=strict,
        prune=prune,
        batch_size=batch_size,
    )


@import_cli.command("acled")
def import_acled(
    file: Path = FileArgument,
    version: str | None = typer.Option(
        None,
        "--version",
        help="ACLED files carry no version: the download date, e.g. 2024-05-01, if it matters.",
    ),
    strict: bool = StrictOption,
    prune: bool = PruneOption,
    batch_size: int = BatchSizeOption,
) -> None:
    """Import an ACLED CSV export (the codebook's columns; `conflictdb export --format acled-csv` writes it too).

    Each row becomes an event with its places, its actors (actor1/2 and the associated
    actors) and its sources' outlets, and keeps its ACLED id and original values.
    Importing again skips unchanged rows and updates changed ones, except events edited
    through the API since: those are reported as conflicts and keep the edit.

    Example: conflictdb import acled 2024-05-01-Syria.csv --version 2024-05-01
    """
    from app.formats import acled
    from app.formats.records import ACLED

    _import_dataset(
        file,
        lambda text: acled.parse_rows(text, version),
        replace(ACLED, version=version),
        strict=strict,
        prune=prune,
        batch_size=batch_size,
    )


@import_cli.command("reports")
def import_reports(file: Path = FileArgument, strict: bool = StrictOption) -> None:
    """Ingest report documents from a JSON Lines file: one report a line.

    Each line is the document `POST /v1/reports` takes, and goes through the same pipeline,
    each report in its own transaction. A report already stored identically is skipped;
    lines that fail are reported with their line number and the rest load. With --strict the
    whole file is one transaction: any bad line (all are listed) and nothing is written.

    Example: conflictdb import reports --strict reports.jsonl
    """
    from app.reports import files as reports
    from app.reports import service as report_service

    engine = _engine()
    started = time.monotonic()
    try:
        principal = _principal(engine)
        with file.open("rb") as raw, _progress(file.stat().st_size, "reports") as update:
            progress = (lambda n: update(n, raw.tell())) if update else None
            summary = reports.import_reports(
                engine,
                raw,
                principal_id=principal,
                progress=progress,
                strict=strict,
                limits=report_service.limits_of(get_settings()),
            )
    finally:
        engine.dispose()
    elapsed = time.monotonic() - started
    _line(f"reports ({file.name}): {summary.lines:,} lines in {elapsed:,.1f} s")
    _line(
        f"created {summary.created:,}, unchanged {summary.unchanged:,}, "
        f"rejected {summary.rejected_count:,}"
    )
    if summary.rejected:
        _line(
            f"rejected (first {min(SHOWN, summary.rejected_count)} of {summary.rejected_count:,}):"
        )
        for error in summary.rejected[:SHOWN]:
            _line(f"  line {error.line}: {error.reason}")
    if summary.aborted:
        _line("aborted (--strict): nothing was written")
        raise typer.Exit(1)


# -- drafts ------------------------------------------------------------------------------------


@cli.command("draft")
def draft(
    file: str = typer.Argument(..., help="The article's text (UTF-8); - is stdin."),
    published: str = typer.Option(
        ..., "--date", help="The article's date, YYYY-MM-DD: weekdays are resolved against it."
    ),
    outlet: str = typer.Option(..., "--outlet", help="The outlet's name."),
    title: str | None = typer.Option(None, "--title", help="The article's title."),
    url: str | None = typer.Option(None, "--url", help="The article's URL."),
) -> None:
    """Draft a report from a news text: prints the JSON POST /v1/drafts answers.

    The draft is what `POST /v1/reports` takes, plus `annotations` explaining each proposal.
    Nothing is written to the database.

    Example: conflictdb draft article.txt --date 2018-04-18 --outlet "Syria Direct"
    """
    import orjson

    from app.core import bodies
    from app.drafts import service as draft_service
    from app.drafts.schemas import DraftCreate

    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise CommandError(f"{file}: {reason}", EXIT_REFUSED) from None
    body = {"text": text, "published_date": published, "outlet": outlet}
    if title is not None:
        body["title"] = title
    if url is not None:
        body["url"] = url
    request = bodies.validate_json(DraftCreate, orjson.dumps(body))
    engine = _engine()
    try:
        result = draft_service.draft(engine, request)
    finally:
        engine.dispose()
    sys.stdout.write(orjson.dumps(result.body, option=orjson.OPT_INDENT_2).decode() + "\n")


# -- exports -----------------------------------------------------------------------------------


class ExportFormat(StrEnum):
    csv = "csv"
    acled_csv = "acled-csv"
    geojson = "geojson"
    ndjson = "ndjson"


@cli.command("export")
def export(
    format: ExportFormat = typer.Option(
        ExportFormat.csv,
        "--format",
        "-f",
        help="csv (flat, ACLED-like names), acled-csv (ACLED's layout), geojson or ndjson.",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file instead of standard output."
    ),
    sort: str = typer.Option(
        "id", "--sort", help="A sort of GET /v1/events: id, -date_start, fatalities_best ..."
    ),
    date_from: datetime | None = typer.Option(
        None, "--date-from", formats=["%Y-%m-%d"], help="Events starting on or after this day."
    ),
    date_to: datetime | None = typer.Option(
        None, "--date-to", formats=["%Y-%m-%d"], help="Events starting on or before this day."
    ),
    event_type: list[str] = typer.Option(
        [], "--event-type", help="ACLED event type; repeat for any of several."
    ),
    sub_event_type: list[str] = typer.Option(
        [], "--sub-event-type", help="ACLED sub-event type; repeat for any of several."
    ),
    place: int | None = typer.Option(
        None, "--place", min=1, help="Place id: events there or anywhere inside it."
    ),
    country: str | None = typer.Option(
        None, "--country", help="ISO 3166-1 alpha-2 code of the events' country, e.g. SY."
    ),
    bbox: str | None = typer.Option(
        None, "--bbox", help="minlon,minlat,maxlon,maxlat: events whose place is inside."
    ),
    near: str | None = typer.Option(
        None, "--near", help="lat,lon,km: events whose place is within km of the point."
    ),
    actor: int | None = typer.Option(None, "--actor", min=1, help="Actor id taking part."),
    include_affiliates: bool = typer.Option(
        False, "--include-affiliates", help="With --actor: also its affiliated actors' events."
    ),
    side: str | None = typer.Option(None, "--side", help="With --actor: its side, a or b."),
    outlet: int | None = typer.Option(
        None, "--outlet", min=1, help="Outlet id: events reported by one of its articles."
    ),
    fatalities_min: int | None = typer.Option(
        None, "--fatalities-min", min=0, help="Best fatality estimate at least this."
    ),
    fatalities_max: int | None = typer.Option(
        None, "--fatalities-max", min=0, help="Best fatality estimate at most this."
    ),
    geo_precision: list[int] = typer.Option(
        [], "--geo-precision", help="Geographic precision 1, 2 or 3; repeat for any of several."
    ),
    updated_since: str | None = typer.Option(
        None, "--updated-since", help="Events changed since, e.g. 2024-05-01T00:00:00Z."
    ),
    q: str | None = typer.Option(
        None, "--q", help="Full-text search over summaries, quotes and article titles."
    ),
    include_retracted: bool = typer.Option(
        False, "--include-retracted", help="Also export retracted events."
    ),
    # -- issue 12
    dimension: list[str] = typer.Option(
        [],
        "--dimension",
        help="A dataset's code, scheme:code (ucdp.type_of_violence:2); repeatable.",
    ),
    interaction: list[str] = typer.Option(
        [], "--interaction", help="ACLED's interaction code of the two sides (12); repeatable."
    ),
    actor_kind: list[str] = typer.Option(
        [], "--actor-kind", help="An actor of this kind takes part (rebel_group); repeatable."
    ),
    date_precision: list[str] = typer.Option(
        [], "--date-precision", help="day, week, month or year; repeatable."
    ),
    date_overlap: bool = typer.Option(
        False,
        "--date-overlap",
        help="With --date-from/--date-to: events whose date range overlaps, not only starts in it.",
    ),
    sources_min: int | None = typer.Option(
        None, "--sources-min", help="Events reported by at least this many articles (0: all)."
    ),
    outlets_min: int | None = typer.Option(
        None, "--outlets-min", help="Events reported by at least this many distinct outlets."
    ),
    disputed: bool | None = typer.Option(
        None, "--disputed/--undisputed", help="Only events whose sources disagree (or not)."
    ),
    evidence: list[str] = typer.Option(
        [], "--evidence", help="quotes, dataset or none; repeat for any of several."
    ),
    incident: int | None = typer.Option(
        None, "--incident", min=1, help="Incident id: the events linked as that incident."
    ),
    count_unit: str | None = typer.Option(
        None, "--count", help="events (default) or incidents: an incident once, as its lead record."
    ),
) -> None:
    """Export events, streamed in pages (constant memory), to standard output or a file.

    The filters are GET /v1/events's, with the same meaning. With --output the file appears
    only once complete.

    Example: conflictdb export --format geojson --country SY --date-from 2017-01-01 --date-to 2017-12-31 -o syria-2017.geojson
    """
    from pydantic import ValidationError

    from app.core.errors import ProblemError
    from app.events import repository as event_repository
    from app.events import streams
    from app.events.schemas import SORT_KEYS, EventListQuery
    from app.vocabulary import service as vocabulary_service

    if sort not in SORT_KEYS:
        raise CommandError(f"--sort {sort!r}: one of {', '.join(SORT_KEYS)}", EXIT_REFUSED)
    given = {
        "date_from": date_from.date() if date_from else None,
        "date_to": date_to.date() if date_to else None,
        "event_type": event_type or None,
        "sub_event_type": sub_event_type or None,
        "place": place,
        "country": country,
        "bbox": bbox,
        "near": near,
        "actor": actor,
        "include_affiliates": include_affiliates or None,
        "side": side,
        "outlet": outlet,
        "fatalities_min": fatalities_min,
        "fatalities_max": fatalities_max,
        "geo_precision": geo_precision or None,
        "updated_since": updated_since,
        "q": q,
        "include_retracted": include_retracted,
        "dimension": dimension or None,
        "interaction": interaction or None,
        "actor_kind": actor_kind or None,
        "date_precision": date_precision or None,
        "date_overlap": date_overlap or None,
        "sources_min": sources_min,
        "outlets_min": outlets_min,
        "disputed": disputed,
        "evidence": evidence or None,
        "incident": incident,
        "count": count_unit,
    }
    try:
        # Only the options given, so the model validates exactly what the user wrote.
        query = EventListQuery(**{k: v for k, v in given.items() if v is not None}, sort=sort)
        # A bad --q is refused before any output (--dimension's codes, read from the
        # database, are checked below).
        event_repository.filter_clauses(query.model_copy(update={"dimension": None}))
    except ValidationError as exc:
        raise CommandError(
            _option_errors((e["loc"], e["msg"]) for e in exc.errors()), EXIT_REFUSED
        ) from None
    except ProblemError as exc:
        raise CommandError(str(exc.detail), EXIT_REFUSED) from None
    engine = _engine()
    try:
        # The terms (--event-type ...) against the database's vocabularies, as the API does;
        # then the datasets the export holds (a --dimension code that does not exist is
        # refused there), whose licence and citation are said at the end.
        vocabulary_service.check_filters(engine, query)
        terms = streams.datasets(engine, query)
    except ProblemError as exc:
        engine.dispose()
        # Located as query parameters: ["query", "event_type", 0].
        raise CommandError(
            _option_errors((e["loc"][1:], e["msg"]) for e in exc.extra.get("errors", [])),
            EXIT_REFUSED,
        ) from None
    count = 0

    def counted(rows: int) -> None:
        nonlocal count
        count += rows

    def write(out: IO[str]) -> None:
        # The API's streams: the same shape as GET /v1/events?format=... with these filters.
        for chunk in streams.stream(engine, query, format.value, on_rows=counted):
            out.write(chunk.decode())

    try:
        if output is None:
            try:
                write(sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:
                # The reader went away (`| head`): stop quietly, as Unix tools do, and keep
                # Python from complaining about the closed pipe at exit.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(1) from None
        else:
            # Written aside and renamed when complete: a failed export leaves no half file.
            partial = output.with_name(output.name + ".part")
            try:
                with partial.open("w", encoding="utf-8", newline="") as out:
                    write(out)
                partial.replace(output)
            finally:
                partial.unlink(missing_ok=True)
    finally:
        engine.dispose()
    _line(f"exported {count:,} events as {format.value}" + (f" to {output}" if output else ""))
    for dataset in terms:
        # Issue 12: the terms of every dataset in the file, which its users must keep.
        _line(
            f"contains {dataset['name']} data; licence: {dataset['licence'] or 'not recorded'}"
            + (f"; cite: {dataset['citation']}" if dataset["citation"] else "")
        )


# -- incidents ---------------------------------------------------------------------------------


class ReportFormat(StrEnum):
    csv = "csv"
    ndjson = "ndjson"


@cli.command("reconcile")
def reconcile(
    side_a: str = typer.Argument(..., help="One side: dataset:<name> or outlet:<id or name>."),
    side_b: str = typer.Argument(..., help="The other side, likewise."),
    km: float = typer.Option(50.0, "--km", help="Candidates within this many km (0-500]."),
    days: int = typer.Option(7, "--days", help="Candidates within this many days (0-60)."),
    threshold: float = typer.Option(
        matching.DEFAULT_THRESHOLD,
        "--threshold",
        help="Propose (and with --apply, link) pairs of at least this confidence (0-1).",
    ),
    apply: bool = typer.Option(False, "--apply", help="Link the proposed pairs as incidents."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the proposals here (default: standard output)."
    ),
    format: ReportFormat = typer.Option(ReportFormat.csv, "--format", help="csv or ndjson."),
) -> None:
    """Propose links between the events of two datasets or outlets that likely describe the
    same incidents, one to one, most confident first, each with its reasons.

    Each candidate pair has GET /v1/events/{id}/similar's score (distance, days, type,
    actors however spelled, fatalities); its confidence weighs it against the other
    candidates of either event (an event describes at most one incident of the other side).
    Pairs linked already are left out. With --apply the proposed pairs are linked (POST
    /v1/incidents's writer), in transactions of 500 pairs, as the command line's principal.

    Example: conflictdb reconcile dataset:acled dataset:ucdp-ged --threshold 0.8 -o links.csv
    """
    import orjson

    from app.db.session import read_session
    from app.incidents import service as incident_service

    if not 0 < km <= matching.MAX_KM:
        raise CommandError(
            f"--km {km:g}: more than 0 and at most {matching.MAX_KM:g}", EXIT_REFUSED
        )
    if not 0 <= days <= matching.MAX_DAYS:
        raise CommandError(f"--days {days}: 0 to {matching.MAX_DAYS}", EXIT_REFUSED)
    if not 0 <= threshold <= 1:
        raise CommandError(f"--threshold {threshold:g}: 0 to 1", EXIT_REFUSED)
    engine = _engine()
    started = time.monotonic()
    try:
        with read_session(engine) as session:
            try:
                a = incident_service.side(session, side_a)
                b = incident_service.side(session, side_b)
                matches, count_a, count_b = incident_service.proposals(
                    session, a, b, matching.Settings(km=km, days=days), threshold
                )
            except incident_service.BadSide as exc:
                raise CommandError(str(exc), EXIT_REFUSED) from None
        elapsed = time.monotonic() - started

        def write(out: IO[str]) -> None:
            if format is ReportFormat.csv:
                from app.formats.csvfile import write_rows

                header = [side_a, side_b, "confidence", "score", "km", "days", "reasons"]
                rows = (
                    [m.a, m.b, m.confidence, m.score, m.km, m.days, "; ".join(m.reasons)]
                    for m in matches
                )
                for chunk in write_rows(itertools.chain([header], rows)):
                    out.write(chunk)
                return
            for m in matches:
                out.write(
                    orjson.dumps(
                        {
                            "a": m.a,
                            "b": m.b,
                            "confidence": m.confidence,
                            "score": m.score,
                            "km": m.km,
                            "days": m.days,
                            "reasons": list(m.reasons),
                        }
                    ).decode()
                    + "\n"
                )

        if output is None:
            write(sys.stdout)
            sys.stdout.flush()
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                write(out)
        _line(
            f"{len(matches):,} pairs proposed between {side_a} ({count_a:,} events) and "
            f"{side_b} ({count_b:,} events) at threshold {threshold:g} in {elapsed:,.1f} s"
        )
        if apply:
            linked, skipped = incident_service.apply_links(engine, matches, _principal(engine))
            _line(f"linked {linked:,} pairs as incidents; skipped {skipped:,} (linked meanwhile)")
    finally:
        engine.dispose()


def _option_errors(errors: Iterable[tuple[Sequence[Any], str]]) -> str:
    """The errors (location, message) on one line, each under the option it is about:
    ``--event-type: unknown event type ...``."""
    return "; ".join(
        f"--{str(loc[0]).replace('_', '-') if loc else 'options'}: {msg}" for loc, msg in errors
    )


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
