"""All SQL for reading the vocabularies (small lookup tables, read whole)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    ActorKind,
    AffiliationRelation,
    DatePrecision,
    DimensionCode,
    DimensionScheme,
    EventRole,
    EventStatus,
    EventType,
    InteractionCode,
    OutletKind,
    PlaceKind,
    SubEventType,
)

# response key -> lookup table of (name, description) rows
_PLAIN = {
    "place_kinds": PlaceKind,
    "outlet_kinds": OutletKind,
    "date_precisions": DatePrecision,
    "event_roles": EventRole,
    "affiliation_relations": AffiliationRelation,
    "event_statuses": EventStatus,
}


def _rows(session: Session, stmt: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(stmt).mappings()]


def get_vocabulary(session: Session) -> dict[str, Any]:
    sub_types: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sub in _rows(
        session,
        select(SubEventType.event_type, SubEventType.name, SubEventType.description).order_by(
            SubEventType.name
        ),
    ):
        sub_types[sub.pop("event_type")].append(sub)
    vocabulary: dict[str, Any] = {
        "event_types": [
            {**t, "sub_event_types": sub_types.get(t["name"], [])}
            for t in _rows(
                session, select(EventType.name, EventType.description).order_by(EventType.name)
            )
        ],
        "actor_kinds": _rows(
            session,
            select(ActorKind.name, ActorKind.acled_inter, ActorKind.description).order_by(
                ActorKind.acled_inter.nulls_last(), ActorKind.name
            ),
        ),
    }
    for key, model in _PLAIN.items():
        table = model.__table__
        vocabulary[key] = _rows(
            session, select(table.c.name, table.c.description).order_by(table.c.name)
        )
    # -- issue 12: ACLED's interaction codes, and every dataset scheme with its codes
    vocabulary["interactions"] = _rows(
        session,
        select(InteractionCode.name, InteractionCode.description).order_by(InteractionCode.name),
    )
    vocabulary["dimensions"] = dimensions(session)
    return vocabulary


def dimensions(session: Session) -> list[dict[str, Any]]:
    """Every dataset scheme with its codes (and their labels), schemes by name, codes as
    text sorted as numbers where they are numbers."""
    codes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for scheme, code, label in session.execute(
        select(DimensionCode.scheme, DimensionCode.code, DimensionCode.label)
    ):
        codes[scheme].append({"code": code, "label": label})
    out = []
    for row in _rows(
        session,
        select(
            DimensionScheme.name,
            DimensionScheme.dataset,
            DimensionScheme.column,
            DimensionScheme.closed,
            DimensionScheme.multiple,
            DimensionScheme.description,
        ).order_by(DimensionScheme.name),
    ):
        row["codes"] = sorted(
            codes.get(row["name"], []),
            key=lambda c: (not c["code"].lstrip("-").isdigit(), _number(c["code"]), c["code"]),
        )
        out.append(row)
    return out


def _number(code: str) -> int:
    return int(code) if code.lstrip("-").isdigit() and len(code) < 18 else 0


# Lookup table -> model, for the names alone (the filters' check, app.vocabulary.service).
TERM_TABLES = {
    "event_type": EventType,
    "sub_event_type": SubEventType,
    "actor_kind": ActorKind,
    "interaction_code": InteractionCode,
    **{model.__tablename__: model for model in _PLAIN.values()},
}


def term_names(session: Session) -> dict[str, frozenset[str]]:
    """Every vocabulary's names, by lookup table."""
    return {
        table: frozenset(session.scalars(select(model.__table__.c.name)))
        for table, model in TERM_TABLES.items()
    }
