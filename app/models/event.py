"""Events and what ties them to actors and their evidence (articles and quotes); their claims
(figures and measures) are ``app.models.claim``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, TimestampMixin, UTCDateTime


class Event(TimestampMixin, Base):
    __tablename__ = "event"
    __table_args__ = (
        # The sub-type must belong to the type: enforced by a composite key on the lookup table.
        ForeignKeyConstraint(
            ["event_type", "sub_event_type"],
            ["sub_event_type.event_type", "sub_event_type.name"],
        ),
        CheckConstraint("date_end >= date_start", name="date_order"),
        CheckConstraint("geo_precision IN (1, 2, 3)", name="geo_precision"),
        # Sources publish low > best often enough that only the sign is enforced.
        CheckConstraint("fatalities_low >= 0", name="fatalities_low_non_negative"),
        CheckConstraint("fatalities_best >= 0", name="fatalities_best_non_negative"),
        CheckConstraint("fatalities_high >= 0", name="fatalities_high_non_negative"),
        # -- issue 12: fatalities by whom (UCDP's split), non-negative like the estimates.
        CheckConstraint("deaths_a >= 0", name="deaths_a_non_negative"),
        CheckConstraint("deaths_b >= 0", name="deaths_b_non_negative"),
        CheckConstraint("deaths_civilians >= 0", name="deaths_civilians_non_negative"),
        CheckConstraint("deaths_unknown >= 0", name="deaths_unknown_non_negative"),
        CheckConstraint("evidence IN ('quotes', 'dataset', 'none')", name="evidence"),
        Index("ix_event_date_start_id", "date_start", "id"),
        Index("ix_event_event_type_date_start", "event_type", "date_start"),
        # Place, country, bbox and near filters with a date range and the date sort.
        Index("ix_event_place_id_date_start_id", "place_id", "date_start", "id"),
        Index("ix_event_updated_at_id", "updated_at", "id"),
        # Disputed events are few: a partial index serves `disputed=true` in the date order.
        Index(
            "ix_event_disputed_date_start_id",
            "date_start",
            "id",
            sqlite_where=text("disputed"),
            postgresql_where=text("disputed"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    event_type: Mapped[str] = mapped_column(ForeignKey("event_type.name"), nullable=False)
    sub_event_type: Mapped[str | None] = mapped_column(String(80))
    date_start: Mapped[date] = mapped_column(Date, nullable=False)
    date_end: Mapped[date] = mapped_column(Date, nullable=False)
    date_precision: Mapped[str] = mapped_column(ForeignKey("date_precision.name"), nullable=False)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"))
    geo_precision: Mapped[int | None] = mapped_column(SmallInteger)
    summary: Mapped[str | None] = mapped_column(Text)
    fatalities_low: Mapped[int | None] = mapped_column()
    fatalities_best: Mapped[int | None] = mapped_column()
    fatalities_high: Mapped[int | None] = mapped_column()
    # -- issue 12: fatalities by whom: side a's, side b's, civilians', of unknown status.
    deaths_a: Mapped[int | None] = mapped_column()
    deaths_b: Mapped[int | None] = mapped_column()
    deaths_civilians: Mapped[int | None] = mapped_column()
    deaths_unknown: Mapped[int | None] = mapped_column()
    # Derived (app.derived.interaction): ACLED's actor-pair code from the kinds of the two
    # sides ("12"), kept at commit whatever changed them; null for an event without actors.
    interaction: Mapped[str | None] = mapped_column(ForeignKey("interaction_code.name"))
    # -- end issue 12
    status: Mapped[str] = mapped_column(
        ForeignKey("event_status.name"), nullable=False, default="active"
    )
    retraction_reason: Mapped[str | None] = mapped_column(Text)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")
    # -- kept by the writer from the evidence (app.writer.evidence), never given ----------------
    # How many articles report it, from how many outlets, citing how many quotes; the
    # earliest publication date among them.
    source_count: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    outlet_count: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    quote_count: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    first_reported_date: Mapped[date | None] = mapped_column(Date)
    # What backs it: quotes of its articles, else a dataset's row, else nothing (older data).
    evidence: Mapped[str] = mapped_column(
        String(10), nullable=False, default="none", server_default="none"
    )
    # Its sources' figures disagree beyond the dispute threshold (app.writer.claims).
    disputed: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # The real-world incident it is linked with (app.writer.incidents), if any.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)


# The columns the writer derives from an event's evidence, claims and links: shown in lists
# and details, filtered on, never given by a client nor recorded field by field.
DERIVED_FIELDS: Final[tuple[str, ...]] = (
    "source_count",
    "outlet_count",
    "quote_count",
    "first_reported_date",
    "evidence",
    "disputed",
    "incident_id",
)
# Columns the derived state keeps at commit from other rows (app.derived.interaction: the
# kinds of the event's actors), never given nor recorded.
DERIVED_AT_COMMIT: Final[tuple[str, ...]] = ("interaction",)
# The headline figures: each follows its claims (app.writer.claims).
FIGURE_FIELDS: Final[tuple[str, ...]] = (
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
)


# The event's own recorded fields, in column order: what a revision records the before and
# after of, what creating an event writes, what exports and details carry. Every other list of
# them is derived from this one (or checked against it by tests/models/test_event_fields.py).
# Left out: the key, the version and the timestamps, which are bookkeeping.
RECORDED_FIELDS: Final[tuple[str, ...]] = tuple(
    column.name
    for column in Event.__table__.columns
    if column.name not in {"id", "version", "created_at", "updated_at", "retracted_at"}
    and column.name not in DERIVED_FIELDS
    and column.name not in DERIVED_AT_COMMIT
)


class EventActor(Base):
    __tablename__ = "event_actor"
    __table_args__ = (CheckConstraint("side IN ('a', 'b')", name="side"),)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id"), primary_key=True, index=True)
    side: Mapped[str | None] = mapped_column(String(1))
    role: Mapped[str] = mapped_column(ForeignKey("event_role.name"), nullable=False)


class EventSource(Base):
    """The evidence for an event: an article that reports it (the outlet comes through it)."""

    __tablename__ = "event_source"
    __table_args__ = (UniqueConstraint("event_id", "article_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), nullable=False
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), nullable=False, index=True
    )


class EventSourceQuote(Base):
    """The exact quotes of a source's article that support the event."""

    __tablename__ = "event_source_quote"
    event_source_id: Mapped[int] = mapped_column(
        ForeignKey("event_source.id", ondelete="CASCADE"), primary_key=True
    )
    quote_id: Mapped[int] = mapped_column(
        ForeignKey("quote.id", ondelete="CASCADE"), primary_key=True, index=True
    )
