"""All SQL for reading outlets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.core.normalize import normalize_name
from app.core.pagination import fetch_page
from app.models import Article, Outlet
from app.outlets.schemas import OutletFilter

COLUMNS = (
    Outlet.id,
    Outlet.name,
    Outlet.url,
    Outlet.domain,
    Outlet.country,
    Outlet.language,
    Outlet.kind,
    Outlet.created_at,
    Outlet.updated_at,
)


def filter_clauses(f: OutletFilter) -> list[ColumnElement[bool]]:
    """One parameterised WHERE clause per filter given."""
    clauses: list[ColumnElement[bool]] = []
    if f.name is not None:
        clauses.append(Outlet.name_norm == normalize_name(f.name))
    if f.country is not None:
        clauses.append(Outlet.country == f.country)
    if f.kind is not None:
        clauses.append(Outlet.kind == f.kind)
    return clauses


def list_outlets(session: Session, f: OutletFilter) -> tuple[list[dict[str, Any]], str | None]:
    stmt = select(*COLUMNS).where(*filter_clauses(f))
    return fetch_page(session, stmt, f, columns=(Outlet.id,))


def count_outlets(session: Session, f: OutletFilter) -> int:
    stmt = select(func.count()).select_from(Outlet).where(*filter_clauses(f))
    return int(session.execute(stmt).scalar_one())


def get_outlet(session: Session, outlet_id: int) -> dict[str, Any] | None:
    article_count = (
        select(func.count()).select_from(Article).where(Article.outlet_id == outlet_id)
    ).scalar_subquery()
    stmt = select(*COLUMNS, article_count.label("article_count")).where(Outlet.id == outlet_id)
    row = session.execute(stmt).mappings().first()
    return dict(row) if row is not None else None
