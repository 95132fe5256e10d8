"""Provenance of imported data: which dataset (UCDP GED, ACLED, ...) an event or actor came from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class Dataset(Base):
    """An external dataset we import from, with the licence and citation its users owe."""

    __tablename__ = "dataset"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    licence: Mapped[str | None] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))


class EventProvenance(Base):
    """The imported row behind an event: its dataset, id there, version, and original values.

    ``content_sha256`` tells a re-import whether the row changed; ``imported_version`` is the
    event's version right after the import, so an edit made through the API since is noticed.
    """

    __tablename__ = "event_provenance"
    __table_args__ = (UniqueConstraint("dataset_id", "external_id"),)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), nullable=False)
    external_id: Mapped[str] = mapped_column(String(200), nullable=False)
    dataset_version: Mapped[str | None] = mapped_column(String(50))
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    imported_version: Mapped[int] = mapped_column(nullable=False)
    original: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class ActorExternalId(Base):
    """An actor's id in an external dataset (UCDP's side ids), so re-imports find it."""

    __tablename__ = "actor_external_id"
    __table_args__ = (UniqueConstraint("dataset_id", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(
        ForeignKey("actor.id", ondelete="CASCADE"), nullable=False, index=True
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), nullable=False)
    external_id: Mapped[str] = mapped_column(String(200), nullable=False)
