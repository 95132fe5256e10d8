"""The command-line entry point: ``conflictdb serve | migrate | load-demo``."""

from __future__ import annotations

import typer
from rich.console import Console

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
