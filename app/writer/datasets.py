"""Imported datasets: the dataset records, events created from their rows with the row behind
each (provenance), changed rows applied, and rows a new release no longer has retracted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from app import derived
from app.db.base import utcnow
from app.db.bulk import chunks, insert_returning_ids, insert_rows, rowcount
from app.models import (
    ActorExternalId,
    Claim,
    Dataset,
    DimensionCode,
    Event,
    EventActor,
    EventDimension,
    EventProvenance,
    EventSource,
    Place,
)
from app.models.event import FIGURE_FIELDS
from app.writer import evidence
from app.writer.claims import MEASURE, NewClaim, insert_claims
from app.writer.events import NewEvent, NewEventActor, NewSource, create_events, insert_sources
from app.writer.revisions import REVISED_FIELDS, event_actors, event_evidence, record_revisions


@dataclass
class NewProvenance:
    """The imported row behind an event (see ``EventProvenance``)."""

    dataset_id: int
    external_id: str
    dataset_version: str | None
    content_sha256: str
    # For a new event, also the engine's JSON text of it, as an orjson.Fragment (stored as
    # it is: bulk imports encode it in their parsing process).
    original: dict[str, Any] | orjson.Fragment


@dataclass
class ImportedEventUpdate:
    """A changed dataset row applied to the event imported from it.

    ``expected_version`` is the version the last import left (``imported_version``): the
    update applies only if nobody has changed the event since. Figures in ``values`` are the
    dataset's new claims (recorded where they differ from its last ones); the headline
    figures then follow the rule (``app.writer.claims``). ``actors`` and ``article_ids``
    replace the event's actors and sources (an event still at its imported version has only
    what imports gave it). ``values`` may include status fields, to bring back an event a
    previous import retracted as absent.
    """

    event_id: int
    expected_version: int
    values: Mapping[str, Any]
    actors: Sequence[NewEventActor]
    article_ids: Sequence[int]
    provenance: NewProvenance
    # The row's dataset codes (issue 12), replacing the event's.
    dimension_ids: Sequence[int] = ()


def create_dataset(
    session: Session, name: str, licence: str | None, citation: str | None, url: str | None
) -> int:
    (dataset_id,) = insert_returning_ids(
        session, Dataset, [{"name": name, "licence": licence, "citation": citation, "url": url}]
    )
    return dataset_id


def update_dataset(session: Session, dataset_id: int, values: Mapping[str, Any]) -> None:
    """A dataset's licence, citation or URL as its importer now states them."""
    session.execute(update(Dataset).where(Dataset.id == dataset_id).values(**values))


def create_dimension_codes(
    session: Session, codes: Sequence[tuple[str, str, str | None]]
) -> list[int]:
    """New codes of open schemes, (scheme, code, label) each, as an import meets them."""
    if not codes:
        return []
    return insert_returning_ids(
        session,
        DimensionCode,
        [{"scheme": scheme, "code": code, "label": label} for scheme, code, label in codes],
    )


def label_dimension_codes(session: Session, labels: Mapping[int, str]) -> None:
    """Codes a file names for the first time (a conflict's name): the label is filled in."""
    for code_id, label in sorted(labels.items()):
        session.execute(
            update(DimensionCode)
            .where(DimensionCode.id == code_id, DimensionCode.label.is_(None))
            .values(label=label)
        )


def add_actor_external_ids(session: Session, rows: Sequence[tuple[int, int, str]]) -> None:
    """(actor_id, dataset_id, external_id): the actor's id in that dataset, for re-imports."""
    if rows:
        insert_rows(
            session,
            ActorExternalId,
            [{"actor_id": a, "dataset_id": d, "external_id": x} for a, d, x in rows],
        )


def fill_place_coordinates(
    session: Session, coordinates: Mapping[int, tuple[float, float]]
) -> None:
    """Give places without coordinates the ones a dataset row gives; a place that has some
    keeps them. The places that change get a new version."""
    if not coordinates:
        return
    now = utcnow()
    filled = []
    for place_id, (latitude, longitude) in sorted(coordinates.items()):
        result = session.execute(
            update(Place)
            .where(Place.id == place_id, Place.latitude.is_(None))
            .values(
                latitude=latitude, longitude=longitude, version=Place.version + 1, updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(result):
            filled.append(place_id)
    if filled:
        derived.places_located(session, filled)
        # Events list their place's coordinates.
        derived.events_changed(session, derived.events_in_places(session, filled, subtree=False))


def _provenance_row(p: NewProvenance, event_id: int, version: int, now: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "dataset_id": p.dataset_id,
        "external_id": p.external_id,
        "dataset_version": p.dataset_version,
        "content_sha256": p.content_sha256,
        "imported_version": version,
        "original": p.original,
        "imported_at": now,
    }


def import_events(
    session: Session,
    events: Sequence[NewEvent],
    provenance: Sequence[NewProvenance],
    *,
    api_key_id: int | None,
) -> list[int]:
    """Create events from dataset rows (``create_events``) with the row behind each one: their
    figures are claims of the dataset, and the row is their evidence."""
    ids = create_events(
        session,
        [replace(e, dataset_id=p.dataset_id) for e, p in zip(events, provenance, strict=True)],
        api_key_id=api_key_id,
    )
    now = utcnow()
    # create_events leaves every new event at version 1: the version the import hands over.
    insert_rows(
        session,
        EventProvenance,
        [_provenance_row(p, eid, 1, now) for eid, p in zip(ids, provenance, strict=True)],
    )
    return ids


def _original_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """The provenance's original values and flags that changed, one revision field each
    (``original.<column>``, ``flags``), so a revision stays small and says what moved."""
    changes: dict[str, tuple[Any, Any]] = {}
    row_before, row_after = before.get("row", {}), after.get("row", {})
    for key in sorted(set(row_before) | set(row_after)):
        if row_before.get(key) != row_after.get(key):
            changes[f"original.{key}"] = (row_before.get(key), row_after.get(key))
    if before.get("flags", []) != after.get("flags", []):
        changes["flags"] = (before.get("flags", []), after.get("flags", []))
    return changes


def update_imported_events(
    session: Session, updates: Sequence[ImportedEventUpdate], *, api_key_id: int | None
) -> dict[int, int]:
    """Apply changed dataset rows to their events: {event_id: new version} for those applied.

    Each event changes only if still at ``expected_version`` (as in ``compare_and_set``); one
    that has moved on is left out of the result, untouched, for the caller to report as a
    conflict. The events are read locked (PostgreSQL's FOR UPDATE; a SQLite writer holds the
    database's write lock already), so the versions read decide which updates apply, and the
    updates then go in as one batch per statement. Each applied update records an
    'import_update' revision with the before/after of every field, actor, source and original
    value that changed, and the provenance row takes the new content and version.
    """
    if not updates:
        return {}
    ids = [u.event_id for u in updates]
    current: dict[int, Mapping[str, Any]] = {}
    originals: dict[int, dict[str, Any]] = {}
    for chunk in chunks(ids):
        for row in session.execute(
            select(Event.id, Event.version, *(getattr(Event, f) for f in REVISED_FIELDS))
            .where(Event.id.in_(chunk))
            .with_for_update()
        ).mappings():
            current[row["id"]] = dict(row)
        for event_id, original in session.execute(
            select(EventProvenance.event_id, EventProvenance.original).where(
                EventProvenance.event_id.in_(chunk)
            )
        ):
            originals[event_id] = original
    # Edited since the last import (or gone): left alone, for the caller to report.
    updates = [
        u
        for u in updates
        if u.event_id in current and current[u.event_id]["version"] == u.expected_version
    ]
    if not updates:
        return {}
    ids = [u.event_id for u in updates]
    actors_before = event_actors(session, ids)
    evidence_before = event_evidence(session, ids)
    dimensions_before = _event_dimensions(session, ids)
    dimension_rows: list[dict[str, Any]] = []
    dimensions_replaced: list[int] = []
    dataset_figures = _dataset_figures(session, ids)
    now = utcnow()
    applied: dict[int, int] = {}
    revisions: list[tuple[int, str, dict[str, tuple[Any, Any]]]] = []
    # The rows of each statement, by the columns they set (an event brought back from a
    # retraction sets its status too).
    event_rows: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    provenance_rows: list[dict[str, Any]] = []
    actors_replaced: list[int] = []
    actor_rows: list[dict[str, Any]] = []
    new_sources: list[tuple[int, NewSource]] = []
    new_claims: list[tuple[int, NewClaim]] = []
    for u in updates:
        before = current[u.event_id]
        values = {k: v for k, v in u.values.items() if k not in FIGURE_FIELDS}
        changes = {
            k: (before[k], v) for k, v in values.items() if k != "retracted_at" and before[k] != v
        }
        claimed = dataset_figures.get(u.event_id, {})
        new_claims += (
            (
                u.event_id,
                NewClaim(
                    field=f,
                    value=u.values[f],
                    origin="dataset",
                    dataset_id=u.provenance.dataset_id,
                ),
            )
            for f in FIGURE_FIELDS
            if f in u.values
            and (f not in claimed or claimed[f] != u.values[f])
            and (f in claimed or u.values[f] is not None)
        )
        event_rows[tuple(sorted(values))].append(
            {**values, "b_id": u.event_id, "b_version": u.expected_version}
        )
        version = applied[u.event_id] = u.expected_version + 1

        actors_after = [
            {"actor_id": a.actor_id, "side": a.side, "role": a.role}
            for a in sorted(u.actors, key=lambda a: a.actor_id)
        ]
        if actors_after != actors_before[u.event_id]:
            changes["actors"] = (actors_before[u.event_id], actors_after)
            actors_replaced.append(u.event_id)
            actor_rows += (
                {"event_id": u.event_id, "actor_id": a.actor_id, "side": a.side, "role": a.role}
                for a in u.actors
            )
        sources_before = evidence_before[u.event_id]["sources"]
        sources_after = sorted(set(u.article_ids))
        if sources_after != sources_before:
            changes["sources"] = (sources_before, sources_after)
            gone = sorted(set(sources_before) - set(sources_after))
            if gone:
                session.execute(
                    delete(EventSource).where(
                        EventSource.event_id == u.event_id, EventSource.article_id.in_(gone)
                    )
                )
            new_sources += (
                (u.event_id, NewSource(article_id))
                for article_id in sources_after
                if article_id not in set(sources_before)
            )
        dims_after = sorted(set(u.dimension_ids))
        if dims_after != dimensions_before.get(u.event_id, []):
            changes["dimensions"] = (dimensions_before.get(u.event_id, []), dims_after)
            dimensions_replaced.append(u.event_id)
            dimension_rows += ({"code_id": c, "event_id": u.event_id} for c in dims_after)
        changes.update(
            _original_changes(
                originals.get(u.event_id) or {}, cast(dict[str, Any], u.provenance.original)
            )
        )
        provenance_rows.append(
            {
                "b_id": u.event_id,
                "dataset_version": u.provenance.dataset_version,
                "content_sha256": u.provenance.content_sha256,
                "original": u.provenance.original,
                "imported_version": version,
                "imported_at": now,
            }
        )
        revisions.append((u.event_id, "import_update", changes))
    events = cast(Table, Event.__table__)
    for columns, rows in event_rows.items():
        _update_all(
            session,
            update(events)
            .where(events.c.id == bindparam("b_id"), events.c.version == bindparam("b_version"))
            .values(
                {
                    **{name: bindparam(name) for name in columns},
                    "version": events.c.version + 1,
                    "updated_at": now,
                }
            ),
            rows,
        )
    provenance = cast(Table, EventProvenance.__table__)
    _update_all(
        session,
        update(provenance)
        .where(provenance.c.event_id == bindparam("b_id"))
        .values({name: bindparam(name) for name in _PROVENANCE_UPDATED}),
        provenance_rows,
    )
    for chunk in chunks(actors_replaced):
        session.execute(delete(EventActor).where(EventActor.event_id.in_(chunk)))
    insert_rows(session, EventActor, actor_rows)
    for chunk in chunks(dimensions_replaced):
        session.execute(delete(EventDimension).where(EventDimension.event_id.in_(chunk)))
    insert_rows(session, EventDimension, dimension_rows)
    insert_sources(session, new_sources)
    insert_claims(session, new_claims, api_key_id=api_key_id)
    figures = evidence.refresh(session, ids)
    record_revisions(
        session,
        [
            (event_id, action, {**changes, **figures.get(event_id, {})})
            for event_id, action, changes in revisions
        ],
        api_key_id,
    )
    return applied


def _event_dimensions(session: Session, ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks(ids):
        for event_id, code_id in session.execute(
            select(EventDimension.event_id, EventDimension.code_id)
            .where(EventDimension.event_id.in_(chunk))
            .order_by(EventDimension.event_id, EventDimension.code_id)
        ):
            out[event_id].append(code_id)
    return out


def _dataset_figures(session: Session, event_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The dataset's latest standing claim on each figure of each event (its last import)."""
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    for chunk in chunks(event_ids):
        for event_id, field_name, value in session.execute(
            select(Claim.event_id, Claim.field, Claim.value)
            .where(
                Claim.event_id.in_(chunk),
                Claim.origin == "dataset",
                Claim.field != MEASURE,
                Claim.withdrawn_at.is_(None),
            )
            .order_by(Claim.id)
        ):
            out[event_id][field_name] = None if value is None else round(value)
    return out


_PROVENANCE_UPDATED = (
    "dataset_version",
    "content_sha256",
    "original",
    "imported_version",
    "imported_at",
)


def _update_all(session: Session, statement: Any, rows: list[dict[str, Any]]) -> None:
    """One UPDATE for many rows (executemany), each row expected to match exactly one."""
    if not rows:
        return
    result = session.execute(statement, rows)
    if rowcount(result) != len(rows):
        # The rows were read locked in this transaction: this is a bug, not a race.
        raise RuntimeError(f"{len(rows)} rows to update, {rowcount(result)} updated")


def retract_imported_events(
    session: Session,
    events: Sequence[tuple[int, int]],
    reason: str,
    *,
    api_key_id: int | None,
) -> dict[int, int]:
    """Retract (never delete) imported events their dataset no longer has.

    ``events`` are (event id, expected version); an event that has moved on since (or is no
    longer active) is left alone and out of the result ({event_id: new version}). As in
    ``update_imported_events``, the events are read locked and the retractions go as one
    batch. Each retraction records a 'retract' revision, and the provenance's
    ``imported_version`` follows, so the import that retracted an event may bring it back if
    a later release has the row again.
    """
    now = utcnow()
    expected = dict(events)
    applied: dict[int, int] = {}
    for chunk in chunks(expected):
        for event_id, version, status in session.execute(
            select(Event.id, Event.version, Event.status)
            .where(Event.id.in_(chunk))
            .with_for_update()
        ):
            if version == expected[event_id] and status == "active":
                applied[event_id] = version + 1
    table = cast(Table, Event.__table__)
    _update_all(
        session,
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values(
            status="retracted",
            retraction_reason=reason,
            retracted_at=now,
            version=table.c.version + 1,
            updated_at=now,
        ),
        [{"b_id": event_id, "b_version": expected[event_id]} for event_id in applied],
    )
    provenance = cast(Table, EventProvenance.__table__)
    _update_all(
        session,
        update(provenance)
        .where(provenance.c.event_id == bindparam("b_id"))
        .values(imported_version=bindparam("b_imported")),
        [{"b_id": event_id, "b_imported": version} for event_id, version in applied.items()],
    )
    record_revisions(
        session,
        [
            (
                event_id,
                "retract",
                {"status": ("active", "retracted"), "retraction_reason": (None, reason)},
            )
            for event_id in applied
        ],
        api_key_id,
    )
    evidence.refresh_incidents_of(session, applied)
    return applied
