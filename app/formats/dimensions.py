"""The dataset dimensions: every coded field of UCDP GED and ACLED kept as data (issue 12).

A scheme is one field of one dataset (``ucdp.type_of_violence``, ``acled.tags``); an event
carries codes of it (``EventRecord.dimensions``), stored in ``event_dimension`` and served
with their labels by GET /v1/vocabulary. *Closed* schemes have the fixed list of codes below
(seeded by migration 0008, which keeps its own copy: a test holds the two together) and an
import row with another code is refused; *open* schemes learn their codes from the files
(UCDP's conflict ids, with the names the file gives them; ACLED's tags).

Also here: ACLED's actor-pair ``interaction`` codes, which every event derives from the
kinds of its two sides (``interaction_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Scheme:
    name: str
    dataset: str
    column: str
    closed: bool
    multiple: bool
    description: str
    # A closed scheme's codes and their labels, in order.
    codes: tuple[tuple[str, str], ...] = ()


UCDP: Final = "ucdp-ged"
ACLED: Final = "acled"

# ACLED's actor categories (inter1/inter2), 0 meaning no actor on that side.
INTER_LABELS: Final = {
    "0": "No actor",
    "1": "State forces",
    "2": "Rebel groups",
    "3": "Political militias",
    "4": "Identity militias",
    "5": "Rioters",
    "6": "Protesters",
    "7": "Civilians",
    "8": "External/other forces",
}


def _interaction_codes() -> tuple[tuple[str, str], ...]:
    """ACLED's interaction codes: the two sides' categories, lower first; a side alone is
    its category and 0 ("10": state forces acting alone)."""
    codes: list[tuple[str, str]] = []
    for a in range(1, 9):
        codes.append((f"{a}0", f"{INTER_LABELS[str(a)]} only"))
        for b in range(a, 9):
            label = f"{INTER_LABELS[str(a)]} versus {INTER_LABELS[str(b)]}".lower().capitalize()
            codes.append((f"{a}{b}", label))
    return tuple(codes)


INTERACTION_CODES: Final = _interaction_codes()

SCHEMES: Final[tuple[Scheme, ...]] = (
    Scheme(
        "ucdp.type_of_violence",
        UCDP,
        "type_of_violence",
        True,
        False,
        "UCDP's type of violence.",
        (("1", "State-based violence"), ("2", "Non-state violence"), ("3", "One-sided violence")),
    ),
    Scheme(
        "ucdp.conflict",
        UCDP,
        "conflict_new_id",
        False,
        False,
        "UCDP's conflict (its id; the label is the conflict's name).",
    ),
    Scheme(
        "ucdp.dyad",
        UCDP,
        "dyad_new_id",
        False,
        False,
        "UCDP's dyad, the pair of sides (its id; the label is the dyad's name).",
    ),
    Scheme(
        "ucdp.where_prec",
        UCDP,
        "where_prec",
        True,
        False,
        "How precisely UCDP locates the event.",
        (
            ("1", "Exact location"),
            ("2", "Within about 25 km of a known point"),
            ("3", "Second-order administrative division"),
            ("4", "First-order administrative division"),
            ("5", "Linear or ill-defined area (a region, a road)"),
            ("6", "The country"),
            ("7", "International waters or airspace"),
        ),
    ),
    Scheme(
        "ucdp.date_prec",
        UCDP,
        "date_prec",
        True,
        False,
        "How precisely UCDP dates the event.",
        (
            ("1", "Exact date"),
            ("2", "Within two to six days"),
            ("3", "Within the week"),
            ("4", "Within the month"),
            ("5", "Within the year"),
        ),
    ),
    Scheme(
        "ucdp.event_clarity",
        UCDP,
        "event_clarity",
        True,
        False,
        "Whether the sources describe one clear event.",
        (("1", "High: a clearly described event"), ("2", "Lower: an aggregate of events")),
    ),
    Scheme(
        "ucdp.number_of_sources",
        UCDP,
        "number_of_sources",
        False,
        False,
        "How many sources UCDP counts for the event (-1: not recorded).",
    ),
    Scheme(
        "acled.disorder_type",
        ACLED,
        "disorder_type",
        True,
        False,
        "ACLED's disorder type.",
        (
            ("Political violence", "Political violence"),
            ("Demonstrations", "Demonstrations"),
            ("Political violence; Demonstrations", "Political violence and demonstrations"),
            ("Strategic developments", "Strategic developments"),
        ),
    ),
    Scheme(
        "acled.inter1",
        ACLED,
        "inter1",
        True,
        False,
        "ACLED's category of the first actor.",
        tuple(INTER_LABELS.items()),
    ),
    Scheme(
        "acled.inter2",
        ACLED,
        "inter2",
        True,
        False,
        "ACLED's category of the second actor (0: none).",
        tuple(INTER_LABELS.items()),
    ),
    Scheme(
        "acled.interaction",
        ACLED,
        "interaction",
        True,
        False,
        "ACLED's interaction code, as ACLED gave it.",
        INTERACTION_CODES,
    ),
    Scheme(
        "acled.civilian_targeting",
        ACLED,
        "civilian_targeting",
        True,
        False,
        "ACLED's civilian targeting flag.",
        (("Civilian targeting", "Civilians were the primary or only target"),),
    ),
    Scheme("acled.tags", ACLED, "tags", False, True, "ACLED's tags (several per event)."),
    Scheme("acled.admin1", ACLED, "admin1", False, False, "ACLED's admin1, as written."),
    Scheme("acled.admin2", ACLED, "admin2", False, False, "ACLED's admin2, as written."),
    Scheme("acled.admin3", ACLED, "admin3", False, False, "ACLED's admin3, as written."),
    Scheme("acled.iso", ACLED, "iso", False, False, "ACLED's ISO 3166 numeric country code."),
    Scheme("acled.region", ACLED, "region", False, False, "ACLED's region."),
    Scheme("acled.source_scale", ACLED, "source_scale", False, False, "ACLED's source scale."),
)
BY_NAME: Final = {scheme.name: scheme for scheme in SCHEMES}
MAX_CODE_LENGTH: Final = 300
MAX_LABEL_LENGTH: Final = 500

# Our actor kinds without an ACLED category take the nearest: a coalition fights as an armed
# opposition would (2), a person fits none (8, ACLED's "other").
_KIND_FALLBACK: Final = {"coalition": 2, "person": 8}
# Roles that do not make an actor its side's: associated actors take their side's category,
# and a mediator stands apart.
_SECONDARY_ROLES: Final = frozenset({"associated", "mediator"})


def side_category(actors: list[tuple[str, int | None, str]]) -> int:
    """A side's ACLED category from its actors' (kind, acled_inter, role): the lowest among
    its principal actors (all of them when it has none), 0 without actors."""
    principal = [a for a in actors if a[2] not in _SECONDARY_ROLES] or actors
    codes = [
        inter if inter is not None else _KIND_FALLBACK.get(kind, 8) for kind, inter, _ in principal
    ]
    return min(codes) if codes else 0


def interaction_of(side_a: int, side_b: int) -> str | None:
    """ACLED's interaction code of two side categories: lower first, a lone side's then 0;
    None without actors."""
    if not side_a and not side_b:
        return None
    if not side_a or not side_b:
        return f"{side_a or side_b}0"
    low, high = sorted((side_a, side_b))
    return f"{low}{high}"
