"""Reading event lists (a JSON page; the streamed formats are ``app.events.streams``), and the
rules for editing and retracting events; the writes themselves go through ``app.writer``.

Each edit runs in one write transaction (committed before the response is read back), and
changes the event only if its version is still the one the client's If-Match names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import writer
from app.core import etag
from app.core.edits import invalid
from app.core.errors import Conflict, EventRetracted, NotFound, ValidationProblem
from app.core.outcomes import Outcome
from app.core.pagination import PageQuery
from app.db.session import read_session
from app.events import asof, repository
from app.events.schemas import ClaimCreate, EventDiffQuery, EventListQuery, EventUpdate
from app.places import repository as place_repository
from app.writer.transaction import write_transaction

KIND = "event"

# -- reading lists -----------------------------------------------------------------------------

# Datetimes as pydantic writes them (UTC as `Z`), so the lean path's JSON is EventRead's.
JSON_OPTIONS: Final = orjson.OPT_UTC_Z


def check_format_parameters(f: EventListQuery, fmt: str) -> None:
    """Paging belongs to JSON; ``fields`` and ``include`` to the formats in the API's shape.
    Given with a format they do not apply to, they are refused (422), not ignored."""
    given = f.model_fields_set
    refused = [name for name in ("limit", "cursor", "total") if name in given and fmt != "json"] + [
        name for name in ("fields", "include") if name in given and fmt == "csv"
    ]
    if refused:
        raise ValidationProblem(
            f"{', '.join(refused)} cannot be used with format {fmt}: the streamed formats are "
            "the whole result, and csv has fixed columns.",
            errors=[
                {
                    "loc": ["query", name],
                    "msg": f"{name} does not apply to format {fmt}",
                    "type": "format_conflict",
                }
                for name in refused
            ],
        )


def list_page(
    session: Session, f: EventListQuery, *, max_bytes: int | None = None, reveal: bool = False
) -> bytes:
    """A JSON page of events, serialised straight from Core rows (no per-row validation);
    with ``include=sources``, cut short before ``max_bytes`` (``repository.list_events``);
    ``reveal``: protected speakers' names shown (a curator's key)."""
    rows, next_cursor = repository.list_events(session, f, max_bytes=max_bytes)
    repository.attach(session, rows, f.include or (), reveal=reveal)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_events(session, f)
    return orjson.dumps(page, option=JSON_OPTIONS)


def diff(session: Session, q: EventDiffQuery) -> dict[str, Any]:
    """GET /v1/events/diff (issue 12): both versions checked (a 422 naming ``from`` or ``to``
    and the range), ``from`` no later than ``to``, the filters the history can answer."""
    if q.as_of is not None:
        raise ValidationProblem(
            "as_of does not apply to a diff: its versions are from and to.",
            errors=[
                {"loc": ["query", "as_of"], "msg": "use from and to", "type": "as_of_conflict"}
            ],
        )
    older = asof.version_of(session, q.from_, "from")
    newer = asof.version_of(session, q.to, "to")
    if older > newer:
        msg = f"from (version {older}) is after to (version {newer}): from must be at most to."
        raise ValidationProblem(
            msg,
            errors=[
                {"loc": ["query", name], "msg": msg, "type": "range"} for name in ("from", "to")
            ],
        )
    asof.refuse_unreproducible(q)
    f = q.model_copy()
    f._version = newer  # ids taken as given: merged records still had their events then
    f = repository.with_live_ids(session, f, read_as_of=False)
    return repository.diff(session, f, older, newer)


# -- edits -------------------------------------------------------------------------------------


def tag(event: Mapping[str, Any]) -> str:
    """The ETag of an event row: an edit's (``EventForEdit``) or the detail's."""
    return etag.make(KIND, event["id"], event["version"])


def _current(session: Session, event_id: int, if_match: str | None) -> repository.EventForEdit:
    current = repository.event_for_edit(session, event_id)
    if current is None:
        raise NotFound(f"No event with id {event_id}.")
    etag.check(if_match, tag(current))
    return current


def _read_back(engine: Engine, event_id: int) -> dict[str, Any]:
    """The event as committed, for the curator who changed it (protected names shown)."""
    with read_session(engine) as session:
        event = repository.get_event(session, event_id, reveal=True)
    if event is None:  # pragma: no cover - events are never deleted
        raise NotFound(f"No event with id {event_id}.")
    return event


def update_event(
    engine: Engine, event_id: int, patch: EventUpdate, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    """Apply a PATCH; returns the event as committed."""
    etag.require(if_match)
    values = patch.given()

    def work(session: Session) -> Outcome:
        current = _current(session, event_id, if_match)
        if current["status"] != "active":
            raise EventRetracted(
                f"Event {event_id} is retracted ({current['retraction_reason']}); it is kept "
                "as it was and cannot be edited."
            )
        _check_update(session, event_id, current, values)
        writer.update_event(session, event_id, current["version"], values, api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    return _read_back(engine, event_id)


def _check_update(
    session: Session, event_id: int, current: repository.EventForEdit, values: dict[str, Any]
) -> None:
    event_type = values.get("event_type", current["event_type"])
    sub_type = values.get("sub_event_type", current["sub_event_type"])
    if "event_type" in values or "sub_event_type" in values:
        subs = repository.sub_event_types(session, event_type)
        if subs is None:
            raise invalid(
                "event_type",
                f"unknown event type {event_type!r} (see GET /v1/vocabulary)",
                "unknown_event_type",
            )
        if sub_type is not None and sub_type not in subs:
            field = "sub_event_type" if "sub_event_type" in values else "event_type"
            raise invalid(
                field,
                f"{sub_type!r} is not a sub-type of {event_type!r}; give a sub_event_type of "
                "the new type (see GET /v1/vocabulary)",
                "unknown_sub_event_type",
            )
    start = values.get("date_start", current["date_start"])
    end = values.get("date_end", current["date_end"])
    if end < start:
        field = "date_end" if "date_end" in values else "date_start"
        raise invalid(field, f"date_end {end} is before date_start {start}", "date_order")
    place_id = values.get("place_id")
    if place_id is not None:
        place = place_repository.merge_state(session, place_id)
        if place is None:
            raise invalid("place_id", f"no place with id {place_id}", "unknown_place")
        if place["merged_into_id"] is not None:
            raise invalid(
                "place_id",
                f"place {place_id} was merged into place {place['merged_into_id']}; use that id",
                "merged_place",
            )
    external_id = values.get("external_id")
    if external_id is not None and external_id != current["external_id"]:
        holder = repository.event_by_external_id(session, external_id)
        if holder is not None and holder != event_id:
            raise Conflict(
                f"Event {holder} already has external_id {external_id!r}.", event_id=holder
            )


def retract_event(
    engine: Engine, event_id: int, reason: str, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    """Retract an event (kept, with its reason); returns it as committed."""

    def work(session: Session) -> Outcome:
        current = _current(session, event_id, if_match)
        if current["status"] != "active":
            raise EventRetracted(
                f"Event {event_id} is already retracted: {current['retraction_reason']}"
            )
        writer.retract_event(session, event_id, current["version"], reason, api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    return _read_back(engine, event_id)


# -- claims -------------------------------------------------------------------------------------


def add_claim(
    engine: Engine, event_id: int, body: ClaimCreate, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    """Record a claim on an event: a curator's own, or one a source article of the event gives
    (and maybe one of its quotes); the headline figures follow. Returns the event."""

    def work(session: Session) -> Outcome:
        current = _current(session, event_id, if_match)
        if current["status"] != "active":
            raise EventRetracted(
                f"Event {event_id} is retracted ({current['retraction_reason']}); it is kept "
                "as it was and takes no claims."
            )
        if body.article_id is not None and not repository.is_source(
            session, event_id, body.article_id
        ):
            raise invalid(
                "article_id",
                f"article {body.article_id} is not a source of event {event_id}; add it as "
                "evidence first (a report referring to the event)",
                "not_a_source",
            )
        if body.quote_id is not None and not repository.is_quote_of(
            session, body.quote_id, body.article_id
        ):
            raise invalid(
                "quote_id",
                f"quote {body.quote_id} is not a quote of article {body.article_id}",
                "unknown_quote",
            )
        claim = writer.NewClaim(
            field=body.field,
            value=body.value,
            origin="source" if body.article_id is not None else "curator",
            kind=body.kind,
            qualifier=body.qualifier,
            article_id=body.article_id,
            quote_id=body.quote_id,
        )
        writer.add_claims(session, event_id, current["version"], [claim], api_key_id=api_key_id)
        return Outcome(201, None)

    write_transaction(engine, work)
    return _read_back(engine, event_id)


def withdraw_claim(
    engine: Engine,
    event_id: int,
    claim_id: int,
    reason: str,
    if_match: str | None,
    api_key_id: int | None,
) -> dict[str, Any]:
    """Withdraw one of an event's claims (kept, with the reason); returns the event."""

    def work(session: Session) -> Outcome:
        current = _current(session, event_id, if_match)
        claim = repository.claim_for_edit(session, claim_id)
        if claim is None or claim["event_id"] != event_id:
            raise NotFound(f"Event {event_id} has no claim {claim_id}.")
        if current["status"] != "active":
            raise EventRetracted(
                f"Event {event_id} is retracted ({current['retraction_reason']}); its claims "
                "are kept as they were."
            )
        if claim["withdrawn_at"] is not None:
            raise Conflict(
                f"Claim {claim_id} was withdrawn already: {claim['withdrawn_reason']}",
                claim_id=claim_id,
            )
        writer.withdraw_claim(
            session, event_id, current["version"], claim, reason, api_key_id=api_key_id
        )
        return Outcome(200, None)

    write_transaction(engine, work)
    return _read_back(engine, event_id)


def history(
    session: Session, event_id: int, query: PageQuery
) -> tuple[list[dict[str, Any]], str | None]:
    if not repository.event_exists(session, event_id):
        raise NotFound(f"No event with id {event_id}.")
    return repository.list_revisions(session, event_id, query)
