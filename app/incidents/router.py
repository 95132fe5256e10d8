"""HTTP routes for incidents: link events as one incident, unlink them, read incidents, and an
event's likely duplicates (``/v1/events/{id}/similar``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.auth.dependencies import CurateAccess
from app.core import bodies, ids
from app.core.edits import outcome_response
from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import EngineDep, ReadSessionDep
from app.idempotency import service as idempotency
from app.incidents import repository, service
from app.incidents.schemas import (
    IncidentDetail,
    IncidentLink,
    IncidentListQuery,
    IncidentListRow,
    IncidentUnlinked,
    SimilarPage,
    SimilarQuery,
)

router = APIRouter(tags=["incidents"])

IncidentId = Annotated[ids.PathId, Path(description="Incident id.", examples=[1])]
EventId = Annotated[ids.PathId, Path(description="Event id.", examples=[1])]


@router.post(
    "/v1/incidents",
    status_code=201,
    response_model=IncidentDetail,
    summary="Link events as one incident",
    description=(
        "Several records may describe one real-world incident: different outlets' reports, "
        "a UCDP GED row, an ACLED row. Linking them never merges them: each keeps its own id, "
        "evidence, claims and figures, and names its incident (`incident_id`). Events not "
        "linked yet make a new incident (**201**, with `Location`); events of which some are "
        "linked already join their incident (**200**), and two incidents become one (the "
        "older is kept). `count=incidents` on lists and stats then counts the incident once, "
        "as its lead record. Each event's history gets a `link` revision.\n\n"
        "**422** naming the offending part: an event listed twice (linked to itself), one "
        "that does not exist or is retracted, or events all linked as one incident already. "
        "Two curators linking the same events at once leave one incident: the second finds "
        "them linked (422). Accepts `Idempotency-Key`."
    ),
    responses={
        201: {
            "description": "The new incident.",
            "headers": {
                "Location": {"description": "The incident's URL.", "schema": {"type": "string"}}
            },
        },
        200: {"description": "The incident the events joined."},
        **problem_responses(400, 401, 403, 413, 415, 422, 503),
    },
    openapi_extra={
        **bodies.openapi_body(IncidentLink, example={"events": [1, 7]}),
        "parameters": [idempotency.parameter()],
    },
)
async def link(request: Request, engine: EngineDep, principal: CurateAccess) -> JSONResponse:
    raw = await bodies.read_body(request)
    body = bodies.validate_json(IncidentLink, raw)
    idem = idempotency.from_request(request, raw, principal.api_key_id)
    outcome = await run_in_threadpool(service.link, engine, body, principal.api_key_id, idem)
    return outcome_response(outcome, service.KIND, service.location)


@router.get(
    "/v1/incidents",
    response_model=Page[IncidentListRow],
    response_model_exclude_unset=True,
    summary="List incidents",
    description=(
        "Incidents in id order, each with its lead record and the ids of its records, in "
        "pages of `limit` with an opaque `next_cursor`. The records themselves: "
        "GET /v1/incidents/{id}, or GET /v1/events?incident={id}."
    ),
    responses=problem_responses(422, 503),
)
def list_incidents(
    session: ReadSessionDep, q: Annotated[IncidentListQuery, Query()]
) -> dict[str, Any]:
    rows, next_cursor = repository.list_incidents(session, q)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if q.total:
        page["total"] = repository.count_incidents(session)
    return page


@router.get(
    "/v1/incidents/{incident_id}",
    response_model=IncidentDetail,
    summary="Get an incident with its records",
    description=(
        "The incident, its lead record (what `count=incidents` counts), and every record "
        "linked as it with where it comes from (its dataset, its articles' outlets) and its "
        "evidence."
    ),
    responses=problem_responses(404, 422, 503),
)
def get_incident(
    session: ReadSessionDep, incident_id: IncidentId, _: Annotated[NoQuery, Query()]
) -> dict[str, Any]:
    incident = repository.get_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"No incident with id {incident_id}.")
    return incident


@router.delete(
    "/v1/incidents/{incident_id}/events/{event_id}",
    response_model=IncidentUnlinked,
    summary="Unlink an event from its incident",
    description=(
        "The event leaves the incident and keeps everything of its own; its history gets an "
        "`unlink` revision. An incident left with one record is dissolved (that record is "
        "unlinked too). **404** when the event is not linked as this incident."
    ),
    responses=problem_responses(401, 403, 404, 422, 503),
)
def unlink(
    engine: EngineDep,
    principal: CurateAccess,
    incident_id: IncidentId,
    event_id: EventId,
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    return service.unlink(engine, incident_id, event_id, principal.api_key_id)


@router.get(
    "/v1/events/{event_id}/similar",
    response_model=SimilarPage,
    summary="Events that likely describe the same incident",
    description=(
        "Candidates for the same real-world incident as this event, whatever their origin "
        "(other outlets' reports, UCDP GED, ACLED): active events within `km` kilometres "
        "and `days` days, of a compatible type (battles, explosions and violence against "
        "civilians go together; protests and riots; strategic developments), best first. "
        "Each has a `score` from 0 to 1 and its `reasons`: distance, days apart, type, "
        "actors in common (however each source spells them), fatalities, place names. "
        "Candidates linked as the same incident already are listed too, with their "
        "`incident_id`. An event without coordinates finds candidates at its own place only."
    ),
    responses=problem_responses(404, 422, 503),
)
def similar(
    session: ReadSessionDep, event_id: EventId, q: Annotated[SimilarQuery, Query()]
) -> dict[str, Any]:
    return service.similar(session, event_id, q)
