"""HTTP routes for events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import ReadSessionDep
from app.events import repository
from app.events.schemas import EventDetail, EventFilter, EventRead

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.get(
    "",
    response_model=Page[EventRead],
    response_model_exclude_unset=True,
    summary="List events",
    description=(
        "Events matching every filter given, newest first by default, in pages of `limit` "
        "with an opaque `next_cursor`. `place` includes every place inside it. "
        "Retracted events are left out."
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
        "that support the event."
    ),
    responses=problem_responses(404, 422, 503),
)
def get_event(
    session: ReadSessionDep,
    event_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="Event id.", examples=[1])],
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    event = repository.get_event(session, event_id)
    if event is None:
        raise NotFound(f"No event with id {event_id}.")
    return event
