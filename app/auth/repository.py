"""All SQL for API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import ApiKey

COLUMNS = (
    ApiKey.id,
    ApiKey.name,
    ApiKey.kind,
    ApiKey.prefix,
    ApiKey.scopes,
    ApiKey.created_at,
    ApiKey.expires_at,
    ApiKey.revoked_at,
    ApiKey.last_used_at,
)


class ApiKeyRow(TypedDict):
    """A row of ``COLUMNS``."""

    id: int
    name: str
    kind: str
    prefix: str
    scopes: str  # space-separated
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def key_by_hash(session: Session, key_sha256: str) -> ApiKeyRow | None:
    row = (
        session.execute(select(*COLUMNS).where(ApiKey.key_sha256 == key_sha256)).mappings().first()
    )
    return cast(ApiKeyRow, dict(row)) if row else None


def touch(session: Session, key_id: int, now: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def list_keys(session: Session, include_revoked: bool = True) -> list[dict[str, Any]]:
    # Rows of COLUMNS too, but plain dicts: only the keys router and the command line read
    # them, the latter by computed column names (which a TypedDict refuses).
    stmt = select(*COLUMNS).where(ApiKey.kind == "key").order_by(ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return [dict(r) for r in session.execute(stmt).mappings()]


def get_key(session: Session, key_id: int) -> ApiKeyRow | None:
    row = session.execute(select(*COLUMNS).where(ApiKey.id == key_id)).mappings().first()
    return cast(ApiKeyRow, dict(row)) if row else None


def key_by_prefix(session: Session, prefix: str) -> ApiKeyRow | None:
    row = session.execute(select(*COLUMNS).where(ApiKey.prefix == prefix)).mappings().first()
    return cast(ApiKeyRow, dict(row)) if row else None


def local_principal_id(session: Session, name: str) -> int | None:
    return session.execute(
        select(ApiKey.id).where(ApiKey.kind == "local", ApiKey.name == name)
    ).scalar()


def any_key(session: Session) -> bool:
    return (
        session.execute(select(ApiKey.id).where(ApiKey.kind == "key").limit(1)).first() is not None
    )
