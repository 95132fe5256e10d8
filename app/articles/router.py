"""HTTP routes for articles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.articles import repository
from app.articles.schemas import ArticleDetail, ArticleFilter, ArticleRead
from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import ReadSessionDep

router = APIRouter(prefix="/v1/articles", tags=["articles"])


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
    ),
    responses=problem_responses(404, 422, 503),
)
def get_article(
    session: ReadSessionDep,
    article_id: Annotated[
        int, Path(ge=1, le=2**31 - 1, description="The article's id.", examples=[1])
    ],
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    article = repository.get_article(session, article_id)
    if article is None:
        raise NotFound(f"No article with id {article_id}.")
    return article
