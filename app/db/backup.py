"""Backups that restore: a consistent copy of the database taken while the server keeps
serving and writing, and that copy brought back into an empty database.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database in one
  read transaction. Under WAL, writers go on meanwhile; the copy is the database as of the
  moment the read began, every transaction committed before it included, none half.
- PostgreSQL: ``pg_dump --format=custom``, which reads in one repeatable-read snapshot while
  the server goes on, and ``pg_restore --single-transaction`` (all or nothing). The binaries
  come from ``CONFLICTDB_PG_BIN``, the PATH, or the PostgreSQL server's directory.

A backup is a file of the same backend's kind: a SQLite backup restores into SQLite, a
PostgreSQL dump into PostgreSQL. ``restore`` refuses a database that holds data unless told
(``replace=True``), and checks the result (``PRAGMA integrity_check`` on SQLite).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

SQLITE_MAGIC: Final = b"SQLite format 3\x00"
PG_DUMP_MAGIC: Final = b"PGDMP"
# The tables that hold what clients wrote: a database with a row in none of them is empty
# (a migrated one has its vocabularies, seeded by the migrations, and nothing else).
_WRITTEN: Final = ("event", "article", "quote", "outlet", "actor", "place", "dataset", "api_key")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


def backup(engine: Engine, file: Path) -> None:
    """Write a consistent copy of the database to ``file`` (written aside, then renamed, so
    a failed backup leaves no partial file under that name)."""
    partial = file.with_name(file.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(engine, partial)
        else:
            _run(
                _password(engine),
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--file={partial}",
                f"--dbname={_libpq_url(engine)}",
            )
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)


def restore(engine: Engine, file: Path, *, replace: bool = False) -> None:
    """Bring the backup in ``file`` back into the database of ``engine``: an empty one, or
    (``replace``) one whose contents it replaces."""
    if not file.is_file():
        raise BackupError(f"{file}: no such backup file")
    with file.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    backend = engine.dialect.name
    if backend == "sqlite" and not head.startswith(SQLITE_MAGIC):
        raise BackupError(
            f"{file} is not a SQLite backup (a PostgreSQL dump restores into PostgreSQL)"
        )
    if backend != "sqlite" and not head.startswith(PG_DUMP_MAGIC):
        raise BackupError(f"{file} is not a PostgreSQL dump (pg_dump --format=custom)")
    if not replace and holds_data(engine):
        raise BackupError(
            "the database already holds data; restore into an empty one, or pass --replace "
            "to replace its contents with the backup"
        )
    if backend == "sqlite":
        _sqlite_restore(engine, file)
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()  # no pooled connection keeps the old schema's prepared statements
        _run(
            _password(engine),
            _pg_tool("pg_restore"),
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={_libpq_url(engine)}",
            str(file),
        )


def holds_data(engine: Engine) -> bool:
    """Whether the database holds anything clients wrote (a row in a ``_WRITTEN`` table)."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        for name in _WRITTEN:
            if name not in names:
                continue
            quoted = conn.dialect.identifier_preparer.quote(name)
            if conn.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first() is not None:
                return True
    return False


def integrity_problems(engine: Engine) -> list[str]:
    """What the database's own check finds wrong (SQLite's ``PRAGMA integrity_check`` and
    ``foreign_key_check``); PostgreSQL checks its pages as it reads them, so nothing here."""
    if engine.dialect.name != "sqlite":
        return []
    with engine.connect() as conn:
        found = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
        keys = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    problems = [p for p in found if p != "ok"]
    problems += [f"broken foreign key: {tuple(row)}" for row in keys]
    return problems


def _sqlite_path(engine: Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
    return database


def _sqlite_backup(engine: Engine, file: Path) -> None:
    source = sqlite3.connect(_sqlite_path(engine), timeout=30)
    try:
        target = sqlite3.connect(file)
        try:
            # All pages in one step: one read transaction, so the copy is one moment's.
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _sqlite_restore(engine: Engine, file: Path) -> None:
    engine.dispose()  # the pool's connections would otherwise see the old pages
    source = sqlite3.connect(file)
    try:
        problems = [r[0] for r in source.execute("PRAGMA integrity_check") if r[0] != "ok"]
        if problems:
            raise BackupError(f"{file} is damaged: {problems[0]}")
        target = sqlite3.connect(_sqlite_path(engine), timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _libpq_url(engine: Engine) -> str:
    """The engine's URL as libpq reads it (postgresql://..., no SQLAlchemy driver name), its
    password left out: ``_run`` passes it in the environment, never on a command line."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _password(engine: Engine) -> str | None:
    return make_url(engine.url.render_as_string(hide_password=False)).password


def _pg_tool(name: str) -> str:
    given = os.environ.get("CONFLICTDB_PG_BIN")
    if given and (Path(given) / name).is_file():
        return str(Path(given) / name)
    found = shutil.which(name)
    if found:
        return found
    for bin_dir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (bin_dir / name).is_file():
            return str(bin_dir / name)
    raise BackupError(
        f"{name} not found: install PostgreSQL's client tools or set CONFLICTDB_PG_BIN"
    )


def _run(password: str | None, *command: str) -> None:
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            f"{Path(command[0]).name} failed: {message[-1] if message else result.returncode}"
        )
