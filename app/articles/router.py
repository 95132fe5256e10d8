"""HTTP routes for articles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app import derived
from app.articles import repository, service
from app.articles.schemas import ArticleDetail, ArticleFilter, ArticleRead, ArticleUpdate
from app.auth.dependencies import CurateAccess, sees_protected
from app.core import bodies, etag, ids
from app.core.edits import Deleted
from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import EngineDep, ReadSessionDep

router = APIRouter(prefix="/v1/articles", tags=["articles"])

ArticleId = Annotated[ids.PathId, Path(description="The article's id.", examples=[1])]
WITH_ETAG = {
    "description": "The article; `ETag` names its version.",
    "headers": etag.response_header(),
}
WITH_VERSION = {
    "description": "The article; `ETag` names its version, `Data-Version` the data's.",
    "headers": {**etag.response_header(), **etag.data_version_header()},
}


@router.get(
    "",
    response_model=Page[ArticleRead],
    response_model_exclude_unset=True,
    summary="List articles",
    description=(
        "Articles matching every filter given, in id order, in pages of `limit` with an opaque "
        "`next_cursor`. Items leave out the body; get one article for its full text, quotes "
        "and events."
    ),
    responses=problem_responses(422, 503),
)
def list_articles(session: ReadSessionDep, f: Annotated[ArticleFilter, Query()]) -> dict[str, Any]:
    rows, next_cursor = repository.list_articles(session, f)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_articles(session, f)
    return page


@router.get(
    "/{article_id}",
    response_model=ArticleDetail,
    summary="Get an article with its quotes and events",
    description=(
        "The article with its body text, its outlet, every quote taken from it (with offsets "
        "into the body and who said it), and the events it is a source for, each with the ids "
        "of the quotes cited as evidence. Retracted events are left out."
        " The `ETag` header names its version, for `If-Match`."
    ),
    responses={200: WITH_VERSION, **problem_responses(404, 422, 503)},
)
def get_article(
    request: Request,
    session: ReadSessionDep,
    article_id: ArticleId,
    _: Annotated[NoQuery, Query()],
    response: Response,
) -> dict[str, Any]:
    # Issue 12: the exact data version the detail reflects, in Data-Version.
    reveal = sees_protected(request)
    article, version = derived.at_one_version(
        session, lambda: repository.get_article(session, article_id, reveal=reveal)
    )
    response.headers["Data-Version"] = str(version)
    if article is None:
        raise NotFound(f"No article with id {article_id}.")
    response.headers["ETag"] = service.tag(article)
    return article


@router.patch(
    "/{article_id}",
    response_model=ArticleDetail,
    summary="Edit an article",
    description=(
        "Change the fields given (null clears one); needs `If-Match` with the article's ETag "
        "(**428** without, **412** when stale). A URL another article has (after normalisation) is"
        " a **409**. The body can change only while no quote points into it (quotes are offsets "
        "into the body): otherwise a **422** naming them."
    ),
    responses={
        200: WITH_ETAG,
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 503),
    },
    openapi_extra={
        **bodies.openapi_body(ArticleUpdate),
        "parameters": [etag.parameter(required=True)],
    },
)
async def update_article(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    article_id: ArticleId,
    response: Response,
) -> dict[str, Any]:
    patch = await bodies.parse_body(request, ArticleUpdate)
    article = await run_in_threadpool(
        service.update_article,
        engine,
        article_id,
        patch,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
    )
    response.headers["ETag"] = service.tag(article)
    return article


@router.delete(
    "/{article_id}",
    response_model=Deleted,
    summary="Delete an article",
    description=(
        "Deletes the article with its quotes, its place among the sources of the events it reports"
        " (each gets a revision) and its stored report. While it is the only source of an active "
        "event, a **409** naming the events (add another source or retract them first). `If-Match`"
        " is optional; when given and stale, **412**."
    ),
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    openapi_extra={"parameters": [etag.parameter(required=False)]},
)
def delete_article(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    article_id: ArticleId,
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    return service.delete_article(
        engine, article_id, request.headers.get(etag.HEADER), principal.api_key_id
    )
