"""HTTP routes for events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.auth.dependencies import WriteAccess
from app.core import bodies, etag
from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page, PageQuery
from app.db.session import EngineDep, ReadSessionDep
from app.events import repository, service
from app.events.schemas import (
    EventDetail,
    EventFilter,
    EventRead,
    EventRetraction,
    EventRevisionRead,
    EventUpdate,
)

router = APIRouter(prefix="/v1/events", tags=["events"])

EventId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Event id.", examples=[1])]
WITH_ETAG = {
    "description": "The event; `ETag` names its version.",
    "headers": etag.response_header(),
}


@router.get(
    "",
    response_model=Page[EventRead],
    response_model_exclude_unset=True,
    summary="List events",
    description=(
        "Events matching every filter given, newest first by default, in pages of `limit` "
        "with an opaque `next_cursor`. `place` includes every place inside it; a merged "
        "place's or actor's id stands for the one it was merged into. Retracted events are "
        "left out unless `include_retracted=true`."
    ),
    responses=problem_responses(422, 503),
)
def list_events(session: ReadSessionDep, f: Annotated[EventFilter, Query()]) -> dict[str, Any]:
    rows, next_cursor = repository.list_events(session, f)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_events(session, f)
    return page


@router.get(
    "/{event_id}",
    response_model=EventDetail,
    summary="Get an event with its evidence",
    description=(
        "The event with its place (and the places containing it), its actors with side and "
        "role, its measures, and its sources: each article, its outlet and the exact quotes "
        "that support the event. A retracted event is still shown, with `status: retracted` "
        "and the reason. The `ETag` header names its version, for `If-Match`."
    ),
    responses={200: WITH_ETAG, **problem_responses(404, 422, 503)},
)
def get_event(
    session: ReadSessionDep,
    event_id: EventId,
    _: Annotated[NoQuery, Query()],
    response: Response,
) -> dict[str, Any]:
    event = repository.get_event(session, event_id)
    if event is None:
        raise NotFound(f"No event with id {event_id}.")
    response.headers["ETag"] = service.tag(event)
    return event


@router.patch(
    "/{event_id}",
    response_model=EventDetail,
    summary="Edit an event",
    description=(
        "Change the fields given (null clears a nullable one); needs `If-Match` with the "
        "event's ETag (**428** without, **412** when stale: of two clients holding the same "
        "ETag exactly one wins). The change is recorded as a revision (who, when, each field's "
        "before and after): see the event's history. The type and sub-type must go together "
        "(see GET /v1/vocabulary), `date_end` must not precede `date_start`, `place_id` must be "
        "a live place (**422**); an `external_id` another event has is a **409**, and so is an "
        "edit of a retracted event."
    ),
    responses={200: WITH_ETAG, **problem_responses(401, 403, 404, 409, 412, 413, 422, 428, 503)},
    openapi_extra={
        **bodies.openapi_body(EventUpdate),
        "parameters": [etag.parameter(required=True)],
    },
)
async def update_event(
    request: Request,
    engine: EngineDep,
    principal: WriteAccess,
    event_id: EventId,
    response: Response,
) -> dict[str, Any]:
    patch = await bodies.parse_body(request, EventUpdate)
    event = await run_in_threadpool(
        service.update_event,
        engine,
        event_id,
        patch,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
    )
    response.headers["ETag"] = service.tag(event)
    return event


@router.delete(
    "/{event_id}",
    response_model=EventDetail,
    summary="Retract an event",
    description=(
        "Events are evidence and are never deleted: this retracts one, with the `reason` "
        "(a required query parameter, since a DELETE has no body). The event is kept: its "
        "detail shows `status: retracted`, the reason and when; lists leave it out unless "
        "`include_retracted=true`; its history gets a `retract` revision. Answers with the "
        "retracted event and its new `ETag`. Retracting it again is a **409**. `If-Match` is "
        "optional; when given and stale, **412**."
    ),
    responses={200: WITH_ETAG, **problem_responses(401, 403, 404, 409, 412, 422, 503)},
    openapi_extra={"parameters": [etag.parameter(required=False)]},
)
def retract_event(
    request: Request,
    engine: EngineDep,
    principal: WriteAccess,
    event_id: EventId,
    q: Annotated[EventRetraction, Query()],
    response: Response,
) -> dict[str, Any]:
    event = service.retract_event(
        engine, event_id, q.reason, request.headers.get(etag.HEADER), principal.api_key_id
    )
    response.headers["ETag"] = service.tag(event)
    return event


@router.get(
    "/{event_id}/history",
    response_model=Page[EventRevisionRead],
    response_model_exclude_unset=True,
    summary="An event's history",
    description=(
        "Every change to the event, oldest first (newest last), in pages of `limit` with an "
        "opaque `next_cursor`: its creation, edits, retraction, evidence added or removed, "
        "and merges of its actors or place. Each revision says who (the API key's id), when, "
        "and the before and after of each field that changed."
    ),
    responses=problem_responses(404, 422, 503),
)
def event_history(
    session: ReadSessionDep, event_id: EventId, q: Annotated[PageQuery, Query()]
) -> dict[str, Any]:
    rows, next_cursor = service.history(session, event_id, q)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if q.total:
        page["total"] = repository.count_revisions(session, event_id)
    return page
