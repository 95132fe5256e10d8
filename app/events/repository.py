"""All SQL for events: the list and its filters, the detail, edits' lookups and history."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from app.actors import repository as actor_repository
from app.core.pagination import PageQuery, decode_cursor, encode_cursor, fetch_page
from app.db.bulk import chunks
from app.derived import history
from app.derived import search as search_repository
from app.events import asof, references
from app.events.schemas import EARTH_RADIUS_KM, EVENT_FIELDS, Circle, EventFilter, EventListQuery
from app.models import (
    Actor,
    ActorAffiliation,
    Article,
    Claim,
    Dataset,
    DimensionCode,
    Event,
    EventActor,
    EventChange,
    EventDimension,
    EventProvenance,
    EventRevision,
    EventSource,
    EventSourceQuote,
    Incident,
    Outlet,
    Place,
    PlaceAncestor,
    Quote,
    SubEventType,
)
from app.models import EventType as EventTypeRow
from app.models.event import DERIVED_FIELDS, RECORDED_FIELDS
from app.places import repository as place_repository
from app.writer.claims import ClaimRow, latest_by_voice

# A list row's columns by field name (EventRead's fields, in its order): the event's own
# columns, and its place's.
_PLACE_FIELDS: dict[str, Any] = {
    "place_name": Place.name,
    "country": Place.country,
    "latitude": Place.latitude,
    "longitude": Place.longitude,
}
COLUMNS: dict[str, Any] = {
    name: _PLACE_FIELDS[name] if name in _PLACE_FIELDS else getattr(Event, name)
    for name in EVENT_FIELDS
}
_PLACE_COLUMNS = frozenset(_PLACE_FIELDS)


@dataclass(frozen=True)
class SortKey:
    """One column of a sort: its field name, Python type (for cursors) and nullability."""

    name: str
    kind: type
    nullable: bool = False

    @property
    def column(self) -> Any:
        return COLUMNS[self.name]


@dataclass(frozen=True)
class Sort:
    """A sort: its keys, the last one unique (the id), all in one direction.

    NULLs come last whichever the direction, so a dashboard sorting by fatalities sees the
    known figures first both ways.
    """

    keys: tuple[SortKey, ...]
    descending: bool

    def order_by(self) -> list[Any]:
        out = []
        for key in self.keys:
            ordered = key.column.desc() if self.descending else key.column.asc()
            out.append(ordered.nulls_last() if key.nullable else ordered)
        return out

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after ``values`` (a row's keys) in this order."""
        return _after(self.keys, list(values), self.descending)

    def between(
        self, after: Sequence[Any] | None, through: Sequence[Any] | None
    ) -> list[ColumnElement[bool]]:
        """Rows after ``after`` and up to ``through`` included (either None: no bound), with
        the bounds also put on the leading key alone when it has no NULLs, so that an index
        on it (or on the place and it) is read over the range only."""
        lead = self.keys[0]
        out: list[ColumnElement[bool]] = []
        if after is not None:
            out.append(self.after(after))
            if not lead.nullable:
                out.append(lead.column <= after[0] if self.descending else lead.column >= after[0])
        if through is not None:
            out.append(not_(self.after(through)))
            if not lead.nullable:
                out.append(
                    lead.column >= through[0] if self.descending else lead.column <= through[0]
                )
        return out

    def values(self, row: dict[str, Any]) -> list[Any]:
        return [row[key.name] for key in self.keys]

    @property
    def kinds(self) -> tuple[type, ...]:
        return tuple(key.kind for key in self.keys)


def _after(keys: Sequence[SortKey], values: list[Any], descending: bool) -> ColumnElement[bool]:
    key, rest = keys[0], keys[1:]
    column, value = key.column, values[0]
    tail = _after(rest, values[1:], descending) if rest else None
    if value is None:
        # NULLs sort last: after a NULL come only NULLs, ordered by the remaining keys.
        if tail is None:
            return false()
        return and_(column.is_(None), tail)
    parts = [column < value if descending else column > value]
    if tail is not None:
        parts.append(and_(column == value, tail))
    if key.nullable:
        parts.append(column.is_(None))
    return or_(*parts)


_ID = SortKey("id", int)
SORTS: dict[str, Sort] = {
    "date_start": Sort((SortKey("date_start", date), _ID), descending=False),
    "-date_start": Sort((SortKey("date_start", date), _ID), descending=True),
    "fatalities_best": Sort((SortKey("fatalities_best", int, nullable=True), _ID), False),
    "-fatalities_best": Sort((SortKey("fatalities_best", int, nullable=True), _ID), True),
    "id": Sort((_ID,), descending=False),
    "-id": Sort((_ID,), descending=True),
}


# -- filters -----------------------------------------------------------------------------------
#
# Every clause stands alone (subqueries, no joins needed), so any SELECT over `event` can use
# them: the list, the exports, the stats. Subqueries use their own aliases so they never
# correlate with the tables a caller's query joins (stats join event_actor, event_source ...).


F = TypeVar("F", bound=EventFilter)


def with_live_ids(session: Session, f: F, *, read_as_of: bool = True) -> F:
    """``f`` with the live place and actor its ``place`` and ``actor`` stand for read now (a
    merged id: the record it was merged into), so its statements carry them as constants;
    and (issue 12) a name given for ``place``, ``actor`` or ``outlet`` matched to its record
    (``references.record_named``: a 422 when it matches none, or several), and the codes of
    ``dimension`` read (a 422 for a scheme or code that does not exist).

    As SQL (``resolved_id``: a subquery in ``coalesce``) the id is hidden from the planner,
    which then guesses how many events it matches: PostgreSQL took a country for a handful of
    places (4 descendants expected, 936 there) and joined and sorted all of a country-year's
    events for a page of 100 (84 ms a page at 1M events), where the constant lets it walk the
    date index and stop after 101 rows, as it does for ``country=``. Every event query with a
    session reads them first; a statement built without (``filter_clauses`` alone) still
    resolves merged ids in SQL.

    Issue 12: with ``as_of``, the version it stands for is read (a 422 out of range), merged
    ids are taken as given (that record as it was then), and, unless ``read_as_of`` is false,
    the session then reads at that version (``asof.apply``).
    """
    f = asof.resolve(session, f)
    wanted = {
        name: value
        for name, value in (("place", f.place), ("actor", f.actor), ("outlet", f.outlet))
        if value is not None and name not in f._live_ids
    }
    codes = f.dimension and not f._codes
    if not wanted and not codes:
        if read_as_of:
            asof.apply(session, f)
        return f
    live = f.model_copy()
    live._live_ids = dict(f._live_ids)
    for name, value in wanted.items():
        ident = references.record_named(session, name, value) if isinstance(value, str) else value
        # Under as_of (issue 12) a merged id stands for what it stood for then: the merges
        # made by that version followed, not the later ones.
        if name in ("place", "actor") and f._version is not None:
            ident = asof.live_id(session, name, ident, f._version)
        elif name == "place":
            ident = place_repository.live_id(session, ident)
        elif name == "actor":
            ident = actor_repository.live_id(session, ident)
        live._live_ids[name] = ident
    if codes and f.dimension:
        live._codes = references.dimension_codes(session, f.dimension)
    # Last: names and codes are matched against today's records, the events read as of.
    if read_as_of:
        asof.apply(session, live)
    return live


def _live(f: EventFilter, name: str) -> ColumnElement[int]:
    """The live id of ``f.place`` or ``f.actor``: a constant once read (``with_live_ids``),
    else resolved in SQL."""
    known = f._live_ids.get(name)
    if known is not None:
        # Inlined, not bound: PostgreSQL plans a prepared statement's parameters generically
        # after a few executions, which would hide the id again.
        return literal_column(str(int(known)), Integer)
    value = f.place if name == "place" else f.actor
    if not isinstance(value, int):  # a name is always read first (with_live_ids)
        raise AssertionError(f"{name} {value!r} was not resolved")
    if name == "place":
        return place_repository.resolved_id(value)
    return actor_repository.resolved_id(value)


def filter_clauses(
    f: EventFilter, *, joined_place: Any = None, joined_closure: bool = False
) -> list[ColumnElement[bool]]:
    """One parameterised WHERE clause per filter given.

    Each is self-contained (a subquery on private aliases), so stats can add its own joins;
    a statement that already joins the event's place passes it as ``joined_place``, and the
    place filters (country, bbox, near) then test its columns directly: the planner can then
    walk the date index in the sort's order and stop at the page's end (measured on the
    100,000-event benchmark, SQLite: 0.13 ms instead of 6-10 ms for a country-year page).
    Likewise ``joined_closure``: the statement joins ``place_ancestor`` for ``place`` itself
    (see ``list_statement``), so the planner may start from either side.
    """
    clauses: list[ColumnElement[bool]] = []
    if not f.include_retracted:
        clauses.append(Event.status == "active")
    if f.date_from is not None:
        # date_overlap (issue 12): the event's range reaches into the range asked for.
        start = Event.date_end if f.date_overlap else Event.date_start
        clauses.append(start >= f.date_from)
    if f.date_to is not None:
        clauses.append(Event.date_start <= f.date_to)
    if f.event_type:
        clauses.append(Event.event_type.in_(f.event_type))
    if f.sub_event_type:
        clauses.append(Event.sub_event_type.in_(f.sub_event_type))
    if f.place is not None and not joined_closure:
        closure = aliased(PlaceAncestor)
        inside = select(closure.place_id).where(closure.ancestor_id == _live(f, "place"))
        clauses.append(Event.place_id.in_(inside))
    where_place = _place_conditions(f)
    if where_place and joined_place is not None:
        clauses.extend(where_place(joined_place))
    elif where_place:
        place = aliased(Place)
        clauses.append(Event.place_id.in_(select(place.id).where(*where_place(place))))
    if f.actor is not None:
        clauses.append(_actor_clause(_live(f, "actor"), f.include_affiliates, f.side))
    if f.outlet is not None:
        source, article = aliased(EventSource), aliased(Article)
        outlet = f._live_ids.get("outlet", f.outlet)
        reported = (
            select(source.event_id)
            .join(article, article.id == source.article_id)
            .where(article.outlet_id == outlet)
        )
        clauses.append(Event.id.in_(reported))
    if f.fatalities_min is not None:
        clauses.append(Event.fatalities_best >= f.fatalities_min)
    if f.fatalities_max is not None:
        clauses.append(Event.fatalities_best <= f.fatalities_max)
    if f.geo_precision:
        clauses.append(Event.geo_precision.in_(f.geo_precision))
    if f.updated_since is not None:
        clauses.append(Event.updated_at >= f.updated_since)
    if f.q is not None:
        clauses.append(Event.id.in_(search_repository.matching_event_ids(f.q)))
    # 0 means all: no clause, so the rollups can still answer such a stats query.
    if f.sources_min:
        clauses.append(Event.source_count >= f.sources_min)
    if f.outlets_min:
        clauses.append(Event.outlet_count >= f.outlets_min)
    if f.disputed is not None:
        clauses.append(Event.disputed == f.disputed)
    if f.evidence:
        clauses.append(Event.evidence.in_(f.evidence))
    if f.incident is not None:
        clauses.append(Event.incident_id == f.incident)
    if f.count == "incidents":
        clauses.append(incident_leads())
    clauses += _issue_12_clauses(f)
    return clauses


# -- issue 12: dimensions, actor kinds, interaction, coarse dates, ids ---------------------------


def _issue_12_clauses(f: EventFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.id:
        clauses.append(Event.id.in_(sorted(set(f.id))))
    if f.dimension:
        if not f._codes:  # a statement built without a session (with_live_ids reads them)
            raise AssertionError("dimension codes were not read")
        for code_ids in f._codes.values():
            coded = aliased(EventDimension)
            clauses.append(Event.id.in_(select(coded.event_id).where(coded.code_id.in_(code_ids))))
    if f.interaction:
        clauses.append(Event.interaction.in_(f.interaction))
    if f.actor_kind:
        link, actor = aliased(EventActor), aliased(Actor)
        with_kind = (
            select(link.event_id)
            .join(actor, actor.id == link.actor_id)
            .where(actor.kind.in_(f.actor_kind))
        )
        if f.side is not None:
            with_kind = with_kind.where(link.side == f.side)
        clauses.append(Event.id.in_(with_kind))
    if f.date_precision:
        clauses.append(Event.date_precision.in_(f.date_precision))
    return clauses


def incident_leads() -> ColumnElement[bool]:
    """Events that count as themselves under count=incidents: those linked to no incident, and
    each incident's lead record (``app.writer.incidents``)."""
    return or_(Event.incident_id.is_(None), Event.id.in_(select(Incident.lead_event_id)))


def _actor_clause(
    actor: ColumnElement[int], include_affiliates: bool, side: str | None
) -> ColumnElement[bool]:
    """Events the actor (``_live``) takes part in (on ``side``), as ``event.id IN (...)``: the
    actor's index finds a rare actor's few events at once, where a correlated EXISTS would test
    every event (SQLite does not turn one into the other)."""
    taking_part = aliased(EventActor)
    events = select(taking_part.event_id).where(taking_part.actor_id == actor)
    if side is not None:
        events = events.where(taking_part.side == side)
    if include_affiliates:
        # Actors whose affiliation points at this one (members, units it commands, allies
        # declared toward it), while the affiliation held: its dates overlap the event's.
        member, tie, event = aliased(EventActor), aliased(ActorAffiliation), aliased(Event)
        via = (
            select(member.event_id)
            .join(tie, tie.actor_id == member.actor_id)
            .join(event, event.id == member.event_id)
            .where(
                tie.related_actor_id == actor,
                or_(tie.since_date.is_(None), tie.since_date <= event.date_end),
                or_(tie.until_date.is_(None), tie.until_date >= event.date_start),
            )
        )
        if side is not None:
            via = via.where(member.side == side)
        return Event.id.in_(events.union(via))
    return Event.id.in_(events)


def _place_conditions(f: EventFilter) -> Any:
    """The conditions on the event's place (country, bbox, near), as a function of the
    place table to apply them to; None when there are none."""
    box, circle = f.bounds(), f.circle()
    if f.country is None and box is None and circle is None:
        return None

    def conditions(place: Any) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if f.country is not None:
            out.append(place.country == f.country)
        if box is not None:
            out.append(place.latitude.between(box.min_lat, box.max_lat))
            out.append(_longitudes(place.longitude, box.min_lon, box.max_lon))
        if circle is not None:
            out.extend(_within(place, circle))
        return out

    return conditions


def _longitudes(longitude: Any, west: float, east: float) -> ColumnElement[bool]:
    """``west..east``, across the antimeridian when ``west > east`` (RFC 7946's bbox rule)."""
    if west <= east:
        between: ColumnElement[bool] = longitude.between(west, east)
        return between
    return or_(longitude >= west, longitude <= east)


# Widening of the bounding box that prefilters `near`, in degrees (about 1 cm), so that
# rounding never leaves out a place the exact distance test keeps.
_MARGIN = 1e-7


def _within(place: Any, circle: Circle) -> list[ColumnElement[bool]]:
    """Places within ``circle.km`` of the point: a bounding box an index can use, then the
    exact great-circle test.

    The haversine distance is d = 2R asin(sqrt(a)), with
    a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2); since asin is increasing, d <= km exactly when
    a <= sin²(km / 2R). Only sin and cos run in SQL, and no clamping is needed (no asin or
    sqrt of a value rounding beyond 1).
    """
    angle = circle.km / EARTH_RADIUS_KM  # radians
    lat0, lon0 = math.radians(circle.lat), math.radians(circle.lon)
    dlat = math.degrees(angle) + _MARGIN
    conditions: list[ColumnElement[bool]] = [
        place.latitude.between(circle.lat - dlat, circle.lat + dlat)
    ]
    if abs(circle.lat) + math.degrees(angle) < 90:  # the circle does not reach a pole
        dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(lat0)))) + _MARGIN
        if dlon < 180:
            west, east = circle.lon - dlon, circle.lon + dlon
            # Past ±180 the box continues on the other side of the antimeridian.
            conditions.append(
                _longitudes(
                    place.longitude,
                    west + 360 if west < -180 else west,
                    east - 360 if east > 180 else east,
                )
            )
    threshold = math.sin(min(angle / 2, math.pi / 2)) ** 2
    to_radians = math.pi / 180
    half_dlat = func.sin((place.latitude * to_radians - lat0) / 2)
    half_dlon = func.sin((place.longitude * to_radians - lon0) / 2)
    a = (
        half_dlat * half_dlat
        + math.cos(lat0) * func.cos(place.latitude * to_radians) * half_dlon * half_dlon
    )
    conditions.append(a <= threshold)
    return conditions


# -- the list ----------------------------------------------------------------------------------


def list_statement(
    f: EventFilter,
    sort: str,
    columns: Iterable[str],
    *,
    after: Sequence[Any] | None = None,
    through: Sequence[Any] | None = None,
) -> Select[Any]:
    """SELECT the given columns (plus the sort's keys) of the matching events, in order; with
    ``after`` and ``through`` (a row's sort keys), only the rows between them (``Sort.between``).

    The page's bounds come first in the WHERE clause: SQLite bounds an index scan by the first
    condition it meets on each side of the key, so a page's own range, narrower than the
    filter's dates, must come before them, or the scan runs on to ``date_from`` (measured at
    1M events: a 900-row range of a country-year, 9.7 ms first, 31.8 ms last). PostgreSQL
    compares the bounds when the statement runs, whatever their order."""
    order = SORTS[sort]
    names = list(dict.fromkeys([*columns, *(key.name for key in order.keys)]))
    stmt = select(*(COLUMNS[name].label(name) for name in names)).select_from(Event)
    joined = None
    if _PLACE_COLUMNS.intersection(names) or _place_conditions(f) is not None:
        stmt = stmt.outerjoin(Place, Place.id == Event.place_id)
        joined = Place
    if f.place is not None:
        # "Inside place X" as a join on the closure's primary key (ancestor, place): one row
        # per event at most, and the planner picks the cheaper side with its statistics.
        closure = aliased(PlaceAncestor)
        stmt = stmt.join(
            closure,
            and_(
                closure.place_id == Event.place_id,
                closure.ancestor_id == _live(f, "place"),
            ),
        )
    clauses = filter_clauses(f, joined_place=joined, joined_closure=f.place is not None)
    return stmt.where(*order.between(after, through), *clauses).order_by(*order.order_by())


def fetch_rows(session: Session, stmt: Select[Any], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows of a ``list_statement``, as plain dicts (Core rows, no ORM
    objects)."""
    result = history.run(session, stmt.limit(limit), {})
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


def page_bounds(session: Session, stmt: Select[Any], sort: str, size: int) -> list[list[Any]]:
    """The sort keys of every ``size``-th row of ``stmt`` (a statement of the matching events
    still to come, any columns): the ends of the ranges a stream then reads page by page.

    One sort of the matching events' keys, once per stream, where keyset pages alone would
    each sort every row still to come to find their first ``size``: a stream whose filter
    leaves no index in the sort's order (a country's events by date: the place index gives
    them place by place) then reads each row once, not once per page before it (issue 16:
    57 pages of a 57,000-event country-year at 1M events)."""
    order = SORTS[sort]
    names = [key.name for key in order.keys]
    numbered = (
        stmt.with_only_columns(
            *(COLUMNS[name].label(name) for name in names),
            func.row_number().over(order_by=order.order_by()).label("n"),
        )
        .order_by(None)
        .subquery()
    )
    rows = session.execute(
        select(*(numbered.c[name] for name in names))
        .where(numbered.c.n % size == 0)
        .order_by(numbered.c.n)
    )
    return [list(row) for row in rows]


def export_bounds(
    session: Session,
    clauses: Sequence[ColumnElement[bool]],
    sort: str,
    after: Sequence[Any],
    size: int,
) -> list[list[Any]]:
    """``page_bounds`` of the events matching ``clauses`` after ``after`` (``export_page``'s
    rows)."""
    stmt = select(Event.id).where(*SORTS[sort].between(after, None), *clauses)
    return page_bounds(session, stmt, sort, size)


def list_events(
    session: Session, f: EventListQuery, *, max_bytes: int | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of events in the list's shape (``fields`` applied), and the next page's cursor.

    With ``include=sources``, a page whose evidence would pass ``max_bytes`` is cut short
    (``_rows_within``), its cursor then resuming after the last row kept."""
    f = with_live_ids(session, f)
    order = SORTS[f.sort]
    columns = f.columns()
    after = decode_cursor(f.cursor, f.sort, order.kinds) if f.cursor else None
    rows = fetch_rows(session, list_statement(f, f.sort, columns, after=after), f.limit + 1)
    next_cursor = None
    if len(rows) > f.limit:
        rows = rows[: f.limit]
        next_cursor = encode_cursor(f.sort, order.values(rows[-1]))
    kept = _rows_within(session, rows, f.include or (), max_bytes)
    if kept < len(rows):
        rows = rows[:kept]
        next_cursor = encode_cursor(f.sort, order.values(rows[-1]))
    return _only(rows, columns), next_cursor


# Bytes a list row takes in JSON besides its sources, and each source and quote besides the
# quote's text: an estimate, on the high side, for the page budget.
_ROW_BYTES = 700
_SOURCE_BYTES = 400
_QUOTE_BYTES = 300


def _rows_within(
    session: Session, rows: list[dict[str, Any]], include: Iterable[str], max_bytes: int | None
) -> int:
    """How many leading rows fit in ``max_bytes`` once their sources are embedded (at least
    one, so a page always moves on). Sized by a query of counts and lengths, before any quote
    text is read, so a page that would be huge is never built."""
    if max_bytes is None or "sources" not in set(include) or not rows:
        return len(rows)
    ids = [row["id"] for row in rows]
    sizes: dict[int, int] = {}
    for counts in history.run(session, _SIZES, {"event_ids": ids}):
        event_id, sources, quotes, characters = tuple(counts)
        # Characters may take up to 6 bytes each in JSON (escapes); most take one.
        sizes[event_id] = sources * _SOURCE_BYTES + quotes * _QUOTE_BYTES + int(characters) * 2
    total = 0
    for kept, row in enumerate(rows):
        total += _ROW_BYTES + sizes.get(row["id"], 0)
        if total > max_bytes and kept > 0:
            return kept
    return len(rows)


# Each event's sources, quotes and quote characters (``_rows_within``), built once.
_SIZES = (
    select(
        EventSource.event_id,
        func.count(func.distinct(EventSource.id)),
        func.count(EventSourceQuote.quote_id),
        func.coalesce(func.sum(func.length(Quote.text)), 0),
    )
    .outerjoin(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
    .outerjoin(Quote, Quote.id == EventSourceQuote.quote_id)
    .where(EventSource.event_id.in_(bindparam("event_ids", expanding=True)))
    .group_by(EventSource.event_id)
)


def event_page(
    session: Session,
    f: EventListQuery,
    after: Sequence[Any] | None,
    limit: int,
    *,
    max_bytes: int | None = None,
    reveal: bool = False,
    through: Sequence[Any] | None = None,
) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """One keyset page of the whole result, in the list's shape (``fields`` and ``include``
    applied; ``reveal``: protected speakers' names shown): the rows after ``after`` (a row's
    sort keys, None for the first page) and up to ``through`` (None: to the end), and the
    sort keys of its last row (None when it was the last page of that range).

    A stream reads its pages one statement each, each in its own short read transaction
    (``app.events.streams``): between two pages it holds no connection, however slowly its
    client reads. ``f`` should come through ``with_live_ids`` once, for all the pages.
    """
    asof.apply(session, f)
    order = SORTS[f.sort]
    columns = f.columns()
    stmt = list_statement(f, f.sort, columns, after=after, through=through)
    rows = fetch_rows(session, stmt, limit)
    last = order.values(rows[-1]) if len(rows) == limit else None
    kept = _rows_within(session, rows, f.include or (), max_bytes)
    if kept < len(rows):
        rows = rows[:kept]
        last = order.values(rows[-1])
    page = _only(rows, columns)
    attach(session, page, f.include or (), reveal=reveal)
    return page, last


def _only(rows: list[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Drop the sort keys selected only for the cursor."""
    if rows:
        extra = [k for k in rows[0] if k not in columns]
        for row in rows:
            for k in extra:
                del row[k]
    return rows


def count_events(session: Session, f: EventFilter) -> int:
    f = with_live_ids(session, f)
    stmt = select(func.count()).select_from(Event).where(*filter_clauses(f))
    return int(session.execute(stmt).scalar_one())


# -- embedded relations: one query per relation for a whole page --------------------------------


def attach(
    session: Session, rows: list[dict[str, Any]], include: Iterable[str], *, reveal: bool = False
) -> None:
    """Embed the relations named in ``include`` in each row (by its ``id``); ``reveal``: show
    protected speakers' names (a curator's key)."""
    include = set(include)
    if not rows or not include:
        return
    ids = [row["id"] for row in rows]
    if "actors" in include:
        actors = actors_of(session, ids)
        for row in rows:
            row["actors"] = actors.get(row["id"], [])
    if "sources" in include:
        sources = sources_of(session, ids, reveal=reveal)
        for row in rows:
            row["sources"] = sources.get(row["id"], [])


def actors_of(session: Session, event_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each event's actors with side and role: side a, side b, then those without one."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in history.run(session, _ACTORS_OF, {"event_ids": list(event_ids)}):
        event_id, *values = tuple(row)
        out[event_id].append(dict(zip(_ACTOR_KEYS, values, strict=True)))
    return out


# The detail's and the lists' embedded relations, built once (``history.run`` runs them).
_ACTORS_OF = (
    select(
        EventActor.event_id,
        Actor.id,
        Actor.name,
        Actor.kind,
        Actor.country,
        EventActor.side,
        EventActor.role,
    )
    .join(EventActor, EventActor.actor_id == Actor.id)
    .where(EventActor.event_id.in_(bindparam("event_ids", expanding=True)))
    .order_by(EventActor.event_id, EventActor.side.nulls_last(), Actor.id)
)
_ACTOR_KEYS = ("id", "name", "kind", "country", "side", "role")


def sources_of(
    session: Session, event_ids: Sequence[int], *, reveal: bool = False
) -> dict[int, list[dict[str, Any]]]:
    """Each event's sources (article, outlet) with the quotes supporting it, in one query:
    sources by publication date, quotes by position in the article (its title's first)."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    current: dict[str, Any] | None = None
    current_source = None
    for r in history.run(session, _SOURCES_OF, {"event_ids": list(event_ids)}).mappings():
        if r["source_id"] != current_source:
            current_source = r["source_id"]
            current = {
                "article_id": r["article_id"],
                "title": r["title"],
                "url": r["url"],
                "published_date": r["published_date"],
                "outlet": {"id": r["outlet_id"], "name": r["outlet_name"]},
                "quotes": [],
            }
            out[r["event_id"]].append(current)
        if r["id"] is not None and current is not None:
            current["quotes"].append(quote_brief(r, reveal=reveal))
    return out


# -- the detail --------------------------------------------------------------------------------


def get_event(session: Session, event_id: int, *, reveal: bool = False) -> dict[str, Any] | None:
    row = history.run(session, _EVENT_ROW, {"event_id": event_id}).mappings().first()
    if row is None:
        return None
    event = dict(row)
    event["place"] = place_repository.place_with_ancestors(session, event.pop("place_id"))
    event["actors"] = actors_of(session, [event_id]).get(event_id, [])
    event["sources"] = sources_of(session, [event_id], reveal=reveal).get(event_id, [])
    event["claims"] = claims_of(session, event_id)
    event["measures"] = [
        {
            "kind": c["kind"],
            "value": c["value"],
            "qualifier": c["qualifier"],
            "quote_id": c["quote_id"],
            "article_id": c["article_id"],
            "claim_id": c["id"],
        }
        for c in event["claims"]
        if c["field"] == "measure" and c["status"] == "standing"
    ]
    event["incident"] = incident_of(session, event.pop("incident_id"))
    event["provenance"] = _provenance(session, event_id)
    event["dimensions"] = [
        {"scheme": scheme, "code": code, "label": label}
        for scheme, code, label in dimensions_of(session, [event_id]).get(event_id, [])
    ]
    return event


def claims_of(session: Session, event_id: int) -> list[dict[str, Any]]:
    """The event's claims, oldest first, each with its status: withdrawn; superseded (a
    figure claim whose outlet, dataset or curators have a later one: ``app.writer.claims``);
    or standing."""
    rows = [dict(r) for r in history.run(session, _CLAIMS_OF, {"event_id": event_id}).mappings()]
    standing = [r for r in rows if r["withdrawn_at"] is None and r["field"] != "measure"]
    latest: set[int] = set()
    by_field: dict[str, list[ClaimRow]] = defaultdict(list)
    for r in standing:
        by_field[r["field"]].append(
            ClaimRow(
                r["id"],
                r["field"],
                r["value"],
                r["origin"],
                r["outlet_id"],
                r["dataset_id"],
                r["published_date"],
            )
        )
    for claims in by_field.values():
        latest.update(c.id for c in latest_by_voice(claims).values())
    out = []
    for r in rows:
        if r["withdrawn_at"] is not None:
            status = "withdrawn"
        elif r["field"] == "measure" or r["id"] in latest:
            status = "standing"
        else:
            status = "superseded"
        out.append(
            {
                "id": r["id"],
                "field": r["field"],
                "kind": r["kind"],
                "value": r["value"],
                "qualifier": r["qualifier"],
                "origin": r["origin"],
                "article_id": r["article_id"],
                "outlet": (
                    {"id": r["outlet_id"], "name": r["outlet_name"]}
                    if r["outlet_id"] is not None
                    else None
                ),
                "quote_id": r["quote_id"],
                "dataset": r["dataset"],
                "status": status,
                "recorded_at": r["recorded_at"],
                "withdrawn_at": r["withdrawn_at"],
                "withdrawn_reason": r["withdrawn_reason"],
            }
        )
    return out


def incident_of(session: Session, incident_id: int | None) -> dict[str, Any] | None:
    """An incident with its lead record and every record linked as it."""
    if incident_id is None:
        return None
    params = {"incident_id": incident_id}
    lead = history.run(session, _INCIDENT_LEAD, params).scalar_one_or_none()
    if lead is None:
        return None
    members = list(history.run(session, _INCIDENT_MEMBERS, params).scalars())
    return {"id": incident_id, "lead_event_id": lead, "event_ids": members}


def dimensions_of(
    session: Session, event_ids: Iterable[int]
) -> dict[int, list[tuple[str, str, str | None]]]:
    """Each event's dataset codes (scheme, code, label), by scheme then code (issue 12)."""
    out: dict[int, list[tuple[str, str, str | None]]] = defaultdict(list)
    for chunk in _export_chunks(event_ids):
        for row in history.run(session, _DIMENSIONS_OF, {"event_ids": chunk}):
            event_id, scheme, code, label = tuple(row)
            out[event_id].append((scheme, code, label))
    return out


def datasets_of(session: Session, f: EventFilter) -> list[dict[str, Any]]:
    """The datasets with at least one of the events ``f`` matches, with their licence,
    citation and URL, by name (issue 12: exports and stats name the terms of every dataset
    whose events they contain). One EXISTS per dataset, each stopping at its first event."""
    out = []
    for dataset in session.execute(
        select(Dataset.id, Dataset.name, Dataset.licence, Dataset.citation, Dataset.url).order_by(
            Dataset.name
        )
    ).mappings():
        hit = session.execute(
            select(Event.id)
            .join(EventProvenance, EventProvenance.event_id == Event.id)
            .where(EventProvenance.dataset_id == dataset["id"], *filter_clauses(f))
            .limit(1)
        ).first()
        if hit is not None:
            out.append({k: dataset[k] for k in ("name", "licence", "citation", "url")})
    return out


def _provenance(session: Session, event_id: int) -> dict[str, Any] | None:
    """The dataset row an imported event came from, with the dataset's licence and citation."""
    row = history.run(session, _PROVENANCE, {"event_id": event_id}).mappings().first()
    if row is None:
        return None
    provenance = dict(row)
    # Stored as {"row": the row's own values, "flags": oddities kept as given}.
    stored = provenance.pop("original") or {}
    provenance["original"] = stored.get("row", {})
    provenance["flags"] = stored.get("flags", [])
    return provenance


# The detail's statements, built once (``history.run`` runs them).
_EVENT_ROW = select(Event.__table__).where(Event.__table__.c.id == bindparam("event_id"))
_CLAIMS_OF = (
    select(
        Claim.id,
        Claim.field,
        Claim.kind,
        Claim.value,
        Claim.qualifier,
        Claim.origin,
        Claim.article_id,
        Outlet.id.label("outlet_id"),
        Outlet.name.label("outlet_name"),
        Claim.quote_id,
        Claim.dataset_id,
        Dataset.name.label("dataset"),
        Article.published_date,
        Claim.created_at.label("recorded_at"),
        Claim.withdrawn_at,
        Claim.withdrawn_reason,
    )
    .outerjoin(Article, Article.id == Claim.article_id)
    .outerjoin(Outlet, Outlet.id == Article.outlet_id)
    .outerjoin(Dataset, Dataset.id == Claim.dataset_id)
    .where(Claim.event_id == bindparam("event_id"))
    .order_by(Claim.id)
)
_INCIDENT_LEAD = select(Incident.lead_event_id).where(Incident.id == bindparam("incident_id"))
_INCIDENT_MEMBERS = (
    select(Event.id).where(Event.incident_id == bindparam("incident_id")).order_by(Event.id)
)
_DIMENSIONS_OF = (
    select(EventDimension.event_id, DimensionCode.scheme, DimensionCode.code, DimensionCode.label)
    .join(DimensionCode, DimensionCode.id == EventDimension.code_id)
    .where(EventDimension.event_id.in_(bindparam("event_ids", expanding=True)))
    .order_by(EventDimension.event_id, DimensionCode.scheme, DimensionCode.code)
)
_PROVENANCE = (
    select(
        Dataset.name.label("dataset"),
        EventProvenance.dataset_version.label("version"),
        EventProvenance.external_id,
        Dataset.licence,
        Dataset.citation,
        Dataset.url,
        EventProvenance.original,
        EventProvenance.imported_at,
    )
    .join(Dataset, Dataset.id == EventProvenance.dataset_id)
    .where(EventProvenance.event_id == bindparam("event_id"))
)


# What anonymous and read-scope answers show for a protected speaker's name.
PROTECTED_SPEAKER = "a source"


def quote_brief(q: Any, *, reveal: bool = False) -> dict[str, Any]:
    """A quote row (with speaks_for_id / speaks_for_name, in_title and speaker_protected) in
    its API shape; a protected speaker's name is shown only when ``reveal`` (a curator's key)."""
    protected = bool(q["speaker_protected"])
    name = q["speaker_name"]
    if protected and not reveal and name is not None:
        name = PROTECTED_SPEAKER
    return {
        "id": q["id"],
        "text": q["text"],
        "in_title": bool(q["in_title"]),
        "start": q["start_offset"],
        "end": q["end_offset"],
        "speaker": {
            "name": name,
            "role": q["speaker_role"],
            "speaks_for": (
                {"id": q["speaks_for_id"], "name": q["speaks_for_name"]}
                if q["speaks_for_id"] is not None
                else None
            ),
            "protected": protected,
        },
    }


# The quote columns ``quote_brief`` reads (with the organisation spoken for, aliased).
QUOTE_COLUMNS = (
    Quote.id,
    Quote.text,
    Quote.in_title,
    Quote.start_offset,
    Quote.end_offset,
    Quote.speaker_name,
    Quote.speaker_role,
    Quote.speaker_protected,
)

_SPEAKS_FOR = aliased(Actor)
_SOURCES_OF = (
    select(
        EventSource.event_id,
        EventSource.id.label("source_id"),
        Article.id.label("article_id"),
        Article.title,
        Article.url,
        Article.published_date,
        Outlet.id.label("outlet_id"),
        Outlet.name.label("outlet_name"),
        *QUOTE_COLUMNS,
        _SPEAKS_FOR.id.label("speaks_for_id"),
        _SPEAKS_FOR.name.label("speaks_for_name"),
    )
    .join(Article, Article.id == EventSource.article_id)
    .join(Outlet, Outlet.id == Article.outlet_id)
    .outerjoin(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
    .outerjoin(Quote, Quote.id == EventSourceQuote.quote_id)
    .outerjoin(_SPEAKS_FOR, _SPEAKS_FOR.id == Quote.speaks_for_actor_id)
    .where(EventSource.event_id.in_(bindparam("event_ids", expanding=True)))
    .order_by(
        EventSource.event_id,
        Article.published_date.nulls_last(),
        Article.id,
        Quote.in_title.desc(),
        Quote.start_offset,
        Quote.id,
    )
)


# -- edits -------------------------------------------------------------------------------------


class EventForEdit(TypedDict):
    id: int
    version: int
    status: str
    event_type: str
    sub_event_type: str | None
    date_start: date
    date_end: date
    external_id: str | None
    retraction_reason: str | None
    retracted_at: datetime | None


def event_for_edit(session: Session, event_id: int) -> EventForEdit | None:
    """The fields an edit is checked against, with the version its ETag names."""
    row = (
        session.execute(
            select(
                Event.id,
                Event.version,
                Event.status,
                Event.event_type,
                Event.sub_event_type,
                Event.date_start,
                Event.date_end,
                Event.external_id,
                Event.retraction_reason,
                Event.retracted_at,
            ).where(Event.id == event_id)
        )
        .mappings()
        .first()
    )
    return cast(EventForEdit, dict(row)) if row else None


def sub_event_types(session: Session, event_type: str) -> set[str] | None:
    """The sub-types of an event type; None when the type is unknown."""
    if session.execute(select(EventTypeRow.name).where(EventTypeRow.name == event_type)).first():
        return set(
            session.scalars(select(SubEventType.name).where(SubEventType.event_type == event_type))
        )
    return None


def is_source(session: Session, event_id: int, article_id: int) -> bool:
    return (
        session.execute(
            select(EventSource.id).where(
                EventSource.event_id == event_id, EventSource.article_id == article_id
            )
        ).first()
        is not None
    )


def is_quote_of(session: Session, quote_id: int, article_id: int | None) -> bool:
    return (
        session.execute(
            select(Quote.id).where(Quote.id == quote_id, Quote.article_id == article_id)
        ).first()
        is not None
    )


def claim_for_edit(session: Session, claim_id: int) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(
                Claim.id,
                Claim.event_id,
                Claim.field,
                Claim.kind,
                Claim.value,
                Claim.qualifier,
                Claim.origin,
                Claim.article_id,
                Claim.withdrawn_at,
                Claim.withdrawn_reason,
            ).where(Claim.id == claim_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def event_by_external_id(session: Session, external_id: str) -> int | None:
    return session.execute(select(Event.id).where(Event.external_id == external_id)).scalar()


def event_exists(session: Session, event_id: int) -> bool:
    return session.execute(select(Event.id).where(Event.id == event_id)).first() is not None


def lock_events(session: Session, event_ids: list[int]) -> None:
    """Row locks on events (PostgreSQL; SQLite's writers already hold the database lock), so
    checks on their evidence hold until this transaction ends."""
    if event_ids:
        session.execute(
            select(Event.id).where(Event.id.in_(sorted(event_ids))).with_for_update()
        ).all()


def events_citing_article(session: Session, article_id: int) -> list[int]:
    return sorted(
        session.scalars(select(EventSource.event_id).where(EventSource.article_id == article_id))
    )


def events_citing_quote(session: Session, quote_id: int) -> list[int]:
    return sorted(
        session.scalars(
            select(EventSource.event_id)
            .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
            .where(EventSourceQuote.quote_id == quote_id)
            .distinct()
        )
    )


def active_events_only_sourced_by(session: Session, article_id: int) -> list[int]:
    """Active events whose every source is this article."""
    source = aliased(EventSource)
    other = (
        select(source.id)
        .where(source.event_id == Event.id, source.article_id != article_id)
        .exists()
    )
    stmt = (
        select(Event.id)
        .join(EventSource, EventSource.event_id == Event.id)
        .where(EventSource.article_id == article_id, Event.status == "active", ~other)
        .order_by(Event.id)
    )
    return list(session.scalars(stmt))


def active_events_only_quoting(session: Session, quote_id: int) -> list[int]:
    """Active events citing this quote and no other."""
    cited = (
        select(EventSource.event_id)
        .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
        .where(EventSourceQuote.quote_id == quote_id)
    )
    source, cites = aliased(EventSource), aliased(EventSourceQuote)
    other = (
        select(cites.quote_id)
        .join(source, source.id == cites.event_source_id)
        .where(source.event_id == Event.id, cites.quote_id != quote_id)
        .exists()
    )
    stmt = (
        select(Event.id)
        .where(Event.id.in_(cited), Event.status == "active", ~other)
        .order_by(Event.id)
    )
    return list(session.scalars(stmt))


# -- history -----------------------------------------------------------------------------------


def _revision(row: Any) -> dict[str, Any]:
    revision = dict(row)
    revision["changes"] = {
        field: {"before": before, "after": after}
        for field, (before, after) in (revision["changes"] or {}).items()
    }
    return revision


def list_revisions(
    session: Session, event_id: int, query: PageQuery
) -> tuple[list[dict[str, Any]], str | None]:
    """The event's revisions, oldest first (newest last)."""
    stmt = select(
        EventRevision.id,
        EventRevision.event_id,
        EventRevision.action,
        EventRevision.api_key_id,
        EventRevision.changed_at,
        EventRevision.changes,
    ).where(EventRevision.event_id == event_id)
    return fetch_page(session, stmt, query, columns=(EventRevision.id,), row=_revision)


def count_revisions(session: Session, event_id: int) -> int:
    stmt = select(func.count()).select_from(EventRevision).where(EventRevision.event_id == event_id)
    return int(session.execute(stmt).scalar_one())


# -- rows for the file formats (app.events.streams) ------------------------------------------

_EXPORT_CHUNK = 1000


def _export_chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), _EXPORT_CHUNK):
        yield ordered[i : i + _EXPORT_CHUNK]


def export_page(
    session: Session,
    clauses: Sequence[ColumnElement[bool]],
    sort: str,
    after: Sequence[Any] | None,
    limit: int,
    through: Sequence[Any] | None = None,
) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """One keyset page of the events matching ``clauses`` in the order of ``sort`` (one of the
    events list's), after ``after`` and up to ``through``, with the dataset row behind each
    imported one; and the sort keys of its last row (None when it was the last page of that
    range). As ``event_page``, one short statement a page."""
    order = SORTS[sort]
    stmt = (
        select(
            Event.id,
            *(getattr(Event, name) for name in RECORDED_FIELDS),
            Event.interaction,
            *(getattr(Event, name) for name in DERIVED_FIELDS),
            Dataset.name.label("dataset"),
            EventProvenance.dataset_version,
            EventProvenance.external_id.label("dataset_event_id"),
            EventProvenance.original,
        )
        .outerjoin(EventProvenance, EventProvenance.event_id == Event.id)
        .outerjoin(Dataset, Dataset.id == EventProvenance.dataset_id)
        .where(*order.between(after, through), *clauses)  # bounds first: list_statement
        .order_by(*order.order_by())
    )
    result = history.run(session, stmt.limit(limit), {})
    keys = list(result.keys())
    rows = [dict(zip(keys, row, strict=True)) for row in result]
    return rows, order.values(rows[-1]) if len(rows) == limit else None


def place_chains(session: Session, place_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each place with its ancestors, outermost (the country) first, the place itself last."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _export_chunks(place_ids):
        for row in session.execute(
            select(
                PlaceAncestor.place_id.label("of"),
                Place.id,
                Place.name,
                Place.kind,
                Place.country,
                Place.latitude,
                Place.longitude,
            )
            .join(Place, Place.id == PlaceAncestor.ancestor_id)
            .where(PlaceAncestor.place_id.in_(chunk))
            .order_by(PlaceAncestor.place_id, PlaceAncestor.depth.desc())
        ).mappings():
            place = dict(row)
            out[place.pop("of")].append(place)
    return out


def event_sources(session: Session, event_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _export_chunks(event_ids):
        for row in session.execute(
            select(
                EventSource.event_id,
                Article.id.label("article_id"),
                Outlet.name.label("outlet"),
                Article.title,
                Article.url,
                Article.published_date,
            )
            .join(Article, Article.id == EventSource.article_id)
            .join(Outlet, Outlet.id == Article.outlet_id)
            .where(EventSource.event_id.in_(chunk))
            .order_by(EventSource.event_id, Article.published_date.nulls_last(), Article.id)
        ).mappings():
            source = dict(row)
            out[source.pop("event_id")].append(source)
    return out


# -- issue 12: what changed between two versions ------------------------------------------------

# Columns a diff leaves out: bookkeeping that every change moves.
_UNDIFFED = frozenset({"version", "created_at", "updated_at"})


def _at(stmt: Any, version: int) -> Any:
    """``stmt`` over the versioned tables as they were at ``version``."""
    return stmt.add_cte(*history.ctes(version))


def diff(session: Session, f: EventFilter, older: int, newer: int) -> dict[str, Any]:
    """The events that entered, left or changed within ``f``'s slice between two versions
    (both checked by the caller); ``f`` comes through ``with_live_ids(..., read_as_of=False)``.

    Only events the change feed names between the versions can differ, so only those are
    read, at each version, with the list's filters.
    """
    candidates = sorted(
        set(
            session.scalars(
                select(EventChange.event_id).where(
                    EventChange.version > older, EventChange.version <= newer
                )
            )
        )
    )
    added: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for chunk in chunks(candidates):
        before = _matching(session, f, older, chunk)
        after = _matching(session, f, newer, chunk)
        rows = {v: _states(session, v, chunk) for v in (older, newer)}
        for event_id in chunk:
            old, new = rows[older].get(event_id), rows[newer].get(event_id)
            if event_id in after and event_id not in before:
                added.append({"id": event_id, "created": old is None})
            elif event_id in before and event_id not in after:
                retracted = new is None or new["status"] != "active"
                removed.append({"id": event_id, "reason": "retracted" if retracted else "left"})
            elif event_id in before and old is not None and new is not None:
                changes = {k: {"from": old[k], "to": new[k]} for k in new if old.get(k) != new[k]}
                if changes:
                    changed.append({"id": event_id, "changes": changes})
    return {"from": older, "to": newer, "added": added, "removed": removed, "changed": changed}


def _matching(session: Session, f: EventFilter, version: int, ids: list[int]) -> set[int]:
    stmt = select(Event.id).where(Event.id.in_(ids), *filter_clauses(f))
    return set(session.scalars(_at(stmt, version)))


def _states(session: Session, version: int, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each event's fields, actors and sources at ``version`` (absent: it did not exist)."""
    out: dict[int, dict[str, Any]] = {}
    for row in session.execute(_at(select(Event.__table__).where(Event.id.in_(ids)), version)):
        state = {k: v for k, v in row._mapping.items() if k not in _UNDIFFED}
        state["actors"], state["sources"] = [], []
        out[row.id] = state
    for link in session.execute(
        _at(
            select(EventActor.event_id, EventActor.actor_id, EventActor.side, EventActor.role)
            .where(EventActor.event_id.in_(ids))
            .order_by(EventActor.event_id, EventActor.actor_id),
            version,
        )
    ):
        if link.event_id in out:
            out[link.event_id]["actors"].append(
                {"actor_id": link.actor_id, "side": link.side, "role": link.role}
            )
    for event_id, article_id in session.execute(
        _at(
            select(EventSource.event_id, EventSource.article_id)
            .where(EventSource.event_id.in_(ids))
            .order_by(EventSource.event_id, EventSource.article_id),
            version,
        )
    ):
        if event_id in out:
            out[event_id]["sources"].append(article_id)
    return out
