"""History: a system-versioned copy of the rows reads filter and show, for ``as_of`` (issue 12).

For each versioned table ``t`` a table ``t_history`` holds every column of ``t`` (same names and
types, no keys nor constraints) plus ``valid_from`` and ``valid_to``: the data versions between
which the row was the current one (``valid_from <= v < valid_to``, ``valid_to`` null while it
still is). ``app.derived.history`` appends to them at commit, under the version the commit takes,
so the rows valid at ``v`` are exactly the rows a reader saw when the database was at ``v``.

``version_history`` maps each data version to the time its commit took it (RFC 3339 ``as_of``).
Versions below the first row there (the version the migration started the history at) cannot
be reproduced.

Rows are grouped by a key (``event_actor`` by ``event_id``, ``place_ancestor`` by ``place_id``):
when any row of a group changes, the whole group gets a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import BigInteger, Column, Index, Table
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import NullType

from app.db.base import Base, UTCDateTime

# The tables the versioned ones refer to, so each foreign key's type resolves here.
from app.models import access, actor, article, incident, provenance, quote, vocabulary  # noqa: F401
from app.models.claim import Claim
from app.models.dimension import EventDimension
from app.models.event import Event, EventActor, EventSource
from app.models.place import Place, PlaceAncestor


class VersionHistory(Base):
    """When each data version was committed (one row per version, appended at commit)."""

    __tablename__ = "version_history"
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)


@dataclass(frozen=True)
class Versioned:
    """A table kept in history: the live table, its history, and the column grouping rows."""

    live: Table
    history: Table
    key: str
    # Whether the group is recorded only when it differs from its open history (places: a
    # commit records every place its changed events sit in, most of them unchanged). Event
    # groups are recorded whenever the writer marked the event changed.
    compare: bool


# Bookkeeping columns a comparison ignores (every bump changes them).
UNCOMPARED: Final = frozenset({"version", "updated_at"})


def _history_of(
    live: Table, key: str, *, compare: bool, indexes: tuple[tuple[str, ...], ...] = ()
) -> Versioned:
    columns = [
        # A foreign key's type comes from the column it refers to (NullType until resolved).
        Column(
            c.name,
            next(iter(c.foreign_keys)).column.type if isinstance(c.type, NullType) else c.type,
            nullable=c.nullable and not c.primary_key,
        )
        for c in live.columns
    ]
    history = Table(
        f"{live.name}_history",
        Base.metadata,
        *columns,
        Column("valid_from", BigInteger, nullable=False),
        Column("valid_to", BigInteger),
        # The open rows of a group (closing them at commit), and the rows valid at a version.
        Index(f"ix_{live.name}_history_{key}_valid_to", key, "valid_to"),
        Index(f"ix_{live.name}_history_valid_from", "valid_from"),
        *(Index(f"ix_{live.name}_history_{'_'.join(names)}", *names) for names in indexes),
    )
    return Versioned(live, history, key, compare)


# The list's date order (its default sort and date range), as on the live table: a page at a
# version walks it and stops at the page's end instead of sorting every row valid then.
EVENT_HISTORY = _history_of(
    Event.__table__,  # type: ignore[arg-type]
    "id",
    compare=False,
    indexes=(("date_start", "id"),),
)
# Keyed by event: recorded with the event.
EVENT_KEYED: Final[tuple[Versioned, ...]] = (
    EVENT_HISTORY,
    _history_of(EventActor.__table__, "event_id", compare=False),  # type: ignore[arg-type]
    _history_of(EventDimension.__table__, "event_id", compare=False),  # type: ignore[arg-type]
    _history_of(EventSource.__table__, "event_id", compare=False),  # type: ignore[arg-type]
    _history_of(Claim.__table__, "event_id", compare=False),  # type: ignore[arg-type]
)
# Keyed by place: the places of changed events, their ancestors, and places moved or located.
PLACE_KEYED: Final[tuple[Versioned, ...]] = (
    _history_of(Place.__table__, "id", compare=True),  # type: ignore[arg-type]
    _history_of(PlaceAncestor.__table__, "place_id", compare=True),  # type: ignore[arg-type]
)
VERSIONED: Final[tuple[Versioned, ...]] = (*EVENT_KEYED, *PLACE_KEYED)
