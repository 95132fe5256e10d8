"""Claims and the headline figures they decide.

Every figure a source gives about an event is a claim (``app.models.claim``): a report's
fatalities, deaths by whom and measures are claims of its article (and so of its outlet),
an imported row's are claims of its dataset, and a curator's edit of a headline figure is a
curator's claim. Claims stand side by side; none overwrites another.

**The headline rule.** Each headline figure of an event (``FIGURE_FIELDS``: fatalities low,
best and high; deaths of side a, side b, civilians, unknown) is

1. the latest curator's claim on it, while one stands (not withdrawn); else
2. the median of the *voices'* latest claims: each outlet's latest (by its article's
   publication date, then by when it was recorded; an undated article counts as the oldest),
   and each dataset's latest; with an even number of them, the lower middle one. So two
   outlets do not overwrite each other, one outlet counts once however many articles it
   publishes (a revised toll replaces its own earlier one), and the figure is always one a
   source gave — the cautious one of the middle two;
3. unknown (null) when nobody claims it.

Why the median: it is what a careful reader does with several tolls (it does not follow the
one outlier, as the mean or the maximum would), and it needs no judgement of the outlets.

**Disputed.** An event is disputed when, for any headline figure, the voices' latest values
(curators left out: they settle a dispute, they are not a side of it) spread by more than
the dispute threshold (``CONFLICTDB_DISPUTE_THRESHOLD``, 0.25 by default) of the largest:
``(max - min) / max > threshold``. Measures are not weighed: they count different things.

The writer keeps the headline columns and ``disputed`` in the transaction that changes the
claims (``refresh`` in ``app.writer.evidence``), with revisions and the change feed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db.base import utcnow
from app.db.bulk import chunks, insert_returning_ids
from app.models import Article, Claim
from app.models.event import FIGURE_FIELDS

__all__ = ["CLAIM_FIELDS", "FIGURE_FIELDS", "MEASURE", "ORIGINS", "NewClaim"]

MEASURE: Final = "measure"
# Every field a claim may be on.
CLAIM_FIELDS: Final[tuple[str, ...]] = (*FIGURE_FIELDS, MEASURE)
ORIGINS: Final = ("source", "dataset", "curator")


@dataclass
class NewClaim:
    """A claim about one event: ``field`` (one of ``CLAIM_FIELDS``) has ``value``.

    ``origin`` 'source' needs ``article_id``; 'dataset' needs ``dataset_id``; 'curator' needs
    neither. A measure has its ``kind`` ("barrel bombs").
    """

    field: str
    value: float | None
    origin: str = "source"
    kind: str | None = None
    qualifier: str | None = None
    article_id: int | None = None
    quote_id: int | None = None
    dataset_id: int | None = None


def dispute_threshold() -> float:
    return float(get_settings().dispute_threshold)


def claim_rows(
    claims: Sequence[tuple[int, NewClaim]], api_key_id: int | None, now: Any
) -> list[dict[str, Any]]:
    return [
        {
            "event_id": event_id,
            "field": c.field,
            "kind": c.kind,
            "value": None if c.value is None else float(c.value),
            "qualifier": c.qualifier,
            "origin": c.origin,
            "article_id": c.article_id,
            "quote_id": c.quote_id,
            "dataset_id": c.dataset_id,
            "api_key_id": api_key_id,
            "created_at": now,
            "withdrawn_at": None,
            "withdrawn_reason": None,
        }
        for event_id, c in claims
    ]


def insert_claims(
    session: Session, claims: Sequence[tuple[int, NewClaim]], *, api_key_id: int | None
) -> list[int]:
    """Store claims (event id, claim); their ids in the order given. The headline figures are
    the caller's to refresh (``app.writer.evidence.refresh``)."""
    if not claims:
        return []
    return insert_returning_ids(session, Claim, claim_rows(claims, api_key_id, utcnow()))


def withdraw_claim(session: Session, claim_id: int, reason: str) -> None:
    session.execute(
        update(Claim)
        .where(Claim.id == claim_id, Claim.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow(), withdrawn_reason=reason)
        .execution_options(synchronize_session=False)
    )


# -- the rule --------------------------------------------------------------------------------


class ClaimRow(NamedTuple):
    """What the rule reads of a standing claim."""

    id: int
    field: str
    value: float | None
    origin: str
    outlet_id: int | None
    dataset_id: int | None
    published_date: date | None


def voice(claim: ClaimRow) -> tuple[str, int | None]:
    """Who a claim speaks for: an outlet, a dataset, or the curators together."""
    if claim.origin == "curator":
        return ("curator", None)
    if claim.origin == "dataset":
        return ("dataset", claim.dataset_id)
    return ("outlet", claim.outlet_id)


def _order(claim: ClaimRow) -> tuple[date, int]:
    return (claim.published_date or date.min, claim.id)


def latest_by_voice(claims: Iterable[ClaimRow]) -> dict[tuple[str, int | None], ClaimRow]:
    """Each voice's latest claim among ``claims`` (all on one field)."""
    latest: dict[tuple[str, int | None], ClaimRow] = {}
    for claim in sorted(claims, key=_order):
        latest[voice(claim)] = claim
    return latest


def _figure(value: float | None) -> int | None:
    return None if value is None else round(value)


def headline(claims: Iterable[ClaimRow], threshold: float) -> tuple[dict[str, int | None], bool]:
    """The headline figures and ``disputed`` an event's standing claims give (the rule above)."""
    by_field: dict[str, list[ClaimRow]] = defaultdict(list)
    for claim in claims:
        if claim.field != MEASURE:
            by_field[claim.field].append(claim)
    figures: dict[str, int | None] = dict.fromkeys(FIGURE_FIELDS)
    disputed = False
    for field, rows in by_field.items():
        latest = latest_by_voice(rows)
        values = sorted(
            c.value for v, c in latest.items() if v[0] != "curator" and c.value is not None
        )
        curator = latest.get(("curator", None))
        if curator is not None:
            figures[field] = _figure(curator.value)
        elif values:
            figures[field] = _figure(values[(len(values) - 1) // 2])
        if len(values) >= 2 and values[-1] > 0:
            disputed = disputed or (values[-1] - values[0]) / values[-1] > threshold
    return figures, disputed


def standing_claims(session: Session, event_ids: Iterable[int]) -> dict[int, list[ClaimRow]]:
    """The standing (not withdrawn) figure claims of each event, with what the rule needs."""
    out: dict[int, list[ClaimRow]] = defaultdict(list)
    for chunk in chunks(event_ids):
        for row in session.execute(
            select(
                Claim.event_id,
                Claim.id,
                Claim.field,
                Claim.value,
                Claim.origin,
                Article.outlet_id,
                Claim.dataset_id,
                Article.published_date,
            )
            .outerjoin(Article, Article.id == Claim.article_id)
            .where(Claim.event_id.in_(chunk), Claim.field != MEASURE, Claim.withdrawn_at.is_(None))
        ):
            out[row[0]].append(ClaimRow(*row[1:]))
    return out


def headlines(
    session: Session, event_ids: Iterable[int]
) -> dict[int, tuple[dict[str, int | None], bool]]:
    """Each event's headline figures and ``disputed`` by the rule, from its stored claims."""
    ids = sorted(set(event_ids))
    threshold = dispute_threshold()
    claims = standing_claims(session, ids)
    return {i: headline(claims.get(i, ()), threshold) for i in ids}


def claims_json(claims: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Claims as a revision records them."""
    return [
        {
            k: c[k]
            for k in ("id", "field", "kind", "value", "qualifier", "origin", "article_id")
            if c.get(k) is not None
        }
        for c in claims
    ]
