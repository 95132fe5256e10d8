"""Rules for editing and deleting articles; the writes go through ``app.writer``.

An article is evidence: its body cannot change under the quotes that point into it, and it
cannot be deleted while it is the only source of an active event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import writer
from app.articles import repository
from app.articles.schemas import ArticleUpdate
from app.core import etag
from app.core.edits import invalid
from app.core.errors import Conflict, NotFound, SoleEvidence
from app.core.normalize import normalize_url, sha256_text
from app.core.outcomes import Outcome
from app.db.session import read_session
from app.events import repository as event_repository
from app.writer.transaction import write_transaction

KIND = "article"


def tag(article: Mapping[str, Any]) -> str:
    """The ETag of an article row: an edit's (``ArticleForEdit``) or the detail's."""
    return etag.make(KIND, article["id"], article["version"])


def _current(session: Session, article_id: int, if_match: str | None) -> repository.ArticleForEdit:
    current = repository.article_for_edit(session, article_id)
    if current is None:
        raise NotFound(f"No article with id {article_id}.")
    etag.check(if_match, tag(current))
    return current


def update_article(
    engine: Engine,
    article_id: int,
    patch: ArticleUpdate,
    if_match: str | None,
    api_key_id: int | None,
) -> dict[str, Any]:
    """PATCH /v1/articles/{id}; returns the article as committed."""
    etag.require(if_match)
    values = patch.given()

    def work(session: Session) -> Outcome:
        current = _current(session, article_id, if_match)
        url_norm = current["url_norm"]
        if "url" in values:
            url_norm = normalize_url(values["url"]) if values["url"] else None
            if url_norm is not None and url_norm != current["url_norm"]:
                holder = repository.article_by_url(session, url_norm)
                if holder is not None and holder != article_id:
                    raise Conflict(
                        f"Article {holder} already has this URL (after normalisation).",
                        article_id=holder,
                    )
        content = current["content_sha256"]
        if "body" in values:
            content = sha256_text(values["body"]) if values["body"] else None
            quotes = (
                repository.quote_ids(session, article_id)
                if content != current["content_sha256"]
                else []
            )
            if quotes:
                shown = ", ".join(map(str, quotes[:9])) + (", ..." if len(quotes) > 9 else "")
                raise invalid(
                    "body",
                    f"quotes {shown} are spans of this body (by offset); changing it would "
                    "cut them loose from the words they quote. Delete those quotes first, or "
                    "leave the body as it is.",
                    "body_quoted",
                )
        if "title" in values:
            titled = repository.quote_ids(session, article_id, in_title=True)
            if titled and values["title"] != current["title"]:
                shown = ", ".join(map(str, titled[:9])) + (", ..." if len(titled) > 9 else "")
                raise invalid(
                    "title",
                    f"quotes {shown} are spans of this title (by offset); changing it would "
                    "cut them loose from the words they quote. Delete those quotes first, or "
                    "leave the title as it is.",
                    "title_quoted",
                )
        if url_norm is None and content is not None:
            # Without a URL an article is identified by its outlet and body hash.
            holder = repository.article_by_content(session, current["outlet_id"], content)
            if holder is not None and holder != article_id:
                raise Conflict(
                    f"Article {holder} of the same outlet has the same body and no URL.",
                    article_id=holder,
                )
        writer.update_article(
            session, article_id, current["version"], values, api_key_id=api_key_id
        )
        return Outcome(200, None)

    write_transaction(engine, work)
    with read_session(engine) as session:
        # For the curator who changed it: protected names shown.
        article = repository.get_article(session, article_id, reveal=True)
    assert article is not None
    return article


def delete_article(
    engine: Engine, article_id: int, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    """DELETE /v1/articles/{id}: the article, its quotes and its place among events' sources."""

    def work(session: Session) -> Outcome:
        current = _current(session, article_id, if_match)
        # Lock the events it supports first, so a concurrent delete of their other source
        # cannot pass the same check.
        event_repository.lock_events(
            session, event_repository.events_citing_article(session, article_id)
        )
        sole = event_repository.active_events_only_sourced_by(session, article_id)
        if sole:
            shown = ", ".join(map(str, sole[:9])) + (", ..." if len(sole) > 9 else "")
            raise SoleEvidence(
                f"Article {article_id} is the only source of active events {shown}: deleting "
                "it would leave them with no evidence. Add another source to them (a report "
                "referring to them) or retract them first.",
                event_ids=sole,
            )
        writer.delete_article(session, article_id, current["version"], api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    return {"kind": KIND, "id": article_id}
