"""Rules for editing and deleting quotes; the writes go through ``app.writer``.

A quote's text and offsets are its article's words and stay; who said it can be corrected.
A quote cannot be deleted while it is the last quote cited for an active event: every event
stays traceable to the words that report it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import writer
from app.actors import repository as actor_repository
from app.core import etag
from app.core.edits import invalid
from app.core.errors import NotFound, SoleEvidence
from app.core.outcomes import Outcome
from app.db.session import read_session
from app.events import repository as event_repository
from app.quotes import repository
from app.quotes.schemas import QuoteUpdate
from app.writer.transaction import write_transaction

KIND = "quote"


def tag(quote: Mapping[str, Any]) -> str:
    """The ETag of a quote row: an edit's (``QuoteForEdit``) or the detail's."""
    return etag.make(KIND, quote["id"], quote["version"])


def _current(session: Session, quote_id: int, if_match: str | None) -> repository.QuoteForEdit:
    current = repository.quote_for_edit(session, quote_id)
    if current is None:
        raise NotFound(f"No quote with id {quote_id}.")
    etag.check(if_match, tag(current))
    return current


def update_quote(
    engine: Engine, quote_id: int, patch: QuoteUpdate, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    """PATCH /v1/quotes/{id}; returns the quote as committed."""
    etag.require(if_match)
    values = patch.given()
    if "speaks_for_id" in values:
        values["speaks_for_actor_id"] = values.pop("speaks_for_id")

    def work(session: Session) -> Outcome:
        current = _current(session, quote_id, if_match)
        actor_id = values.get("speaks_for_actor_id")
        if actor_id is not None:
            actor = actor_repository.merge_state(session, actor_id)
            if actor is None:
                raise invalid("speaks_for_id", f"no actor with id {actor_id}", "unknown_actor")
            if actor["merged_into_id"] is not None:
                raise invalid(
                    "speaks_for_id",
                    f"actor {actor_id} was merged into actor {actor['merged_into_id']}; use "
                    "that id",
                    "merged_actor",
                )
        writer.update_quote(session, quote_id, current["version"], values, api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    with read_session(engine) as session:
        # For the curator who changed it: protected names shown.
        quote = repository.get_quote(session, quote_id, reveal=True)
    assert quote is not None
    return quote


def delete_quote(
    engine: Engine, quote_id: int, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    """DELETE /v1/quotes/{id}: the quote and its citations as evidence."""

    def work(session: Session) -> Outcome:
        current = _current(session, quote_id, if_match)
        event_repository.lock_events(
            session, event_repository.events_citing_quote(session, quote_id)
        )
        sole = event_repository.active_events_only_quoting(session, quote_id)
        if sole:
            shown = ", ".join(map(str, sole[:9])) + (", ..." if len(sole) > 9 else "")
            raise SoleEvidence(
                f"Quote {quote_id} is the only quote cited for active events {shown}: deleting "
                "it would leave them without the words that report them. Cite another quote "
                "for them (a report referring to them) or retract them first.",
                event_ids=sole,
            )
        writer.delete_quote(session, quote_id, current["version"], api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    return {"kind": KIND, "id": quote_id}
