"""Lookup tables: controlled vocabularies referenced by foreign keys (seeded by the migrations)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class EventType(Base):
    __tablename__ = "event_type"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class SubEventType(Base):
    __tablename__ = "sub_event_type"
    __table_args__ = (UniqueConstraint("event_type", "name"),)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    event_type: Mapped[str] = mapped_column(ForeignKey("event_type.name"), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class ActorKind(Base):
    __tablename__ = "actor_kind"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    acled_inter: Mapped[int | None] = mapped_column(SmallInteger)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class PlaceKind(Base):
    __tablename__ = "place_kind"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class OutletKind(Base):
    __tablename__ = "outlet_kind"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class DatePrecision(Base):
    __tablename__ = "date_precision"
    name: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class EventRole(Base):
    __tablename__ = "event_role"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class AffiliationRelation(Base):
    __tablename__ = "affiliation_relation"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class EventStatus(Base):
    __tablename__ = "event_status"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
