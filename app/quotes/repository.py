"""All SQL for quotes: the list and its filters, the detail, and what edits check."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, aliased

from app.actors import repository as actor_repository
from app.core.pagination import SortColumn, fetch_page
from app.events import repository as event_repository
from app.models import Actor, Article, Event, EventSource, EventSourceQuote, Outlet, Quote
from app.quotes.schemas import QuoteFilter


def _select_quotes(*extra: SortColumn) -> Select[*tuple[Any, ...]]:
    """Quote rows in the shape ``quote_brief`` reads, with the organisation spoken for."""
    speaks_for = aliased(Actor)
    return select(
        *event_repository.QUOTE_COLUMNS,
        speaks_for.id.label("speaks_for_id"),
        speaks_for.name.label("speaks_for_name"),
        Quote.article_id,
        *extra,
    ).outerjoin(speaks_for, speaks_for.id == Quote.speaks_for_actor_id)


def _quote(row: Any, *, reveal: bool = False) -> dict[str, Any]:
    return {**event_repository.quote_brief(row, reveal=reveal), "article_id": row["article_id"]}


def filter_clauses(f: QuoteFilter) -> list[ColumnElement[bool]]:
    """One parameterised WHERE clause per filter given."""
    clauses: list[ColumnElement[bool]] = []
    if f.article is not None:
        clauses.append(Quote.article_id == f.article)
    if f.speaks_for is not None:
        clauses.append(Quote.speaks_for_actor_id == actor_repository.resolved_id(f.speaks_for))
    return clauses


def list_quotes(
    session: Session, f: QuoteFilter, *, reveal: bool = False
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of quotes; ``reveal``: protected speakers' names shown (a curator's key)."""
    stmt = _select_quotes().where(*filter_clauses(f))
    return fetch_page(session, stmt, f, columns=(Quote.id,), row=lambda r: _quote(r, reveal=reveal))


def count_quotes(session: Session, f: QuoteFilter) -> int:
    stmt = select(func.count()).select_from(Quote).where(*filter_clauses(f))
    return int(session.execute(stmt).scalar_one())


def get_quote(session: Session, quote_id: int, *, reveal: bool = False) -> dict[str, Any] | None:
    stmt = (
        _select_quotes(
            Quote.version,
            Article.title,
            Article.url,
            Article.published_date,
            Outlet.id.label("outlet_id"),
            Outlet.name.label("outlet_name"),
        )
        .join(Article, Article.id == Quote.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(Quote.id == quote_id)
    )
    row = session.execute(stmt).mappings().first()
    if row is None:
        return None
    quote = _quote(row, reveal=reveal)
    quote["version"] = row["version"]
    quote["article"] = {
        "id": row["article_id"],
        "title": row["title"],
        "url": row["url"],
        "published_date": row["published_date"],
        "outlet": {"id": row["outlet_id"], "name": row["outlet_name"]},
    }
    events = (
        select(Event.id, Event.event_type, Event.date_start)
        .join(EventSource, EventSource.event_id == Event.id)
        .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
        .where(EventSourceQuote.quote_id == quote_id, Event.status == "active")
        .distinct()
        .order_by(Event.date_start, Event.id)
    )
    quote["events"] = [dict(e) for e in session.execute(events).mappings()]
    return quote


class QuoteForEdit(TypedDict):
    id: int
    version: int
    article_id: int


def quote_for_edit(session: Session, quote_id: int) -> QuoteForEdit | None:
    row = (
        session.execute(
            select(Quote.id, Quote.version, Quote.article_id).where(Quote.id == quote_id)
        )
        .mappings()
        .first()
    )
    return cast(QuoteForEdit, dict(row)) if row else None
