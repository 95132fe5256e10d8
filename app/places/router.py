"""HTTP routes for places."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import ReadSessionDep
from app.places import repository
from app.places.schemas import PlaceDetail, PlaceFilter, PlaceRead

router = APIRouter(prefix="/v1/places", tags=["places"])


@router.get(
    "",
    response_model=Page[PlaceRead],
    response_model_exclude_unset=True,
    summary="List places",
    description=(
        "Places in the gazetteer matching every filter given, in id order, in pages of `limit` "
        "with an opaque `next_cursor`. `name` matches any of a place's names, aliases and "
        "transliteration variants included; `parent` gives the places directly inside one, "
        "`within` every place inside it at any depth."
    ),
    responses=problem_responses(422, 503),
)
def list_places(session: ReadSessionDep, f: Annotated[PlaceFilter, Query()]) -> dict[str, Any]:
    rows, next_cursor = repository.list_places(session, f)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_places(session, f)
    return page


@router.get(
    "/{place_id}",
    response_model=PlaceDetail,
    summary="Get a place with its hierarchy",
    description=(
        "The place with its other names, the places containing it (outermost first), the "
        "places directly inside it, and the number of events at it or anywhere inside it, "
        "retracted events left out."
    ),
    responses=problem_responses(404, 422, 503),
)
def get_place(
    session: ReadSessionDep,
    place_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The place's id.", examples=[1])],
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    place = repository.get_place(session, place_id)
    if place is None:
        raise NotFound(f"No place with id {place_id}.")
    return place
