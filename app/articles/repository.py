"""All SQL for articles: the list and its filters, the detail, and what edits check."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from app.articles.schemas import ArticleFilter
from app.core.pagination import fetch_page
from app.events import repository as event_repository
from app.models import Actor, Article, Event, EventSource, EventSourceQuote, Outlet, Quote

LIST_COLUMNS = (
    Article.id,
    Outlet.id.label("outlet_id"),
    Outlet.name.label("outlet_name"),
    Article.url,
    Article.title,
    Article.published_date,
    Article.dateline,
    Article.byline,
    Article.language,
    Article.created_at,
    Article.updated_at,
)


def filter_clauses(f: ArticleFilter) -> list[ColumnElement[bool]]:
    """One parameterised WHERE clause per filter given."""
    clauses: list[ColumnElement[bool]] = []
    if f.outlet is not None:
        clauses.append(Article.outlet_id == f.outlet)
    if f.published_from is not None:
        clauses.append(Article.published_date >= f.published_from)
    if f.published_to is not None:
        clauses.append(Article.published_date <= f.published_to)
    return clauses


def _with_outlet(row: Any) -> dict[str, Any]:
    article = dict(row)
    article["outlet"] = {"id": article.pop("outlet_id"), "name": article.pop("outlet_name")}
    return article


def list_articles(session: Session, f: ArticleFilter) -> tuple[list[dict[str, Any]], str | None]:
    stmt = (
        select(*LIST_COLUMNS).join(Outlet, Outlet.id == Article.outlet_id).where(*filter_clauses(f))
    )
    return fetch_page(session, stmt, f, columns=(Article.id,), row=_with_outlet)


def count_articles(session: Session, f: ArticleFilter) -> int:
    stmt = select(func.count()).select_from(Article).where(*filter_clauses(f))
    return int(session.execute(stmt).scalar_one())


def get_article(
    session: Session, article_id: int, *, reveal: bool = False
) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(*LIST_COLUMNS, Article.body, Article.content_sha256, Article.version)
            .join(Outlet, Outlet.id == Article.outlet_id)
            .where(Article.id == article_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    article = _with_outlet(row)
    article["quotes"] = _quotes(session, article_id, reveal=reveal)
    article["events"] = _events(session, article_id)
    return article


def _quotes(session: Session, article_id: int, *, reveal: bool) -> list[dict[str, Any]]:
    speaks_for = aliased(Actor)
    stmt = (
        select(
            *event_repository.QUOTE_COLUMNS,
            speaks_for.id.label("speaks_for_id"),
            speaks_for.name.label("speaks_for_name"),
        )
        .outerjoin(speaks_for, speaks_for.id == Quote.speaks_for_actor_id)
        .where(Quote.article_id == article_id)
        .order_by(Quote.in_title.desc(), Quote.start_offset, Quote.id)
    )
    return [
        event_repository.quote_brief(q, reveal=reveal) for q in session.execute(stmt).mappings()
    ]


def _events(session: Session, article_id: int) -> list[dict[str, Any]]:
    """Active events citing the article, each with the article's quotes cited for it."""
    quote_ids: dict[int, list[int]] = defaultdict(list)
    for event_id, quote_id in session.execute(
        select(EventSource.event_id, EventSourceQuote.quote_id)
        .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
        .join(Quote, Quote.id == EventSourceQuote.quote_id)
        .where(EventSource.article_id == article_id)
        .order_by(Quote.start_offset, Quote.id)
    ):
        quote_ids[event_id].append(quote_id)
    stmt = (
        select(Event.id, Event.event_type, Event.sub_event_type, Event.date_start, Event.summary)
        .join(EventSource, EventSource.event_id == Event.id)
        .where(EventSource.article_id == article_id, Event.status == "active")
        .order_by(Event.date_start, Event.id)
    )
    return [
        {**dict(e), "quote_ids": quote_ids.get(e["id"], [])}
        for e in session.execute(stmt).mappings()
    ]


# -- edits -------------------------------------------------------------------------------------


class ArticleForEdit(TypedDict):
    id: int
    version: int
    outlet_id: int
    url_norm: str | None
    content_sha256: str | None
    title: str | None


def article_for_edit(session: Session, article_id: int) -> ArticleForEdit | None:
    row = (
        session.execute(
            select(
                Article.id,
                Article.version,
                Article.outlet_id,
                Article.url_norm,
                Article.content_sha256,
                Article.title,
            ).where(Article.id == article_id)
        )
        .mappings()
        .first()
    )
    return cast(ArticleForEdit, dict(row)) if row else None


def article_by_url(session: Session, url_norm: str) -> int | None:
    return session.execute(select(Article.id).where(Article.url_norm == url_norm)).scalar()


def article_by_content(session: Session, outlet_id: int, content_sha256: str) -> int | None:
    """The article without a URL identified by its outlet and body hash."""
    return session.execute(
        select(Article.id).where(
            Article.outlet_id == outlet_id,
            Article.content_sha256 == content_sha256,
            Article.url_norm.is_(None),
        )
    ).scalar()


def quote_ids(session: Session, article_id: int, *, in_title: bool = False) -> list[int]:
    """The article's quotes of its body (``in_title``: of its title)."""
    stmt = (
        select(Quote.id)
        .where(Quote.article_id == article_id, Quote.in_title == in_title)
        .order_by(Quote.id)
    )
    return list(session.scalars(stmt))
