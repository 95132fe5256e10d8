"""Filter values checked against the controlled vocabularies: an unknown term is a 422 that
names the nearest known ones, or all of them.

The vocabularies are the database's lookup tables (seeded and changed only by migrations), so
they are read once per database and process and kept. Query models mark the fields whose values
are terms (``app.core.fields.Term``); ``check_filters`` finds them, whatever the model.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine

from app.core import validation
from app.core.errors import ValidationProblem
from app.core.fields import Term
from app.core.validation import Loc
from app.db.session import read_session
from app.vocabulary import repository

# The closest a misspelling must come (difflib's ratio, 0..1) for its term to be suggested.
NEAR_ENOUGH = 0.7
MOST_SUGGESTED = 3

# By database (its URL), read on first use. A term the copy lacks is looked up again before it
# is refused, so a term a migration adds is known without a restart.
_TERMS: dict[str, Mapping[str, frozenset[str]]] = {}


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def read_terms(engine: Engine) -> Mapping[str, frozenset[str]]:
    """Every vocabulary of the engine's database, by lookup table, read now and kept."""
    with read_session(engine) as session:
        known = repository.term_names(session)
    _TERMS[_key(engine)] = known
    return known


def cached_terms(engine: Engine) -> Mapping[str, frozenset[str]] | None:
    """The vocabularies as last read (no database access), or None before the first read."""
    return _TERMS.get(_key(engine))


def given_terms(query: BaseModel, *, where: str = "query") -> list[tuple[Term, Loc, str]]:
    """The values of ``query``'s term fields (``Term``), each with its location: at its
    parameter, and its position when the parameter repeats."""
    given = []
    for name, field in type(query).model_fields.items():
        term = next((m for m in field.metadata if isinstance(m, Term)), None)
        value = getattr(query, name)
        if term is None or value is None:
            continue
        for index, item in enumerate(value) if isinstance(value, list) else [(None, value)]:
            loc: Loc = [where, name] + ([] if index is None else [index])
            given.append((term, loc, item))
    return given


def all_known(known: Mapping[str, frozenset[str]], query: BaseModel) -> bool:
    """Whether every term ``query`` gives is in ``known`` (no message built)."""
    return all(item in known[term.vocabulary] for term, _, item in given_terms(query))


def term_errors(
    known: Mapping[str, frozenset[str]], query: BaseModel, *, where: str = "query"
) -> list[dict[str, Any]]:
    """A problem's ``errors`` for the values of ``query``'s term fields that are not in their
    vocabulary."""
    return [
        validation.field_error(
            loc, {"msg": unknown_term(term.noun, item, known[term.vocabulary]), "type": term.error}
        )
        for term, loc, item in given_terms(query, where=where)
        if item not in known[term.vocabulary]
    ]


def check_filters(engine: Engine, query: BaseModel, *, where: str = "query") -> None:
    """Refuse (422) a value of ``query`` outside its vocabulary, naming the nearest terms.
    Reads the database only for a query with terms, the first time or to refuse one."""
    if not given_terms(query, where=where):
        return
    known = cached_terms(engine)
    if known is None or not all_known(known, query):
        known = read_terms(engine)
    errors = term_errors(known, query, where=where)
    if errors:
        raise ValidationProblem(validation.summary(errors), errors=errors)


def unknown_term(noun: str, value: str, known: Iterable[str]) -> str:
    """``unknown event type 'Battle'; did you mean 'Battles'?``, or the whole list when no
    term is near."""
    nearest = nearest_terms(value, known)
    if nearest:
        return f"unknown {noun} {value!r}; did you mean {_either(nearest)}?"
    return f"unknown {noun} {value!r}; one of {', '.join(sorted(known))}"


_SEPARATORS = re.compile(r"[\s_/\-]+")


def _fold(text: str) -> str:
    return _SEPARATORS.sub(" ", text.casefold()).strip()


def nearest_terms(value: str, known: Iterable[str]) -> list[str]:
    """The known terms ``value`` most likely meant, best first: the same but for case and
    separators (``armed clash``, ``populated place``), else those it is close to as a whole or
    close to one of their words (``shelling`` for ``Shelling/artillery/missile attack``)."""
    wanted = _fold(value)
    terms = sorted(known)
    same = [t for t in terms if _fold(t) == wanted]
    if same:
        return same
    scored = []
    for term in terms:
        folded = _fold(term)
        if f" {wanted} " in f" {folded} " or f" {folded} " in f" {wanted} ":
            score = 1.0  # words of the term, or the term and more words
        else:
            candidates = [folded, *folded.split(" ")]
            score = max(difflib.SequenceMatcher(None, wanted, c).ratio() for c in candidates)
        if score >= NEAR_ENOUGH:
            scored.append((-score, term))
    return [term for _, term in sorted(scored)[:MOST_SUGGESTED]]


def _either(names: list[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
