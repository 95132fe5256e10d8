"""The full-text index of events, one interface over SQLite FTS5 and PostgreSQL's tsvector.

Each event has one search document: its summary, the titles of the articles that report it
and the text of the quotes that support it. Document and query are normalised here, in
Python, the same way for both databases (accents and case folded, split into words), so
that FTS5's ``unicode61`` tokenizer and PostgreSQL's ``simple`` configuration see the same
words and answer the same question the same way. The writer keeps the documents current
(``app.derived``); readers call ``matching_event_ids``.

Query syntax (as in web search engines): words must all appear, in any order; ``"a phrase"``
must appear as written; ``OR`` between two terms accepts either; ``-word`` excludes; a word
ending in ``*`` matches as a prefix. Hyphenated names (``al-Nusra``) match as a phrase.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, column, select, table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import Integer, NullType

from app.core.errors import ValidationProblem
from app.models import Article, Event, EventSource, EventSourceQuote, Quote

MAX_TERMS = 16
_WORD = re.compile(r"[^\W_]+")
# A query token: an optional '-', then a quoted phrase or a bare run of non-space characters.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


class _DropCombining(dict[int, int | None]):
    """A ``str.translate`` table deleting combining characters, filled as they are met."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_DROP_COMBINING = _DropCombining()


def words(value: str) -> list[str]:
    """The words of a text as both indexes store them: accents dropped, case folded."""
    if value.isascii():  # most text: nothing to decompose (measured: 5x faster on imports)
        return _WORD.findall(value.lower())
    decomposed = unicodedata.normalize("NFKD", value)
    if not decomposed.isascii():  # combining characters are never ASCII
        decomposed = decomposed.translate(_DROP_COMBINING)
    return _WORD.findall(decomposed.casefold())


@dataclass(frozen=True)
class Term:
    """Words that must appear together in this order (one word is a phrase of one)."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """All of ``required`` (each an any-of group of terms) and none of ``excluded``."""

    required: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...]


def _problem(message: str) -> ValidationProblem:
    return ValidationProblem(
        message, errors=[{"loc": ["query", "q"], "msg": message, "type": "search_query"}]
    )


def parse(q: str) -> SearchQuery:
    """Parse a search; a query with nothing to look for (or too much) is a 422."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    join_next = False
    count = 0
    for match in _TOKEN.finditer(q):
        negated, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None and bare == "OR":
            join_next = bool(groups)
            continue
        if bare is not None:
            negated = "-" if bare.startswith("-") and len(bare) > 1 else ""
            raw = bare[1:] if negated else bare
            prefix = raw.endswith("*")
        else:
            raw, prefix = phrase, False
        found = words(raw)
        if not found:
            continue
        count += 1
        term = Term(tuple(found), prefix=prefix)
        if negated:
            excluded.append(term)
        elif join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    if count > MAX_TERMS:
        raise _problem(f"q has {count} terms; at most {MAX_TERMS} are allowed.")
    if not groups:
        raise _problem("q has no word to search for (excluded words alone match nothing).")
    return SearchQuery(tuple(tuple(g) for g in groups), tuple(excluded))


def _fts5_term(term: Term) -> str:
    # Words are letters and digits only, so double quotes cannot be broken out of.
    return f'"{" ".join(term.words)}"' + ("*" if term.prefix else "")


def to_fts5(query: SearchQuery) -> str:
    """The query in FTS5's syntax."""
    positive = " AND ".join(
        "(" + " OR ".join(_fts5_term(t) for t in group) + ")" for group in query.required
    )
    if not query.excluded:
        return positive
    return f"({positive}) NOT (" + " OR ".join(_fts5_term(t) for t in query.excluded) + ")"


def _ts_term(term: Term) -> str:
    lexemes = [f"'{w}'" for w in term.words]
    if term.prefix:
        lexemes[-1] += ":*"
    return "(" + " <-> ".join(lexemes) + ")"


def to_tsquery(query: SearchQuery) -> str:
    """The query in PostgreSQL's ``to_tsquery`` syntax."""
    parts = ["(" + " | ".join(_ts_term(t) for t in group) + ")" for group in query.required]
    parts += ["!" + _ts_term(t) for t in query.excluded]
    return " & ".join(parts)


# -- the one construct readers use, compiled per database ---------------------------------------


class _Matches(ColumnElement[bool]):
    """``event_search`` rows matching a parsed query (FTS5 MATCH / tsvector @@ tsquery)."""

    inherit_cache = False
    # No Boolean type: SQLite's compiler would append "= 1" to a boolean in a WHERE clause,
    # which FTS5's MATCH does not allow.
    type = NullType()  # type: ignore[assignment]

    def __init__(self, query: SearchQuery) -> None:
        self.query = query


@compiles(_Matches, "sqlite")
def _matches_sqlite(element: _Matches, compiler: SQLCompiler, **kw: Any) -> str:
    return "event_search MATCH " + compiler.process(
        bindparam("search_q", to_fts5(element.query), unique=True), **kw
    )


@compiles(_Matches, "postgresql")
def _matches_postgresql(element: _Matches, compiler: SQLCompiler, **kw: Any) -> str:
    q = compiler.process(bindparam("search_q", to_tsquery(element.query), unique=True), **kw)
    return f"event_search.document @@ to_tsquery('simple', {q})"


class _SearchEventId(ColumnElement[int]):
    inherit_cache = True
    type = Integer()


@compiles(_SearchEventId, "sqlite")
def _event_id_sqlite(element: _SearchEventId, compiler: SQLCompiler, **kw: Any) -> str:
    return "event_search.rowid"


@compiles(_SearchEventId, "postgresql")
def _event_id_postgresql(element: _SearchEventId, compiler: SQLCompiler, **kw: Any) -> str:
    return "event_search.event_id"


def matching_event_ids(q: str) -> Select[int]:
    """SELECT the ids of events whose search document matches ``q`` (422 if ``q`` is empty)."""
    return select(_SearchEventId()).select_from(table("event_search")).where(_Matches(parse(q)))


# -- index maintenance (called by the writer's derived-state step, app.derived) -----------------


def documents(
    session: Session,
    event_ids: Iterable[int],
    *,
    summaries: Mapping[int, str | None] | None = None,
) -> dict[int, str]:
    """Each event's search text: summary, then its articles' titles, then its quotes.

    ``summaries``: the summaries of existing events among them, already read by the caller
    (the others are read here).
    """
    ids = sorted(set(event_ids))
    known = summaries or {}
    parts: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(ids):
        unread = [i for i in chunk if i not in known]
        for event_id in chunk:
            if event_id in known:
                parts[event_id].append(known[event_id] or "")
        for event_id, summary in (
            session.execute(select(Event.id, Event.summary).where(Event.id.in_(unread)))
            if unread
            else ()
        ):
            parts[event_id].append(summary or "")
        for event_id, title in session.execute(
            select(EventSource.event_id, Article.title)
            .join(Article, Article.id == EventSource.article_id)
            .where(EventSource.event_id.in_(chunk))
            .order_by(EventSource.event_id, Article.id)
        ):
            parts[event_id].append(title or "")
        for event_id, quote in session.execute(
            select(EventSource.event_id, Quote.text)
            .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
            .join(Quote, Quote.id == EventSourceQuote.quote_id)
            .where(EventSource.event_id.in_(chunk))
            .order_by(EventSource.event_id, Quote.id)
        ):
            parts[event_id].append(quote)
    return {event_id: " ".join(words(" ".join(texts))) for event_id, texts in parts.items()}


def document_of(texts: Mapping[int, list[str]]) -> dict[int, str]:
    """The documents of events whose texts are known (summary, titles, quotes), as
    ``documents`` would build them from the database."""
    return {event_id: " ".join(words(" ".join(parts))) for event_id, parts in texts.items()}


def replace(session: Session, event_ids: Iterable[int], docs: dict[int, str]) -> None:
    """Drop the documents of ``event_ids`` and store ``docs`` (events missing from it stay out)."""
    ids = sorted(set(event_ids))
    sqlite = session.get_bind().dialect.name == "sqlite"
    key = "rowid" if sqlite else "event_id"
    search = table("event_search", column(key))
    for chunk in _chunks(ids):
        session.execute(search.delete().where(column(key).in_(chunk)))
    rows = sorted(docs.items())
    if not rows:
        return
    # Straight to the driver (bulk imports store thousands of documents per transaction):
    # one executemany on SQLite, one statement per _INSERT_CHUNK documents on PostgreSQL.
    connection = session.connection()
    if sqlite:
        connection.exec_driver_sql("INSERT INTO event_search (rowid, body) VALUES (?, ?)", rows)
        return
    for i in range(0, len(rows), _INSERT_CHUNK):
        part = rows[i : i + _INSERT_CHUNK]
        connection.exec_driver_sql(
            "INSERT INTO event_search (event_id, document) "
            "SELECT id, to_tsvector('simple', body) "
            "FROM unnest(%s::integer[], %s::text[]) AS wanted (id, body)",
            ([event_id for event_id, _ in part], [body for _, body in part]),
        )


_CHUNK = 500
_INSERT_CHUNK = 5000


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]
