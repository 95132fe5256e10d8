"""Articles and their quotes (the evidence), and the stored response of each report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import derived
from app.core.normalize import normalize_url, sha256_text
from app.db.base import utcnow
from app.db.bulk import insert_returning_ids, insert_rows
from app.models import Article, Claim, Event, EventSource, EventSourceQuote, Quote, Report
from app.writer import evidence
from app.writer.revisions import audit, event_evidence, evidence_changes, record_revisions
from app.writer.versions import bump, changes_json, delete_versioned, edit


@dataclass
class NewArticle:
    outlet_id: int
    url: str | None = None
    title: str | None = None
    published_date: date | None = None
    dateline: str | None = None
    byline: str | None = None
    language: str | None = None
    body: str | None = None
    # An article with neither URL nor body (a dataset's citation: outlet, date, headline) is
    # identified by a hash the caller makes of what it has. It goes in content_sha256, so the
    # partial unique index (outlet_id, content_sha256) WHERE url_norm IS NULL that dedupes
    # articles by body dedupes these as well. Ignored when there is a body.
    identity_sha256: str | None = None


@dataclass
class NewQuote:
    article_id: int
    text: str
    start: int
    end: int
    speaker_name: str | None = None
    speaker_role: str | None = None
    speaks_for_actor_id: int | None = None
    # The offsets are into the article's title, not its body.
    in_title: bool = False
    speaker_protected: bool = False


def _article_row(article: NewArticle, now: Any) -> dict[str, Any]:
    # No body: the caller's identity hash, if any (see NewArticle.identity_sha256).
    identity = sha256_text(article.body) if article.body else article.identity_sha256
    return {
        "outlet_id": article.outlet_id,
        "url": article.url,
        "url_norm": normalize_url(article.url) if article.url else None,
        "title": article.title,
        "published_date": article.published_date,
        "dateline": article.dateline,
        "byline": article.byline,
        "language": article.language,
        "body": article.body,
        "content_sha256": identity,
        "created_at": now,
        "updated_at": now,
    }


def create_article(session: Session, article: NewArticle) -> int:
    (article_id,) = create_articles(session, [article])
    return article_id


def create_articles(session: Session, articles: Sequence[NewArticle]) -> list[int]:
    """Insert articles in one executemany; their ids in the order given."""
    now = utcnow()
    ids = insert_returning_ids(session, Article, [_article_row(a, now) for a in articles])
    # The search text of events created from them in this transaction is known already.
    derived.texts_written(session, titles=zip(ids, (a.title for a in articles), strict=True))
    return ids


def update_article(
    session: Session,
    article_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    api_key_id: int | None,
) -> int:
    """Edit an article; its normalised URL and content hash follow its URL and body."""
    values = dict(values)
    if "url" in values:
        values["url_norm"] = normalize_url(values["url"]) if values["url"] else None
    if "body" in values:
        values["content_sha256"] = sha256_text(values["body"]) if values["body"] else None
    version, changes = edit(session, Article, article_id, expected_version, values)
    if "title" in changes:
        derived.forget_texts(session, articles=[article_id])
        derived.reindex(session, derived.events_citing_articles(session, [article_id]))
    if {"published_date", "outlet_id"} & set(changes):
        # The events it reports: when they were first reported, from how many outlets, and
        # whose claim is an outlet's latest.
        _source_changed(session, _events_of_article(session, article_id), api_key_id)
    if changes:
        # The audit log keeps the body's hash, not the text.
        logged = {k: v for k, v in changes.items() if k != "body"}
        audit(
            session,
            "article.update",
            api_key_id=api_key_id,
            entity="article",
            entity_id=article_id,
            detail={"changes": changes_json(logged), "version": version},
        )
    return version


def _events_of_article(session: Session, article_id: int) -> list[int]:
    """Events citing the article, or holding a claim of it."""
    cited = session.scalars(
        select(EventSource.event_id).where(EventSource.article_id == article_id)
    )
    claimed = session.scalars(select(Claim.event_id).where(Claim.article_id == article_id))
    return sorted(set(cited) | set(claimed))


def _source_changed(session: Session, event_ids: list[int], api_key_id: int | None) -> None:
    """Events whose source article changed: their kept columns follow, and those whose
    headline figures moved get a revision."""
    figures = evidence.refresh(session, event_ids)
    bump(session, Event, event_ids)
    record_revisions(
        session,
        [(eid, "source_update", changes) for eid, changes in sorted(figures.items())],
        api_key_id,
    )


def delete_article(
    session: Session, article_id: int, expected_version: int, *, api_key_id: int | None
) -> list[int]:
    """Delete an article with its quotes, its claims and its place among events' sources; the
    events it was a source for get a revision (with their headline figures, which may move).
    The caller has checked none is left without a source. Returns those events' ids."""
    event_ids = list(
        session.scalars(select(EventSource.event_id).where(EventSource.article_id == article_id))
    )
    touched = _events_of_article(session, article_id)
    before = event_evidence(session, event_ids)
    quote_ids = list(session.scalars(select(Quote.id).where(Quote.article_id == article_id)))
    # Dependent rows go by their foreign keys' ON DELETE (sources, quotes, claims, the
    # report), in this one statement.
    delete_versioned(session, Article, article_id, expected_version)
    after = event_evidence(session, event_ids)
    figures = evidence.refresh(session, touched)
    bump(session, Event, touched)
    record_revisions(
        session,
        [
            (
                eid,
                "remove_source",
                {
                    **(evidence_changes(before[eid], after[eid]) if eid in before else {}),
                    **figures.get(eid, {}),
                },
            )
            for eid in sorted(set(event_ids) | set(figures))
        ],
        api_key_id,
    )
    audit(
        session,
        "article.delete",
        api_key_id=api_key_id,
        entity="article",
        entity_id=article_id,
        detail={"events": sorted(event_ids), "quotes": sorted(quote_ids)},
    )
    return event_ids


def create_quotes(session: Session, quotes: Sequence[NewQuote]) -> list[int]:
    now = utcnow()
    ids = insert_returning_ids(
        session,
        Quote,
        [
            {
                "article_id": q.article_id,
                "text": q.text,
                "start_offset": q.start,
                "end_offset": q.end,
                "speaker_name": q.speaker_name,
                "speaker_role": q.speaker_role,
                "speaks_for_actor_id": q.speaks_for_actor_id,
                "in_title": q.in_title,
                "speaker_protected": q.speaker_protected,
                "created_at": now,
                "updated_at": now,
            }
            for q in quotes
        ],
    )
    derived.texts_written(session, quotes=zip(ids, (q.text for q in quotes), strict=True))
    return ids


def update_quote(
    session: Session,
    quote_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    api_key_id: int | None,
) -> int:
    version, changes = edit(session, Quote, quote_id, expected_version, values)
    if "text" in changes:
        derived.forget_texts(session, quotes=[quote_id])
        derived.reindex(session, derived.events_citing_quote(session, quote_id))
    if "speaker_protected" in changes:
        # Who may read the speaker's name changed: the events citing the quote show it (or
        # not), so each gets a revision (without the name) and a new version.
        citing = derived.events_citing_quote(session, quote_id)
        bump(session, Event, citing)
        record_revisions(
            session,
            [
                (
                    eid,
                    "protect_speaker",
                    {f"quotes.{quote_id}.speaker_protected": changes["speaker_protected"]},
                )
                for eid in citing
            ],
            api_key_id,
        )
    if changes:
        audit(
            session,
            "quote.update",
            api_key_id=api_key_id,
            entity="quote",
            entity_id=quote_id,
            detail={"changes": changes_json(changes), "version": version},
        )
    return version


def delete_quote(
    session: Session, quote_id: int, expected_version: int, *, api_key_id: int | None
) -> list[int]:
    """Delete a quote; the events citing it get a revision. Returns their ids. Claims made
    through it keep their figure and lose the quote."""
    event_ids = list(
        session.scalars(
            select(EventSource.event_id)
            .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
            .where(EventSourceQuote.quote_id == quote_id)
        )
    )
    claimed = list(session.scalars(select(Claim.event_id).where(Claim.quote_id == quote_id)))
    before = event_evidence(session, event_ids)
    delete_versioned(session, Quote, quote_id, expected_version)
    after = event_evidence(session, event_ids)
    evidence.refresh(session, set(event_ids))
    bump(session, Event, set(event_ids) | set(claimed))
    record_revisions(
        session,
        [
            (eid, "remove_quote", evidence_changes(before[eid], after[eid]))
            for eid in sorted(set(event_ids))
        ],
        api_key_id,
    )
    audit(
        session,
        "quote.delete",
        api_key_id=api_key_id,
        entity="quote",
        entity_id=quote_id,
        detail={"events": sorted(set(event_ids))},
    )
    return event_ids


def record_report(
    session: Session, article_id: int, payload_sha256: str, response: dict[str, Any]
) -> None:
    insert_rows(
        session,
        Report,
        [
            {
                "article_id": article_id,
                "payload_sha256": payload_sha256,
                "response": response,
                "created_at": utcnow(),
            }
        ],
    )
