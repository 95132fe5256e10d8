"""All SQL for outlets: the list and its filters, the detail, and what edits check."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from app.core.normalize import normalize_name, normalize_prefix
from app.core.pagination import fetch_page
from app.db import dialect
from app.models import Article, Outlet, OutletKind
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
    if f.name_prefix is not None and (key := normalize_prefix(f.name_prefix)):
        # Outlets number in the hundreds, not the hundreds of thousands places can: the
        # ranges need no index of their own on PostgreSQL (SQLite's unique index on the name
        # and the domain index serve them there).
        domain = f.name_prefix.strip().lower()
        clauses.append(
            or_(
                dialect.starts_with(Outlet.name_norm, key),
                dialect.starts_with(Outlet.domain, domain),
            )
        )
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
    stmt = select(*COLUMNS, Outlet.version, article_count.label("article_count")).where(
        Outlet.id == outlet_id
    )
    row = session.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


# -- edits -------------------------------------------------------------------------------------


class OutletForEdit(TypedDict):
    id: int
    version: int
    name: str
    name_norm: str


def outlet_for_edit(session: Session, outlet_id: int) -> OutletForEdit | None:
    row = (
        session.execute(
            select(Outlet.id, Outlet.version, Outlet.name, Outlet.name_norm).where(
                Outlet.id == outlet_id
            )
        )
        .mappings()
        .first()
    )
    return cast(OutletForEdit, dict(row)) if row else None


class OutletName(TypedDict):
    id: int
    name: str


def outlet_by_norm(session: Session, name_norm: str) -> OutletName | None:
    row = (
        session.execute(select(Outlet.id, Outlet.name).where(Outlet.name_norm == name_norm))
        .mappings()
        .first()
    )
    return cast(OutletName, dict(row)) if row else None


def outlet_kind_exists(session: Session, kind: str) -> bool:
    return (
        session.execute(select(OutletKind.name).where(OutletKind.name == kind)).first() is not None
    )


def article_ids(session: Session, outlet_id: int, limit: int = 10) -> list[int]:
    stmt = select(Article.id).where(Article.outlet_id == outlet_id).order_by(Article.id)
    return list(session.scalars(stmt.limit(limit)))
