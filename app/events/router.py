"""HTTP routes for events."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import derived
from app.auth.dependencies import CurateAccess, read_access, sees_protected
from app.core import bodies, etag, ids
from app.core.errors import NotFound, problem_content, problem_responses
from app.core.pagination import Page, PageQuery
from app.db.session import EngineDep, ReadEngineDep, ReadSessionDep, read_session
from app.events import asof, repository, service, streams
from app.events.schemas import (
    ClaimCreate,
    ClaimWithdrawal,
    EventDetail,
    EventDetailQuery,
    EventDiff,
    EventDiffQuery,
    EventListQuery,
    EventRead,
    EventRetraction,
    EventRevisionRead,
    EventUpdate,
)
from app.http import negotiation
from app.http.streaming import BoundedStream, StreamSlots
from app.vocabulary.dependencies import known_terms

LIST_MEDIA_TYPES = {name: streams.MEDIA_TYPES[name] for name in streams.LIST_FORMATS}
router = APIRouter(prefix="/v1/events", tags=["events"])

EventId = Annotated[ids.PathId, Path(description="Event id.", examples=[1])]
WITH_ETAG = {
    "description": "The event; `ETag` names its version.",
    "headers": etag.response_header(),
}
WITH_VERSION = {
    "description": "The event; `ETag` names its version, `Data-Version` the data's.",
    "headers": {**etag.response_header(), **etag.data_version_header()},
}


_GEOJSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "datasets": {
            "type": "array",
            "description": (
                "The datasets whose events the collection holds, with the licence and "
                "citation their users owe them (a foreign member, RFC 7946 6.1)."
            ),
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "licence": {"type": ["string", "null"]},
                    "citation": {"type": ["string", "null"]},
                    "url": {"type": ["string", "null"]},
                },
            },
        },
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "id", "geometry", "properties"],
                "properties": {
                    "type": {"const": "Feature"},
                    "id": {"type": "integer"},
                    "geometry": {
                        "description": "A Point [longitude, latitude]; null without coordinates.",
                        "anyOf": [
                            {
                                "type": "object",
                                "required": ["type", "coordinates"],
                                "properties": {
                                    "type": {"const": "Point"},
                                    "coordinates": {
                                        "type": "array",
                                        "items": {"type": "number"},
                                        "minItems": 2,
                                        "maxItems": 2,
                                    },
                                },
                            },
                            {"type": "null"},
                        ],
                    },
                    "properties": {
                        "type": "object",
                        "description": "The CSV row's columns (ACLED-like names).",
                        "additionalProperties": {"type": ["string", "number", "null"]},
                    },
                },
            },
        },
    },
}
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "JSON: a page of events. CSV, GeoJSON, NDJSON: the whole filtered result (not "
            "paged), streamed in keyset pages; `Content-Disposition` names a file for CSV and "
            "GeoJSON. A failure part-way aborts the connection, so a truncated stream never "
            "looks complete. The licence and citation of each dataset whose events it holds "
            'come as `Link` headers (`rel="license"`, the citation in `title*`), and in '
            "GeoJSON's `datasets` member too."
        ),
        "headers": {
            "Link": {
                "description": (
                    'Per dataset in the export: `<terms URL>; rel="license"; '
                    "title*=UTF-8''<name: licence. Cite: citation>` (RFC 8288, RFC 8187)."
                ),
                "schema": {"type": "string"},
            }
        },
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "id,external_id,event_date,date_end,...\r\n1,,2018-04-17,...\r\n",
            },
            "application/geo+json": {"schema": _GEOJSON_SCHEMA},
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One JSON event (EventRead) a line."}
            },
        },
    },
    406: {
        "description": "`Accept` allows none of the formats (and no `format=` was given).",
        "content": problem_content(),
    },
    **problem_responses(422, 503),
}
_FILENAMES = {"csv": "events.csv", "geojson": "events.geojson"}


@router.get(
    "",
    response_model=Page[EventRead],
    summary="List events",
    description=(
        "Events matching every filter given (combined with AND), newest first by default.\n\n"
        "**JSON** (`format=json` or `Accept: application/json`, the default): pages of "
        "`limit` (at most 1,000) with an opaque `next_cursor` to pass as `cursor`; "
        "`total=true` counts the matches; `fields=` picks the columns and `include=actors,"
        "sources` embeds relations.\n\n"
        "**CSV** (`text/csv`: one flat row per event, ACLED-like column names), **GeoJSON** "
        "(`application/geo+json`: an RFC 7946 FeatureCollection of Points in [lon, lat] "
        "order, null geometry without coordinates, each feature's properties the event as "
        "in the JSON list) and **NDJSON** (`application/x-ndjson`: one event a line, as in "
        "the JSON list); GeoJSON and NDJSON take `fields=` and `include=` too. All three "
        "are the whole result, streamed in the `sort` order; `limit`, `cursor` and `total` "
        "are refused with them, and `fields`/`include` with CSV. `format=` overrides "
        "`Accept`; an `Accept` allowing none of these is a **406**. Responses are "
        "gzip-compressed for clients that send `Accept-Encoding: gzip`.\n\n"
        "`place` includes every place inside it; a merged place's or actor's id stands for "
        "the one it was merged into. Retracted events are left out unless "
        "`include_retracted=true`. Unknown parameters, fields, includes and sort keys are a "
        "**422** naming them."
    ),
    responses=LIST_RESPONSES,
)
async def list_events(
    request: Request,
    engine: ReadEngineDep,
    f: Annotated[EventListQuery, known_terms(EventListQuery)],
) -> Response:
    fmt = negotiation.negotiate(f.format, request.headers.get("accept"), LIST_MEDIA_TYPES)
    service.check_format_parameters(f, fmt)
    # The answer depends on Accept (when format= is absent): caches must key on it.
    headers = {"Vary": "Accept"}
    if f.as_of is not None:  # issue 12: the version it stands for, read once for every page
        f = await run_in_threadpool(_at_version, engine, f)
        headers.update(asof.headers(f._version or 0))
    reveal = sees_protected(request)
    if fmt == "json":
        max_bytes = request.app.state.settings.page_max_bytes
        body = await run_in_threadpool(_json_page, engine, f, max_bytes, reveal)
        return Response(body, media_type=LIST_MEDIA_TYPES["json"], headers=headers)
    # Issue 12: the licence and citation of every dataset in the export, as Link headers.
    terms = await run_in_threadpool(streams.datasets, engine, f)
    if terms:
        headers["Link"] = licence_links(terms)
    slots: StreamSlots = request.app.state.stream_slots
    slots.acquire()  # a 503 with Retry-After when this process already sends its most
    chunks = streams.stream(
        engine,
        f,
        fmt,
        max_bytes=request.app.state.settings.page_max_bytes,
        terms=terms,
        reveal=reveal,
    )
    # The first chunk is read before anything is sent: a bad `q` or an unreachable database
    # is then still a problem response (422, 503), not a stream cut short.
    try:
        first = await run_in_threadpool(next, chunks, b"")
    except BaseException:
        slots.release()
        await run_in_threadpool(chunks.close)
        raise
    if fmt in _FILENAMES:
        headers["Content-Disposition"] = f'attachment; filename="{_FILENAMES[fmt]}"'
    return BoundedStream(
        first, chunks, slots=slots, media_type=LIST_MEDIA_TYPES[fmt], headers=headers
    )


def licence_links(terms: list[dict[str, Any]]) -> str:
    """One RFC 8288 ``Link`` per dataset: its terms' URL as ``rel="license"`` (RFC 4946), the
    dataset's name, licence and citation in ``title*`` (RFC 8187 encoding: citations are not
    all ASCII)."""
    links = []
    for dataset in terms:
        title = f"{dataset['name']}: {dataset['licence'] or 'licence not recorded'}"
        if dataset["citation"]:
            title += f". Cite: {dataset['citation']}"
        target = dataset["url"] or f"urn:conflictdb:dataset:{quote(dataset['name'], safe='')}"
        links.append(f"<{target}>; rel=\"license\"; title*=UTF-8''{quote(title, safe='')}")
    return ", ".join(links)


def _at_version(engine: Engine, f: EventListQuery) -> EventListQuery:
    with read_session(engine) as session:
        return asof.resolve(session, f)


def _json_page(engine: Engine, f: EventListQuery, max_bytes: int, reveal: bool) -> bytes:
    with read_session(engine) as session:
        return service.list_page(session, f, max_bytes=max_bytes, reveal=reveal)


@router.get(
    "/diff",
    response_model=EventDiff,
    summary="What changed between two data versions",
    description=(
        "The events that entered the slice the list's filters select between data versions "
        "`from` and `to` (`added`: created, or edited into it), that left it (`removed`: "
        "retracted, or edited out of it) and that changed within it (`changed`: each field "
        "with its value at both versions, with `actors` and `sources`). `from` and `to` are "
        "data versions (`Data-Version`) or RFC 3339 times, as `as_of`; `from` after `to`, or "
        "a version outside the history kept, is a **422** naming the range. The filters are "
        "the list's, read at each version; those the history cannot answer (`q`, `outlet`, "
        "`actor_kind`, `include_affiliates`, `count=incidents`) are a **422**. The answer "
        "never changes (`Cache-Control: immutable`); `Data-Version` names `to`. Read the "
        "events themselves with `GET /v1/events?id=...&as_of=<to>`."
    ),
    responses={
        200: {
            "description": "The differences.",
            "headers": etag.data_version_header(),
        },
        **problem_responses(422, 503),
    },
)
def diff_events(
    session: ReadSessionDep,
    q: Annotated[EventDiffQuery, known_terms(EventDiffQuery)],
    response: Response,
) -> dict[str, Any]:
    answer = service.diff(session, q)
    response.headers.update(asof.headers(answer["to"]))
    return answer


@router.api_route("/diff", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def diff_is_read_only() -> None:
    """The diff is read-only: other methods get a 405 naming GET, not the event route's
    422 for `diff` as an event id (the path also fits `/{event_id}`, routed after it; a
    plain Starlette route would be tried only after every API route)."""
    raise StarletteHTTPException(405)


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
    responses={200: WITH_VERSION, **problem_responses(404, 422, 503)},
)
def get_event(
    request: Request,
    session: ReadSessionDep,
    event_id: EventId,
    q: Annotated[EventDetailQuery, Query()],
    response: Response,
) -> dict[str, Any]:
    # Issue 12: the exact data version the detail reflects, in Data-Version.
    reveal = sees_protected(request)
    if q.as_of is not None:
        # As it was at a version: the history's rows valid then, which never change.
        version = asof.version_of(session, q.as_of)
        asof.read_at(session, version)
        event = repository.get_event(session, event_id, reveal=reveal)
        response.headers.update(asof.headers(version))
        if event is None:
            raise NotFound(
                f"No event with id {event_id} at data version {version}.",
                headers=asof.headers(version),
            )
    else:
        event, version = derived.at_one_version(
            session, lambda: repository.get_event(session, event_id, reveal=reveal)
        )
        response.headers["Data-Version"] = str(version)
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
    responses={
        200: WITH_ETAG,
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 503),
    },
    openapi_extra={
        **bodies.openapi_body(EventUpdate),
        "parameters": [etag.parameter(required=True)],
    },
)
async def update_event(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
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
    principal: CurateAccess,
    event_id: EventId,
    q: Annotated[EventRetraction, Query()],
    response: Response,
) -> dict[str, Any]:
    event = service.retract_event(
        engine, event_id, q.reason, request.headers.get(etag.HEADER), principal.api_key_id
    )
    response.headers["ETag"] = service.tag(event)
    return event


ClaimId = Annotated[ids.PathId, Path(description="Claim id.", examples=[3])]


@router.post(
    "/{event_id}/claims",
    response_model=EventDetail,
    status_code=201,
    summary="Record a claim on an event",
    description=(
        "Record a figure beside the event's other claims: a curator's own (no `article_id`), "
        "the headline while it stands; or one a source gives that the curator found "
        "(`article_id`: one of the event's articles, `quote_id`: one of its quotes), which "
        "counts as that outlet's. The headline figures follow the rule (see the event's "
        "`fatalities_best`), and the history gets an `add_claim` revision. A field that "
        "takes no claims (`summary`, `event_type` ...) is a **422** naming it; a retracted "
        "event is a **409**. `If-Match` is optional; when given and stale, **412**. Answers "
        "with the event."
    ),
    responses={
        201: WITH_ETAG,
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 503),
    },
    openapi_extra={
        **bodies.openapi_body(ClaimCreate),
        "parameters": [etag.parameter(required=False)],
    },
)
async def add_claim(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    event_id: EventId,
    response: Response,
) -> dict[str, Any]:
    body = await bodies.parse_body(request, ClaimCreate)
    event = await run_in_threadpool(
        service.add_claim,
        engine,
        event_id,
        body,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
    )
    response.headers["ETag"] = service.tag(event)
    return event


@router.delete(
    "/{event_id}/claims/{claim_id}",
    response_model=EventDetail,
    summary="Withdraw a claim",
    description=(
        "Withdraw one of the event's claims, with the `reason` (kept with it, shown as "
        "`withdrawn`, and in the history as a `withdraw_claim` revision); the headline "
        "figures follow the claims left. Withdrawing it again is a **409**. `If-Match` is "
        "optional; when given and stale, **412**. Answers with the event."
    ),
    responses={200: WITH_ETAG, **problem_responses(401, 403, 404, 409, 412, 422, 503)},
    openapi_extra={"parameters": [etag.parameter(required=False)]},
)
def withdraw_claim(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    event_id: EventId,
    claim_id: ClaimId,
    q: Annotated[ClaimWithdrawal, Query()],
    response: Response,
) -> dict[str, Any]:
    event = service.withdraw_claim(
        engine,
        event_id,
        claim_id,
        q.reason,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
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
        "and merges of its actors or place. Each revision says when, the before and after of "
        "each field that changed, and, to keys with the `curate` or `admin` scope, who (the "
        "API key's id; null for everyone else)."
    ),
    responses=problem_responses(404, 422, 503),
)
def event_history(
    request: Request,
    session: ReadSessionDep,
    event_id: EventId,
    q: Annotated[PageQuery, Query()],
) -> dict[str, Any]:
    rows, next_cursor = service.history(session, event_id, q)
    principal = read_access(request)  # already run for this request: kept on it
    if not principal.scopes & {"curate", "admin"}:
        for row in rows:
            row["api_key_id"] = None
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if q.total:
        page["total"] = repository.count_revisions(session, event_id)
    return page
