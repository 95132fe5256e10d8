"""State derived from events that the writer keeps in step in the same transaction.

- ``data_version``: one row, a counter that every committed write of data advances. Writers
  advance it last, holding its row lock until they commit, so versions are in commit order:
  it is the ETag of lists, stats and exports, and the change feed's cursor.
- ``event_change``: the change feed, one row per event a committed transaction created,
  updated or retracted, under that transaction's data version.
- ``event_rollup``: counts and fatality sums per month, country, admin1, type and sub-type
  of active events, so dashboards' time series do not scan the events.
- ``event_rollup_member``: what each event contributes to ``event_rollup`` as last applied, so
  any change to an event is reconciled by subtracting its old contribution and adding its new
  one, whatever changed it (an edit, a retraction, a place moved to another province).

The full-text index (``event_search``) is not an ORM table: it is an FTS5 virtual table on
SQLite and a tsvector table on PostgreSQL; ``app.derived.search`` owns it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime

# Rollup key columns are part of the primary key, so "none" is stored as a value, not NULL.
NO_COUNTRY = ""
NO_ADMIN1 = 0
NO_SUB_EVENT_TYPE = ""


class DataVersion(Base):
    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventChange(Base):
    __tablename__ = "event_change"
    __table_args__ = (
        CheckConstraint("action IN ('created', 'updated', 'retracted')", name="action"),
    )
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class EventRollup(Base):
    __tablename__ = "event_rollup"
    __table_args__ = (Index("ix_event_rollup_country_month", "country", "month"),)
    month: Mapped[date] = mapped_column(Date, primary_key=True, comment="first day of the month")
    country: Mapped[str] = mapped_column(String(2), primary_key=True, comment="'' when none")
    admin1_id: Mapped[int] = mapped_column(primary_key=True, comment="0 when none")
    event_type: Mapped[str] = mapped_column(String(80), primary_key=True)
    sub_event_type: Mapped[str] = mapped_column(String(80), primary_key=True, comment="'' if none")
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)
    fatalities_best: Mapped[int] = mapped_column(BigInteger, nullable=False)
    fatalities_low: Mapped[int] = mapped_column(BigInteger, nullable=False)
    fatalities_high: Mapped[int] = mapped_column(BigInteger, nullable=False)


class EventRollupMember(Base):
    __tablename__ = "event_rollup_member"
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(Date, nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    admin1_id: Mapped[int] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(String(80), nullable=False)
    sub_event_type: Mapped[str] = mapped_column(String(80), nullable=False)
    fatalities_best: Mapped[int] = mapped_column(nullable=False)
    fatalities_low: Mapped[int] = mapped_column(nullable=False)
    fatalities_high: Mapped[int] = mapped_column(nullable=False)
