"""Actors (armed groups, states, coalitions, persons), their aliases and affiliations over time."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import PATTERN_OPS, Base, TimestampMixin


class Actor(TimestampMixin, Base):
    __tablename__ = "actor"
    __table_args__ = (Index("ix_actor_name_norm_country", "name_norm", "country"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_norm: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[str] = mapped_column(ForeignKey("actor_kind.name"), nullable=False)
    country: Mapped[str | None] = mapped_column(String(2))
    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")
    # Set when merged into another actor: the old id keeps resolving to the survivor.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("actor.id"), index=True)

    aliases: Mapped[list[ActorAlias]] = relationship(
        back_populates="actor", lazy="raise", order_by="ActorAlias.id"
    )


class ActorAlias(Base):
    """Every name an actor is known by, its primary name included, in normalised form too."""

    __tablename__ = "actor_alias"
    __table_args__ = (
        UniqueConstraint("actor_id", "name_norm"),
        # Equality (name resolution) and prefix ranges (name_prefix=): on PostgreSQL the
        # byte-wise operator class, whose range operators ignore the database's collation.
        Index("ix_actor_alias_name_norm", "name_norm", postgresql_ops=PATTERN_OPS),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(
        ForeignKey("actor.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_norm: Mapped[str] = mapped_column(String(300), nullable=False)

    actor: Mapped[Actor] = relationship(back_populates="aliases", lazy="raise")


class ActorAffiliation(Base):
    """``actor`` is ``relation`` ``related_actor`` (member_of, allied_with, commanded_by) over time."""

    __tablename__ = "actor_affiliation"
    __table_args__ = (
        UniqueConstraint("actor_id", "related_actor_id", "relation"),
        CheckConstraint("actor_id <> related_actor_id", name="not_self"),
        CheckConstraint(
            "since_date IS NULL OR until_date IS NULL OR until_date >= since_date",
            name="until_after_since",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(
        ForeignKey("actor.id", ondelete="CASCADE"), nullable=False
    )
    related_actor_id: Mapped[int] = mapped_column(
        ForeignKey("actor.id", ondelete="CASCADE"), nullable=False, index=True
    )
    relation: Mapped[str] = mapped_column(ForeignKey("affiliation_relation.name"), nullable=False)
    since_date: Mapped[date | None] = mapped_column(Date)
    until_date: Mapped[date | None] = mapped_column(Date)
