"""What an event filter refers to, read before its statements are built (issue 12): a record
named where its id is asked (``actor=``, ``place=``, ``outlet=`` by name) and the dataset
codes of ``dimension=``. A name matching nothing or several records, and a scheme or code that
does not exist, are 422s naming the parameter, the candidates (with their ids) or the allowed
values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.actors import repository as actor_repository
from app.core.errors import AmbiguousName, ValidationProblem
from app.core.normalize import normalize_name
from app.models import DimensionCode, DimensionScheme, Outlet
from app.places import repository as place_repository
from app.vocabulary.service import nearest_terms


def _refused(parameter: str, message: str, kind: str) -> ValidationProblem:
    return ValidationProblem(
        f"{parameter}: {message}",
        errors=[{"loc": ["query", parameter], "msg": message, "type": kind}],
    )


def record_named(session: Session, parameter: str, name: str) -> int:
    """The id of the actor, place or outlet known by ``name`` (its own name or an alias, folded
    as reports fold them: case, accents, hyphens, the Arabic article's transliterations)."""
    norm = normalize_name(name)
    if not norm:
        raise _refused(parameter, f"{name!r} has no letters or digits to match on", "empty_name")
    candidates: list[dict[str, Any]]
    if parameter == "actor":
        candidates = [dict(c) for c in actor_repository.actor_candidates(session, norm, None, None)]
    elif parameter == "place":
        candidates = [
            dict(c)
            for c in place_repository.place_candidates(
                session, norm, within=None, country=None, kind=None
            )
        ]
    else:
        candidates = [
            dict(r)
            for r in session.execute(
                select(Outlet.id, Outlet.name, Outlet.kind, Outlet.country).where(
                    Outlet.name_norm == norm
                )
            ).mappings()
        ]
    if not candidates:
        raise _refused(parameter, f"no {parameter} is named {name!r}", "unknown_name")
    if len(candidates) > 1:
        listed = ", ".join(
            f"{c['id']} ({c['name']}, {c['country'] or 'no country'})" for c in candidates[:20]
        )
        raise AmbiguousName(
            f"The {parameter} name {name!r} matches {len(candidates)} {parameter}s: {listed}; "
            f"give {parameter} as one of these ids.",
            candidates=candidates,
            errors=[
                {
                    "loc": ["query", parameter],
                    "msg": f"ambiguous {parameter} name",
                    "type": "ambiguous_name",
                }
            ],
        )
    return int(candidates[0]["id"])


def dimension_codes(session: Session, given: Sequence[str]) -> dict[str, list[int]]:
    """The code ids of each scheme ``dimension=scheme:code`` names; a 422 for a scheme or a
    code that does not exist, naming the allowed schemes or the scheme's nearest codes."""
    wanted: dict[str, list[str]] = defaultdict(list)
    for item in given:
        scheme, _, code = item.partition(":")
        wanted[scheme].append(code)
    schemes = set(session.scalars(select(DimensionScheme.name)))
    unknown = sorted(set(wanted) - schemes)
    if unknown:
        raise _refused(
            "dimension",
            f"unknown scheme{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"one of {', '.join(sorted(schemes))}",
            "unknown_scheme",
        )
    out: dict[str, list[int]] = {}
    for scheme, codes in wanted.items():
        found = dict(
            session.execute(
                select(DimensionCode.code, DimensionCode.id).where(
                    DimensionCode.scheme == scheme, DimensionCode.code.in_(codes)
                )
            ).all()
        )
        missing = [c for c in codes if c not in found]
        if missing:
            raise _refused("dimension", _unknown_codes(session, scheme, missing), "unknown_code")
        out[scheme] = sorted(found[c] for c in codes)
    return out


def _unknown_codes(session: Session, scheme: str, missing: list[str]) -> str:
    known = list(
        session.scalars(
            select(DimensionCode.code)
            .where(DimensionCode.scheme == scheme)
            .order_by(DimensionCode.code)
        )
    )
    what = f"{', '.join(map(repr, missing))} {'is not a code' if len(missing) == 1 else 'are not codes'} of {scheme}"
    if len(known) <= 50:
        return f"{what}; one of {', '.join(known) or '(none yet: no import has given one)'}"
    nearest = nearest_terms(missing[0], known)
    hint = f"did you mean {', '.join(map(repr, nearest))}?" if nearest else f"{len(known)} codes"
    return f"{what} ({hint}; GET /v1/vocabulary lists them)"
