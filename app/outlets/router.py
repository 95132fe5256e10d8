"""HTTP routes for outlets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import ReadSessionDep
from app.outlets import repository
from app.outlets.schemas import OutletDetail, OutletFilter, OutletRead

router = APIRouter(prefix="/v1/outlets", tags=["outlets"])


@router.get(
    "",
    response_model=Page[OutletRead],
    response_model_exclude_unset=True,
    summary="List outlets",
    description=(
        "Outlets matching every filter given, in id order, in pages of `limit` with an opaque "
        "`next_cursor`. `name` matches the whole name after normalisation, not a substring."
    ),
    responses=problem_responses(422, 503),
)
def list_outlets(session: ReadSessionDep, f: Annotated[OutletFilter, Query()]) -> dict[str, Any]:
    rows, next_cursor = repository.list_outlets(session, f)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_outlets(session, f)
    return page


@router.get(
    "/{outlet_id}",
    response_model=OutletDetail,
    summary="Get an outlet",
    description="The outlet with the number of its articles in the database.",
    responses=problem_responses(404, 422, 503),
)
def get_outlet(
    session: ReadSessionDep,
    outlet_id: Annotated[
        int, Path(ge=1, le=2**31 - 1, description="The outlet's id.", examples=[1])
    ],
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    outlet = repository.get_outlet(session, outlet_id)
    if outlet is None:
        raise NotFound(f"No outlet with id {outlet_id}.")
    return outlet
