"""All SQL for idempotency records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.models import IdempotencyRecord


class IdempotencyRow(TypedDict):
    id: int
    method: str
    path: str
    request_sha256: str
    response_status: int
    response_body: Any  # the stored JSON response
    expires_at: datetime


def find(session: Session, api_key_id: int, key: str) -> IdempotencyRow | None:
    row = (
        session.execute(
            select(
                IdempotencyRecord.id,
                IdempotencyRecord.method,
                IdempotencyRecord.path,
                IdempotencyRecord.request_sha256,
                IdempotencyRecord.response_status,
                IdempotencyRecord.response_body,
                IdempotencyRecord.expires_at,
            ).where(IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)
        )
        .mappings()
        .first()
    )
    return cast(IdempotencyRow, dict(row)) if row else None


def insert_pending(
    session: Session,
    *,
    api_key_id: int,
    key: str,
    method: str,
    path: str,
    request_sha256: str,
    now: datetime,
    expires_at: datetime,
) -> int:
    """Claim the key first thing in the transaction: a concurrent twin blocks on its unique index."""
    return int(
        session.execute(
            insert(IdempotencyRecord)
            .values(
                api_key_id=api_key_id,
                key=key,
                method=method,
                path=path,
                request_sha256=request_sha256,
                response_status=0,
                response_body={},
                created_at=now,
                expires_at=expires_at,
            )
            .returning(IdempotencyRecord.id)
        ).scalar_one()
    )


def complete(session: Session, record_id: int, status: int, body: Any) -> None:
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(response_status=status, response_body=body)
    )


def delete_record(session: Session, record_id: int) -> None:
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def purge_expired(session: Session, now: datetime, limit: int = 1000) -> int:
    expired = select(IdempotencyRecord.id).where(IdempotencyRecord.expires_at <= now).limit(limit)
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(expired)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
