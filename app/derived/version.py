"""The data version: a counter every committed write of data advances, in commit order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core.errors import ServiceUnavailable
from app.models import DataVersion

T = TypeVar("T")


def read_version(engine: Engine) -> int:
    """The data version, read on its own: one statement, no transaction around it (a BEGIN,
    SELECT and COMMIT cost three round trips to PostgreSQL; this costs one). Versions are
    handed out in commit order, so any committed value is a consistent one."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return int(conn.execute(_VERSION).scalar_one())


def current_version(session: Session) -> int:
    """The data version readers see: it changes with every committed write of data."""
    return int(session.connection().execute(_VERSION).scalar_one())


# Built once, run as Core: most requests read it, and every write's commit.
_VERSION = select(DataVersion.version).where(DataVersion.id == 1)


def at_one_version(session: Session, read: Callable[[], T], attempts: int = 5) -> tuple[T, int]:
    """``read()`` and the exact data version it reflects (a record's detail: issue 12).

    The version is read before and after: every write of data advances it in the transaction
    that writes, so when both reads agree, no write committed in between and every statement
    of ``read`` saw the data at that version. When writes keep landing in between, the read
    is tried again, and after ``attempts`` a 503 says to retry rather than name a version the
    answer may not be. In a ``read_session`` (one snapshot on both databases: REPEATABLE READ
    on PostgreSQL, a read transaction on SQLite) the two reads always agree; the second one
    guards a session without a snapshot, at the price of one statement a detail.
    """
    for _ in range(attempts):
        before = current_version(session)
        value = read()
        after = current_version(session)
        if before == after:
            return value, after
    raise ServiceUnavailable(
        "Writes kept landing while the record was read; retry.", headers={"Retry-After": "1"}
    )
