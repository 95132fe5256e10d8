"""API keys, idempotency records, event revisions, the audit log (who wrote what, and when), and
the shared rate-limit buckets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class ApiKey(Base):
    """A client credential, stored only as the SHA-256 of the key, with a visible prefix.

    ``kind`` 'local' is the recorded principal of the command-line tools: it has no key.
    """

    __tablename__ = "api_key"
    __table_args__ = (
        CheckConstraint("kind IN ('key', 'local')", name="kind"),
        CheckConstraint("kind = 'local' OR key_sha256 IS NOT NULL", name="key_has_hash"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="key")
    prefix: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    key_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(
        String(100), nullable=False, comment="space-separated: read write admin"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdempotencyRecord(Base):
    """A POST's stored outcome under a client's Idempotency-Key, written with the POST's data."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(
        ForeignKey("api_key.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    request_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    response_status: Mapped[int] = mapped_column(nullable=False)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)


class EventRevision(Base):
    """One change to an event: who (key), when, and the before/after of each changed field."""

    __tablename__ = "event_revision"
    __table_args__ = (Index("ix_event_revision_event_id_id", "event_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), nullable=False
    )
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"), index=True)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class AuditEntry(Base):
    """An append-only record of every write and key event."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False, index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"), index=True)
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    entity: Mapped[str | None] = mapped_column(String(30))
    entity_id: Mapped[int | None] = mapped_column()
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RateLimitBucket(Base):
    """A token bucket shared by every process (``CONFLICTDB_RATE_LIMIT_STORE=database``):
    each request takes a token in one atomic upsert (``app.writer.ratelimits``). Not data: no
    data version, no history; a bucket idle long enough to be full again may be deleted."""

    __tablename__ = "rate_limit_bucket"
    bucket: Mapped[str] = mapped_column(
        String(200), primary_key=True, comment="key:<api key id> or addr:<client address>"
    )
    tokens: Mapped[float] = mapped_column(Double, nullable=False)
    refilled_at: Mapped[float] = mapped_column(
        Double, nullable=False, comment="the database clock, seconds since the Unix epoch"
    )
    allowed: Mapped[bool] = mapped_column(
        nullable=False, comment="whether the last request took a token"
    )
