"""Claims: each figure a source gives about an event, side by side with the others' figures.

A claim is one value of one field of one event (``fatalities_best``, ``deaths_civilians``, or a
measure such as 75 barrel bombs), stated by a source: an article (and through it an outlet),
optionally through one of its quotes; or a dataset's row; or a curator. The event's headline
figures follow its claims by one rule (``app.writer.claims``); claims are never edited: a
source's later claim supersedes its earlier one, and a curator may withdraw one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class Claim(Base):
    __tablename__ = "claim"
    __table_args__ = (
        CheckConstraint("origin IN ('source', 'dataset', 'curator')", name="origin"),
        CheckConstraint("origin <> 'source' OR article_id IS NOT NULL", name="source_has_article"),
        CheckConstraint(
            "origin <> 'dataset' OR dataset_id IS NOT NULL", name="dataset_claim_has_dataset"
        ),
        CheckConstraint("(field = 'measure') = (kind IS NOT NULL)", name="measure_has_kind"),
        CheckConstraint("field = 'measure' OR value IS NULL OR value >= 0", name="figure_sign"),
        Index("ix_claim_event_id_field", "event_id", "field"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), nullable=False
    )
    field: Mapped[str] = mapped_column(String(30), nullable=False)
    # A measure's kind ("barrel bombs"); null for the figure fields.
    kind: Mapped[str | None] = mapped_column(String(200))
    # Null: the source gives no number ("dozens of missiles"), or a curator says "unknown".
    value: Mapped[float | None] = mapped_column(Float)
    qualifier: Mapped[str | None] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(10), nullable=False)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), index=True
    )
    quote_id: Mapped[int | None] = mapped_column(
        ForeignKey("quote.id", ondelete="SET NULL"), index=True
    )
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
