"""Outlets: who published."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.core.normalize import normalize_name, normalized, url_domain
from app.db.base import utcnow
from app.db.bulk import insert_returning_ids
from app.models import Outlet
from app.writer.revisions import audit
from app.writer.versions import changes_json, delete_versioned, edit


@dataclass
class NewOutlet:
    name: str
    url: str | None = None
    country: str | None = None
    language: str | None = None
    kind: str | None = None


def _outlet_row(o: NewOutlet) -> dict[str, Any]:
    return {
        "name": o.name,
        "name_norm": normalized(o.name),
        "url": o.url,
        "domain": url_domain(o.url) if o.url else None,
        "country": o.country,
        "language": o.language,
        "kind": o.kind,
    }


def create_outlets(session: Session, outlets: Sequence[NewOutlet]) -> list[int]:
    now = utcnow()
    rows = [{**_outlet_row(o), "created_at": now, "updated_at": now} for o in outlets]
    return insert_returning_ids(session, Outlet, rows)


def create_outlet(session: Session, outlet: NewOutlet, *, api_key_id: int | None) -> int:
    (outlet_id,) = create_outlets(session, [outlet])
    audit(
        session,
        "outlet.create",
        api_key_id=api_key_id,
        entity="outlet",
        entity_id=outlet_id,
        detail={k: v for k, v in _outlet_row(outlet).items() if k != "name_norm"},
    )
    return outlet_id


def update_outlet(
    session: Session,
    outlet_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    api_key_id: int | None,
) -> int:
    """Edit an outlet's fields; its normalised name and domain follow its name and URL."""
    values = dict(values)
    if "name" in values:
        values["name_norm"] = normalize_name(values["name"])
    if "url" in values:
        values["domain"] = url_domain(values["url"]) if values["url"] else None
    version, changes = edit(session, Outlet, outlet_id, expected_version, values)
    if changes:
        audit(
            session,
            "outlet.update",
            api_key_id=api_key_id,
            entity="outlet",
            entity_id=outlet_id,
            detail={"changes": changes_json(changes), "version": version},
        )
    return version


def delete_outlet(
    session: Session, outlet_id: int, expected_version: int, *, api_key_id: int | None
) -> None:
    """Delete an outlet no article refers to (the caller has checked; the foreign key agrees)."""
    delete_versioned(session, Outlet, outlet_id, expected_version)
    audit(session, "outlet.delete", api_key_id=api_key_id, entity="outlet", entity_id=outlet_id)
