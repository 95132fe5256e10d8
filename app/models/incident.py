"""Incidents: one real-world happening that several records describe (different outlets'
reports, a GED row, an ACLED row). Each linked event keeps its own evidence and id and names
its incident (``event.incident_id``)."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, TimestampMixin


class Incident(TimestampMixin, Base):
    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(primary_key=True)
    # The record an incident is counted as (count=incidents): its earliest-reported active
    # event (app.writer.incidents keeps it). Not a foreign key: event and incident would
    # refer to each other.
    lead_event_id: Mapped[int] = mapped_column(nullable=False)
    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")
