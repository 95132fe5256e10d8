"""HTTP routes for actors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.actors import repository
from app.actors.schemas import ActorDetail, ActorFilter, ActorRead
from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import ReadSessionDep

router = APIRouter(prefix="/v1/actors", tags=["actors"])


@router.get(
    "",
    response_model=Page[ActorRead],
    response_model_exclude_unset=True,
    summary="List actors",
    description=(
        "Actors matching every filter given, in id order, in pages of `limit` with an opaque "
        "`next_cursor`. `name` matches any of an actor's names, aliases and transliteration "
        "variants included, as a whole name (not a substring)."
    ),
    responses=problem_responses(422, 503),
)
def list_actors(session: ReadSessionDep, f: Annotated[ActorFilter, Query()]) -> dict[str, Any]:
    rows, next_cursor = repository.list_actors(session, f)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_actors(session, f)
    return page


@router.get(
    "/{actor_id}",
    response_model=ActorDetail,
    summary="Get an actor with its aliases and affiliations",
    description=(
        "The actor with its other names, its affiliations in both directions (the groups it "
        "belongs to and the groups that belong to it), and the number of events it takes part "
        "in, retracted events left out."
    ),
    responses=problem_responses(404, 422, 503),
)
def get_actor(
    session: ReadSessionDep,
    actor_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The actor's id.", examples=[1])],
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    actor = repository.get_actor(session, actor_id)
    if actor is None:
        raise NotFound(f"No actor with id {actor_id}.")
    return actor
