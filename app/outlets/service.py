"""Rules for creating, editing and deleting outlets; the writes go through ``app.writer``.

An outlet's normalised name is unique (reports find outlets by it), and its domain follows
its URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import writer
from app.core import etag
from app.core.edits import invalid
from app.core.errors import NameTaken, NotFound, StillReferenced
from app.core.normalize import normalize_name
from app.core.outcomes import Outcome
from app.db.session import read_session
from app.idempotency import service as idempotency
from app.idempotency.service import IdempotencyRequest
from app.outlets import repository
from app.outlets.schemas import OutletCreate, OutletDetail, OutletUpdate
from app.writer.transaction import write_transaction

KIND = "outlet"


def tag(outlet: Mapping[str, Any]) -> str:
    """The ETag of an outlet row: an edit's (``OutletForEdit``) or the detail's."""
    return etag.make(KIND, outlet["id"], outlet["version"])


def location(outlet_id: int) -> str:
    return f"/v1/outlets/{outlet_id}"


def _current(session: Session, outlet_id: int, if_match: str | None) -> repository.OutletForEdit:
    current = repository.outlet_for_edit(session, outlet_id)
    if current is None:
        raise NotFound(f"No outlet with id {outlet_id}.")
    etag.check(if_match, tag(current))
    return current


def _check_name(session: Session, name: str, outlet_id: int | None = None) -> None:
    norm = normalize_name(name)
    if not norm:
        raise invalid("name", f"{name!r} has no letters to match on", "empty_name")
    holder = repository.outlet_by_norm(session, norm)
    if holder is not None and holder["id"] != outlet_id:
        raise NameTaken(
            f"Outlet {holder['id']} ({holder['name']!r}) already has this name.",
            outlet_id=holder["id"],
        )


def _check_kind(session: Session, kind: str | None) -> None:
    if kind is not None and not repository.outlet_kind_exists(session, kind):
        raise invalid(
            "kind", f"unknown outlet kind {kind!r} (see GET /v1/vocabulary)", "unknown_kind"
        )


def create_outlet(
    engine: Engine, body: OutletCreate, api_key_id: int | None, idem: IdempotencyRequest | None
) -> Outcome:
    """POST /v1/outlets: 201 with the new outlet (stored with an Idempotency-Key when given)."""

    def work(session: Session) -> Outcome:
        _check_name(session, body.name)
        _check_kind(session, body.kind)
        outlet_id = writer.create_outlet(
            session,
            writer.NewOutlet(
                name=body.name,
                url=body.url,
                country=body.country,
                language=body.language,
                kind=body.kind,
            ),
            api_key_id=api_key_id,
        )
        outlet = repository.get_outlet(session, outlet_id)
        return Outcome(201, OutletDetail.model_validate(outlet).model_dump(mode="json"))

    return idempotency.run(engine, idem, work)


def update_outlet(
    engine: Engine,
    outlet_id: int,
    patch: OutletUpdate,
    if_match: str | None,
    api_key_id: int | None,
) -> dict[str, Any]:
    """PATCH /v1/outlets/{id}; returns the outlet as committed."""
    etag.require(if_match)
    values = patch.given()

    def work(session: Session) -> Outcome:
        current = _current(session, outlet_id, if_match)
        if "name" in values:
            _check_name(session, values["name"], outlet_id)
        if "kind" in values:
            _check_kind(session, values["kind"])
        writer.update_outlet(session, outlet_id, current["version"], values, api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    with read_session(engine) as session:
        outlet = repository.get_outlet(session, outlet_id)
    assert outlet is not None
    return outlet


def delete_outlet(
    engine: Engine, outlet_id: int, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    def work(session: Session) -> Outcome:
        current = _current(session, outlet_id, if_match)
        articles = repository.article_ids(session, outlet_id)
        if articles:
            shown = ", ".join(map(str, articles[:9])) + (", ..." if len(articles) > 9 else "")
            raise StillReferenced(
                f"Outlet {outlet_id} still has articles ({shown}); delete them first.",
                references={"articles": articles},
            )
        writer.delete_outlet(session, outlet_id, current["version"], api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    return {"kind": KIND, "id": outlet_id}
