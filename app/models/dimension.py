"""Dataset dimensions: each dataset's own classification codes (UCDP's violence type,
conflict and dyad; ACLED's disorder type, inter codes, tags ...) kept as data.

- ``dimension_scheme``: one row per coded field of a dataset (``ucdp.type_of_violence``),
  seeded by the migrations; ``closed`` schemes have a fixed list of codes (an import row with
  another is refused), open ones learn their codes from the imports (conflict ids, tags).
- ``dimension_code``: the vocabulary of each scheme, a code with its label when the dataset
  gives one (UCDP's conflict names, the meaning of ``where_prec`` 4).
- ``event_dimension``: which codes an event carries, one row per (event, code); a scheme may
  give an event several codes (ACLED's tags).
- ``interaction_code``: ACLED's actor-pair codes (``12``: state forces against a rebel group),
  the vocabulary of the ``interaction`` every event derives from the kinds of its two sides.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class DimensionScheme(Base):
    __tablename__ = "dimension_scheme"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(100), nullable=False)
    column: Mapped[str] = mapped_column(
        String(100), nullable=False, comment="the dataset's column the codes come from"
    )
    closed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    multiple: Mapped[bool] = mapped_column(
        Boolean, nullable=False, comment="an event may carry several codes of the scheme"
    )
    description: Mapped[str] = mapped_column(Text, nullable=False)


class DimensionCode(Base):
    __tablename__ = "dimension_code"
    __table_args__ = (UniqueConstraint("scheme", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(ForeignKey("dimension_scheme.name"), nullable=False)
    code: Mapped[str] = mapped_column(String(300), nullable=False)
    label: Mapped[str | None] = mapped_column(String(500))


class EventDimension(Base):
    """An event's code of a scheme. Keyed (code, event) for the filters and stats, which start
    from codes; the event's own index serves details and exports."""

    __tablename__ = "event_dimension"
    __table_args__ = (Index("ix_event_dimension_event_id", "event_id"),)
    code_id: Mapped[int] = mapped_column(ForeignKey("dimension_code.id"), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )


class InteractionCode(Base):
    __tablename__ = "interaction_code"
    name: Mapped[str] = mapped_column(String(2), primary_key=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
