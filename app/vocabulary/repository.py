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
    return vocabulary


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
