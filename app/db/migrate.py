"""Run Alembic programmatically (app start-up, CLI, tests) against a given engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from app.db import dialect

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(connection: object | None = None) -> Config:
    ini = PROJECT_ROOT / "alembic.ini"
    cfg = Config(str(ini)) if ini.exists() else Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.connect() as conn, dialect.migration_transaction(conn):
        command.upgrade(alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.connect() as conn, dialect.migration_transaction(conn):
        command.downgrade(alembic_config(conn), revision)
