"""The command-line entry point: ``conflictdb serve | migrate | load-demo``."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy import Engine

from app.config import get_settings
from app.db import migrate as db_migrate
from app.db.session import create_db_engine

cli = typer.Typer(
    help="conflictdb: a conflict-events API with source-level evidence.", no_args_is_help=True
)
err = Console(stderr=True)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", envvar="HOST", help="Address to bind."),
    port: int = typer.Option(8000, envvar="PORT", help="Port to bind."),
    workers: int = typer.Option(1, envvar="WEB_CONCURRENCY", help="uvicorn worker processes."),
) -> None:
    """Serve the API (migrating the database and loading the demo first, unless disabled)."""
    import uvicorn

    settings = get_settings()
    err.print(f"conflictdb on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    err.print(f"database: {_redact(settings.database_url)}")
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers)


@cli.command()
def migrate(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Upgrade the database schema (alembic upgrade)."""
    engine = create_db_engine(get_settings().database_url)
    try:
        db_migrate.upgrade(engine, revision)
    finally:
        engine.dispose()
    err.print(f"migrated to {revision}")


keys_cli = typer.Typer(help="Manage API keys.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


@keys_cli.command("create")
def keys_create(
    name: str = typer.Option(..., "--name", help="Who or what uses the key."),
    scope: list[str] = typer.Option(
        ["write"], "--scope", help="read, write or admin; repeat for several."
    ),
    expires_in_days: float | None = typer.Option(
        None, "--expires-in-days", help="Expire the key after this many days."
    ),
) -> None:
    """Create a key and print it, alone, on standard output (it is shown only once).

    Example: KEY=$(conflictdb keys create --scope write --name ucdp-importer)
    """
    from datetime import timedelta

    from app.auth import service
    from app.db.base import utcnow
    from app.db.session import write_session

    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    engine = _engine()
    try:
        with write_session(engine) as session:
            principal = service.local_principal(session)
            key, record = service.create_key(
                session, name=name, scopes=scope, expires_at=expires, created_by=principal
            )
    finally:
        engine.dispose()
    err.print(f"created key {record['id']} ({record['prefix']}…) with scopes {record['scopes']}")
    typer.echo(key)


@keys_cli.command("list")
def keys_list() -> None:
    """List keys: id, prefix, name, scopes, dates (never the keys themselves)."""
    from rich.table import Table

    from app.auth import repository
    from app.db.session import read_session

    engine = _engine()
    try:
        with read_session(engine) as session:
            rows = repository.list_keys(session)
    finally:
        engine.dispose()
    table = Table("id", "prefix", "name", "scopes", "created", "expires", "revoked", "last used")
    for r in rows:
        table.add_row(
            *(
                str(r[c]) if r[c] is not None else "-"
                for c in (
                    "id",
                    "prefix",
                    "name",
                    "scopes",
                    "created_at",
                    "expires_at",
                    "revoked_at",
                    "last_used_at",
                )
            )
        )
    Console().print(table)


@keys_cli.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="The key's id or prefix (cdb_xxxxxxxx)."),
) -> None:
    """Revoke a key: it stops working at once. Example: conflictdb keys revoke cdb_1a2b3c4d"""
    from app.auth import repository, service
    from app.db.session import write_session

    engine = _engine()
    try:
        with write_session(engine) as session:
            record = repository.key_by_prefix(session, key) if not key.isdigit() else None
            key_id = int(key) if key.isdigit() else (record["id"] if record else None)
            if key_id is None:
                err.print(f"no key {key!r}")
                raise typer.Exit(1)
            principal = service.local_principal(session)
            revoked = service.revoke_key(session, key_id, revoked_by=principal)
    finally:
        engine.dispose()
    err.print(f"revoked key {revoked['id']} ({revoked['prefix']}…) at {revoked['revoked_at']}")


def _engine() -> Engine:
    engine = create_db_engine(get_settings().database_url)
    db_migrate.upgrade(engine)
    return engine


@cli.command("load-demo")
def load_demo() -> None:
    """Ingest the demo report (Syria Direct, East Qalamoun, 18 April 2018)."""
    from app.demo import load_demo as _load

    engine = create_db_engine(get_settings().database_url)
    try:
        db_migrate.upgrade(engine)
        outcome = _load(engine)
    finally:
        engine.dispose()
    err.print("stored" if outcome.status == 201 else "already present", outcome.body["events"])


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
