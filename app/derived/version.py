"""The data version: a counter every committed write of data advances, in commit order."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models import DataVersion


def read_version(engine: Engine) -> int:
    """The data version, read on its own: one statement, no transaction around it (a BEGIN,
    SELECT and COMMIT cost three round trips to PostgreSQL; this costs one). Versions are
    handed out in commit order, so any committed value is a consistent one."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return int(
            conn.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar_one()
        )


def current_version(session: Session) -> int:
    """The data version readers see: it changes with every committed write of data."""
    return int(session.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar_one())
