"""HTTP routes for quotes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app import derived
from app.auth.dependencies import CurateAccess, sees_protected
from app.core import bodies, etag, ids
from app.core.edits import Deleted
from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import EngineDep, ReadSessionDep
from app.quotes import repository, service
from app.quotes.schemas import QuoteDetail, QuoteFilter, QuoteRead, QuoteUpdate

router = APIRouter(prefix="/v1/quotes", tags=["quotes"])

QuoteId = Annotated[ids.PathId, Path(description="The quote's id.", examples=[1])]
WITH_ETAG = {
    "description": "The quote; `ETag` names its version.",
    "headers": etag.response_header(),
}
WITH_VERSION = {
    "description": "The quote; `ETag` names its version, `Data-Version` the data's.",
    "headers": {**etag.response_header(), **etag.data_version_header()},
}


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
def list_quotes(
    request: Request, session: ReadSessionDep, f: Annotated[QuoteFilter, Query()]
) -> dict[str, Any]:
    rows, next_cursor = repository.list_quotes(session, f, reveal=sees_protected(request))
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
        " The `ETag` header names its version, for `If-Match`."
    ),
    responses={200: WITH_VERSION, **problem_responses(404, 422, 503)},
)
def get_quote(
    request: Request,
    session: ReadSessionDep,
    quote_id: QuoteId,
    _: Annotated[NoQuery, Query()],
    response: Response,
) -> dict[str, Any]:
    # Issue 12: the exact data version the detail reflects, in Data-Version.
    reveal = sees_protected(request)
    quote, version = derived.at_one_version(
        session, lambda: repository.get_quote(session, quote_id, reveal=reveal)
    )
    response.headers["Data-Version"] = str(version)
    if quote is None:
        raise NotFound(f"No quote with id {quote_id}.")
    response.headers["ETag"] = service.tag(quote)
    return quote


@router.patch(
    "/{quote_id}",
    response_model=QuoteDetail,
    summary="Edit a quote",
    description=(
        "Correct who said it: speaker name and role, and the actor spoken for (which must exist "
        "and not be merged); protect the speaker (`speaker_protected: true`: anonymous and "
        "read-scope answers then say `a source` for the name, wherever the quote is shown; "
        "recorded in the history of the events citing it). The text and offsets are the "
        "article's words and cannot change. Needs `If-Match` with the quote's ETag (**428** "
        "without, **412** when stale)."
    ),
    responses={
        200: WITH_ETAG,
        **problem_responses(400, 401, 403, 404, 412, 413, 415, 422, 428, 503),
    },
    openapi_extra={
        **bodies.openapi_body(QuoteUpdate),
        "parameters": [etag.parameter(required=True)],
    },
)
async def update_quote(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    quote_id: QuoteId,
    response: Response,
) -> dict[str, Any]:
    patch = await bodies.parse_body(request, QuoteUpdate)
    quote = await run_in_threadpool(
        service.update_quote,
        engine,
        quote_id,
        patch,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
    )
    response.headers["ETag"] = service.tag(quote)
    return quote


@router.delete(
    "/{quote_id}",
    response_model=Deleted,
    summary="Delete a quote",
    description=(
        "Deletes the quote and its citations as evidence (each event citing it gets a revision). "
        "While it is the only quote cited for an active event, a **409** naming the events: every "
        "event keeps at least one quote of the words that report it. `If-Match` is optional; when "
        "given and stale, **412**."
    ),
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    openapi_extra={"parameters": [etag.parameter(required=False)]},
)
def delete_quote(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    quote_id: QuoteId,
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    return service.delete_quote(
        engine, quote_id, request.headers.get(etag.HEADER), principal.api_key_id
    )
