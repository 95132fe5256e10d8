"""HTTP routes for quotes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import ReadSessionDep
from app.quotes import repository
from app.quotes.schemas import QuoteDetail, QuoteFilter, QuoteRead

router = APIRouter(prefix="/v1/quotes", tags=["quotes"])


@router.get(
    "",
    response_model=Page[QuoteRead],
    response_model_exclude_unset=True,
    summary="List quotes",
    description=(
        "Quotes matching every filter given, in id order, in pages of `limit` with an opaque "
        "`next_cursor`. Each is an exact span of its article's body: `start` and `end` are "
        "code-point offsets, end exclusive."
    ),
    responses=problem_responses(422, 503),
)
def list_quotes(session: ReadSessionDep, f: Annotated[QuoteFilter, Query()]) -> dict[str, Any]:
    rows, next_cursor = repository.list_quotes(session, f)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_quotes(session, f)
    return page


@router.get(
    "/{quote_id}",
    response_model=QuoteDetail,
    summary="Get a quote with its article and events",
    description=(
        "The quote, the article and outlet it comes from, and the events that cite it as "
        "evidence. Retracted events are left out."
    ),
    responses=problem_responses(404, 422, 503),
)
def get_quote(
    session: ReadSessionDep,
    quote_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The quote's id.", examples=[1])],
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    quote = repository.get_quote(session, quote_id)
    if quote is None:
        raise NotFound(f"No quote with id {quote_id}.")
    return quote
