"""Whether two event records describe the same real-world incident: a score with its reasons.

Pure Python over plain records (``Record``), shared by ``GET /v1/events/{id}/similar`` and
``conflictdb reconcile``. Two records are *candidates* only within ``km`` kilometres and
``days`` days of each other and of compatible types (the same family: political violence —
battles, explosions and remote violence, violence against civilians, which datasets code
differently for one air strike —; demonstrations — protests and riots —; or strategic
developments).

A candidate's **score** is a probability (0 to 1) from log-odds that add up what each
comparison says (``Model``), in the manner of Fellegi and Sunter's record linkage; evidence
missing on either side adds nothing:

- **actors**: whether every actor of the two records has a namesake on the other side,
  spelled however each source spells it (transliterations, articles and doubled letters
  folded, then every word of a name compared by its letter trigrams, so "Jabhat al-Ridu"
  and "Jabhat al-Dadu" stay two groups), and how many pairs match; civilians are left out
  (they tell no incidents apart). The strongest evidence, and weighed by how rare each
  matched actor is among the candidates around (``Around``): the state forces most records
  of a region name tell less than a group only one candidate names;
- **distance** between their places, and **days** between their dates (0 when the ranges
  overlap): each kilometre apart lowers the odds, days apart barely for two days and then
  ever faster;
- **fatalities**: how far apart the two best estimates are (the log of their ratio), told
  apart outright beyond three times (plus one: two figures each within half of the truth
  are no further apart), and a larger toll agreed on counts for more than none;
- **types**: two records of different types, or sub-types, that both sides of a
  reconciliation use disagree; a type only one side uses (GED codes every air strike as a
  battle) is no disagreement. ``/similar`` compares records of any origin and does not
  weigh types this way.

The weights were fitted (logistic regression on every candidate pair's comparisons) on the
20,000 first synthetic records of ``bench/reconcile_data.py``, a generator written and
committed before this module and never changed, and are measured on 5,000 to 100,000 in
``bench/README.md``. Place names are given as reasons, not weighed: near places are spelled
alike as often as not.

``conflictdb reconcile`` compares every candidate pair of two sets, then weighs each pair
against its rivals (a record describes at most one incident of the other set): its
**confidence** is its odds over one plus the odds of every candidate pair either record is
in (``pair_up``). Pairs are taken best first, each record in at most one, and proposed when
their confidence reaches the threshold. At the default (0.6) a pair's odds must be at least
1.5 times one plus all its rivals' odds together: it is both records' best by a margin, and
an ambiguous record (two look-alike candidates) is left for a curator.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Final

from app.core.normalize import normalized

EARTH_RADIUS_KM: Final = 6371.0088
DEFAULT_KM: Final = 50.0
DEFAULT_DAYS: Final = 7
MAX_KM: Final = 500.0
MAX_DAYS: Final = 60
DEFAULT_THRESHOLD: Final = 0.6

# Event types that may describe one incident, by family (ACLED's types).
FAMILIES: Final[dict[str, str]] = {
    "Battles": "political violence",
    "Explosions/Remote violence": "political violence",
    "Violence against civilians": "political violence",
    "Protests": "demonstrations",
    "Riots": "demonstrations",
    "Strategic developments": "strategic developments",
}


def family(event_type: str) -> str:
    return FAMILIES.get(event_type, event_type)


def compatible_types(event_type: str) -> list[str]:
    """The event types a record of ``event_type`` may share an incident with."""
    mine = family(event_type)
    return sorted({t for t, f in FAMILIES.items() if f == mine} | {event_type})


@dataclass(frozen=True)
class Model:
    """Log-odds that two candidate records describe the same incident: ``base`` is the odds of
    a candidate pair before any comparison, and each comparison adds what it says. Evidence
    missing on either side (actors, figures, the sides' vocabularies) adds nothing."""

    base: float = -3.0
    per_km: float = -0.06
    per_day: float = 0.24  # with per_day_squared: flat over two days, then falling ever faster
    per_day_squared: float = -0.086
    all_actors: float = 5.3  # every actor on both sides has a namesake on the other
    actors_differ: float = -15.4  # some actor has none
    per_actor_pair: float = 0.5
    per_actor_rarity: float = 0.45  # ln(candidates / candidates naming the actor), per pair
    per_fatality_log_ratio: float = -4.4  # |ln((a + 1) / (b + 1))|
    figures_apart: float = -14.1  # one figure more than three times the other (plus one)
    per_shared_fatality_log: float = 1.14  # ln(1 + the smaller figure), when they agree
    different_sub_types: float = -2.6  # of one type, both used by both sides (``Around``)
    different_types: float = -17.6  # of one family, both used by both sides (``Around``)


# Two figures of one incident, each off by up to half of the true one, are at most three times
# apart: beyond that (one more than 3 x the other + 1) they are told apart.
FIGURES_RATIO: Final = 3


def figures_apart(a: int, b: int) -> bool:
    """Whether two fatality figures are too far apart to be one incident's."""
    low, high = min(a, b), max(a, b)
    return high > FIGURES_RATIO * low + 1


@dataclass(frozen=True)
class Settings:
    km: float = DEFAULT_KM
    days: int = DEFAULT_DAYS
    model: Model = field(default_factory=Model)


@dataclass(frozen=True, slots=True)
class Record:
    """What matching reads of an event."""

    id: int
    event_type: str
    sub_event_type: str | None
    date_start: date
    date_end: date
    latitude: float | None
    longitude: float | None
    place_id: int | None
    place_name: str | None
    actors: tuple[str, ...]  # names, civilians left out
    fatalities: int | None
    incident_id: int | None = None


@dataclass(frozen=True, slots=True)
class Match:
    a: int
    b: int
    score: float  # the probability from the pair alone
    km: float | None
    days: int
    reasons: tuple[str, ...]
    log_odds: float = 0.0
    confidence: float | None = None  # weighed against the rival pairs (``pair_up``)


# -- names ----------------------------------------------------------------------------------------

# Transliteration variants folded to one spelling (after ``normalize_name``: lower case, no
# accents, the Arabic article dropped): vowels written ou/u, ee/i, ei/ai/ay; q/k; ch/sh; kh/h;
# doubled letters.
_FOLDS: Final = (
    ("iyyah", "iya"),
    ("iyah", "iya"),
    ("iyya", "iya"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("ei", "ay"),
    ("ai", "ay"),
    ("ch", "sh"),
    ("kh", "h"),
    ("gh", "g"),
    ("dh", "d"),
    ("q", "k"),
    ("w", "u"),
    ("e", "a"),
    ("o", "u"),
)
_DOUBLED: Final = re.compile(r"(.)\1+")


# Articles left after folding: "all-Zuja" (a doubled article), "a-" and "el-" once folded.
_FOLDED_ARTICLES: Final = frozenset({"al", "a"})


@lru_cache(maxsize=1 << 16)
def skeleton(name: str) -> str:
    """A name folded over transliteration variants ("Jabbhat el-Ridou" -> "jabbat ridu"):
    doubled letters single (before the folds too: "Tikkha" as "Tikha"), the variants folded,
    and an article left over dropped ("all-Zuja")."""
    text = _DOUBLED.sub(r"\1", normalized(name))
    for old, new in _FOLDS:
        text = text.replace(old, new)
    words = _DOUBLED.sub(r"\1", text).split()
    kept = [w for w in words if w not in _FOLDED_ARTICLES]
    return " ".join(kept or words)


@lru_cache(maxsize=1 << 16)
def _word_grams(word: str) -> frozenset[str]:
    padded = f"^{word}$"
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


@lru_cache(maxsize=1 << 16)
def trigrams(name: str) -> frozenset[str]:
    """The letter trigrams of a name's skeleton, each word padded ("^ja", "jab", ... "du$")."""
    grams: set[str] = set()
    for word in skeleton(name).split():
        grams.update(_word_grams(word))
    return frozenset(grams)


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


@lru_cache(maxsize=1 << 18)
def name_similarity(a: str, b: str) -> float:
    """How alike two names are, 0 to 1: 1 for the same skeleton; otherwise the weakest of
    their words' best matches on the other side (the Dice coefficient of the two words'
    trigrams), so every word needs a namesake: "Jabhat al-Ridu" and "Jabhat al-Dadu" share
    their first word and are still two groups."""
    sa, sb = skeleton(a), skeleton(b)
    if sa == sb:
        return 1.0 if sa else 0.0
    wa = [_word_grams(w) for w in sa.split()]
    wb = [_word_grams(w) for w in sb.split()]
    if not wa or not wb:
        return 0.0
    return min(
        min(max(_dice(x, y) for y in wb) for x in wa),
        min(max(_dice(x, y) for x in wa) for y in wb),
    )


SAME_NAME: Final = 0.6


def matched_actors(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of actors (one from each list) named alike, each actor in at most one pair: those
    of one skeleton first, then the rest by similarity."""
    out: list[tuple[str, str]] = []
    left_b = [(skeleton(y), y) for y in b]
    left_a = []
    for x in a:
        key = skeleton(x)
        for j, (other, y) in enumerate(left_b):
            if other == key:
                out.append((x, y))
                del left_b[j]
                break
        else:
            left_a.append(x)
    if not left_a or not left_b:
        return out
    pairs = sorted(
        (
            (name_similarity(x, y), i, j)
            for i, x in enumerate(left_a)
            for j, (_, y) in enumerate(left_b)
        ),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    for sim, i, j in pairs:
        if sim < SAME_NAME:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((left_a[i], left_b[j][1]))
    return out


# -- the score --------------------------------------------------------------------------------------


# The length of a degree of latitude on the sphere ``km_between`` measures on, rounded down.
_KM_PER_DEGREE_LAT: Final = 111.19


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def days_apart(a: Record, b: Record) -> int:
    """Days between the two records' date ranges; 0 when they overlap."""
    if a.date_end < b.date_start:
        return (b.date_start - a.date_end).days
    if b.date_end < a.date_start:
        return (a.date_start - b.date_end).days
    return 0


def distance(a: Record, b: Record) -> float | None:
    """Kilometres between the two records' places; 0 at the same place; None if unknown."""
    if a.place_id is not None and a.place_id == b.place_id:
        return 0.0
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return None
    return km_between(a.latitude, a.longitude, b.latitude, b.longitude)


def reach(a: Record, b: Record, settings: Settings) -> tuple[float, int] | None:
    """(km, days apart) of two records that are candidates (compatible types, within the km
    and days); None when they are not."""
    if a.id == b.id or family(a.event_type) != family(b.event_type):
        return None
    gap = days_apart(a, b)
    if gap > settings.days:
        return None
    if (
        a.latitude is not None
        and b.latitude is not None
        and abs(a.latitude - b.latitude) * _KM_PER_DEGREE_LAT > settings.km
        and a.place_id != b.place_id
    ):
        return None  # farther north or south than ``km`` already
    km = distance(a, b)
    if km is None or km > settings.km:
        return None
    return km, gap


@lru_cache(maxsize=1 << 16)
def _actor_keys(actors: tuple[str, ...]) -> frozenset[str]:
    return frozenset(skeleton(name) for name in actors)


@dataclass(frozen=True, slots=True)
class Around:
    """The candidates a record is compared with: how many, and how many name each actor (by
    skeleton). An actor most of them name (the state forces of a region) tells the incidents
    around apart less than one a single candidate names."""

    size: int
    named: dict[str, int]
    # The event types both sides of a reconciliation use; None when not known (``/similar``
    # compares records of any origin). Two records of different types both sides use disagree;
    # a type only one side uses (GED has no "Explosions/Remote violence") is no disagreement.
    types: frozenset[str] | None = None
    sub_types: frozenset[str] | None = None  # likewise

    @classmethod
    def of(
        cls,
        candidates: Sequence[Record],
        types: frozenset[str] | None = None,
        sub_types: frozenset[str] | None = None,
    ) -> Around:
        named: dict[str, int] = {}
        for c in candidates:
            for key in _actor_keys(c.actors):
                named[key] = named.get(key, 0) + 1
        return cls(len(candidates), named, types, sub_types)

    def types_disagree(self, a: Record, b: Record) -> bool:
        return (
            self.types is not None
            and a.event_type != b.event_type
            and a.event_type in self.types
            and b.event_type in self.types
        )

    def sub_types_disagree(self, a: Record, b: Record) -> bool:
        return (
            self.sub_types is not None
            and a.sub_event_type != b.sub_event_type
            and a.sub_event_type in self.sub_types
            and b.sub_event_type in self.sub_types
        )

    def rarity(self, name: str) -> float:
        """ln(candidates / candidates naming the actor): 0 when all of them do."""
        return math.log(max(self.size, 1) / max(self.named.get(skeleton(name), 0), 1))


def _log_odds(a: Record, b: Record, km: float, gap: int, around: Around, model: Model) -> float:
    """The log-odds that two candidate records (``reach``) describe one incident."""
    z = model.base + model.per_km * km + model.per_day * gap + model.per_day_squared * gap * gap
    if a.event_type == b.event_type:
        if around.sub_types_disagree(a, b):
            z += model.different_sub_types
    elif around.types_disagree(a, b):
        z += model.different_types
    if a.actors and b.actors:
        pairs = matched_actors(a.actors, b.actors)
        z += model.per_actor_pair * len(pairs)
        z += model.per_actor_rarity * sum(around.rarity(y) for _, y in pairs)
        if len(pairs) == len(a.actors) == len(b.actors):
            z += model.all_actors
        else:
            z += model.actors_differ
    if a.fatalities is not None and b.fatalities is not None:
        z += model.per_fatality_log_ratio * abs(math.log((a.fatalities + 1) / (b.fatalities + 1)))
        if figures_apart(a.fatalities, b.fatalities):
            z += model.figures_apart
        else:
            z += model.per_shared_fatality_log * math.log1p(min(a.fatalities, b.fatalities))
    return z


def reasons(a: Record, b: Record, km: float, gap: int, around: Around) -> tuple[str, ...]:
    """What a candidate's score rests on, in words."""
    out = [f"{km:.1f} km apart", "same days" if gap == 0 else f"{gap} days apart"]
    if a.event_type == b.event_type and a.sub_event_type and a.sub_event_type == b.sub_event_type:
        out.append(f"same type: {a.event_type} / {a.sub_event_type}")
    elif a.event_type == b.event_type and around.sub_types_disagree(a, b):
        out.append(
            f"same type: {a.event_type}, different sub-types (both sources use both): "
            f"{a.sub_event_type} ~ {b.sub_event_type}"
        )
    elif a.event_type == b.event_type:
        out.append(f"same type: {a.event_type}")
    elif around.types_disagree(a, b):
        out.append(f"different types (both sources use both): {a.event_type} ~ {b.event_type}")
    else:
        out.append(f"compatible types: {a.event_type} ~ {b.event_type}")
    if a.actors and b.actors:
        pairs = matched_actors(a.actors, b.actors)
        named = "; ".join(
            f"{x if x == y else f'{x} ~ {y}'} ({around.named.get(skeleton(y), 0)} of "
            f"{around.size} candidates)"
            for x, y in pairs
        )
        if not pairs:
            out.append("no actor in common")
        elif len(pairs) == len(a.actors) == len(b.actors):
            out.append(f"the same actors: {named}")
        else:
            out.append(f"some actors in common: {named}")
    else:
        out.append("actors unknown on one side")
    if a.fatalities is not None and b.fatalities is not None:
        if figures_apart(a.fatalities, b.fatalities):
            out.append(f"fatalities {a.fatalities} and {b.fatalities}: too far apart")
        else:
            out.append(f"fatalities {a.fatalities} and {b.fatalities}")
    if a.place_name and b.place_name:
        if km == 0.0 or a.place_name == b.place_name:
            out.append("same place")
        elif name_similarity(a.place_name, b.place_name) >= SAME_NAME:
            out.append(f"place named alike: {a.place_name} ~ {b.place_name}")
    return tuple(out)


def _probability(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z > -700 else 0.0


def _match(
    a: Record,
    b: Record,
    km: float,
    gap: int,
    around: Around,
    z: float,
    confidence: float | None = None,
) -> Match:
    return Match(
        a.id,
        b.id,
        round(_probability(z), 3),
        round(km, 1),
        gap,
        reasons(a, b, km, gap, around),
        z,
        None if confidence is None else round(confidence, 3),
    )


def ranked(record: Record, candidates: Iterable[Record], settings: Settings) -> list[Match]:
    """The candidates' matches with ``record``, best first (ties: lower id): each scored among
    the candidates within reach of ``record`` (``Around``)."""
    within = [(c, near) for c in candidates if (near := reach(record, c, settings)) is not None]
    around = Around.of([c for c, _ in within])
    matches = [
        _match(record, c, km, gap, around, _log_odds(record, c, km, gap, around, settings.model))
        for c, (km, gap) in within
    ]
    return sorted(matches, key=lambda m: (-m.log_odds, m.b))


# -- many against many --------------------------------------------------------------------------


def _row(lat: float, lat_size: float) -> int:
    return math.floor(lat / lat_size)


def _lon_size(row: int, lat_size: float) -> float:
    """The width in degrees of longitude of the cells of a band of latitude: at least ``km``
    wide everywhere in the band (measured at its poleward edge)."""
    edge = min(max(abs(row * lat_size), abs((row + 1) * lat_size)), 89.0)
    return lat_size / max(math.cos(math.radians(edge)), 0.01)


def _column(lon: float, row: int, lat_size: float) -> int:
    return math.floor(lon / _lon_size(row, lat_size))


def pair_up(
    side_a: Sequence[Record], side_b: Sequence[Record], settings: Settings, threshold: float
) -> list[Match]:
    """Matches between two sets of records, one to one, best first: every candidate pair is
    scored, then weighed against its rivals — its confidence is its odds over one plus the
    odds of every candidate pair either of its records is in — and pairs are taken by
    confidence, each record in at most one; those reaching ``threshold`` are returned.

    Candidates are found through a grid of cells at least ``km`` across, by type family, each
    cell's records in date order, so each record is compared only with the records of the
    cells around it whose dates come within ``days``. Records without coordinates are left
    out, and pairs linked as one incident already.
    """
    lat_size = max(settings.km, 0.001) / 111.0
    cells: dict[tuple[str, int, int], list[Record]] = {}
    for r in side_b:
        if r.latitude is None or r.longitude is None:
            continue
        row = _row(r.latitude, lat_size)
        key = (family(r.event_type), row, _column(r.longitude, row, lat_size))
        cells.setdefault(key, []).append(r)
    # Each cell: its records by first day, their first days, and its longest date range.
    grid: dict[tuple[str, int, int], tuple[list[Record], list[int], int]] = {}
    for key, records in cells.items():
        records.sort(key=lambda r: (r.date_start, r.id))
        grid[key] = (
            records,
            [r.date_start.toordinal() for r in records],
            max((r.date_end - r.date_start).days for r in records),
        )
    types = frozenset(r.event_type for r in side_a) & frozenset(r.event_type for r in side_b)
    sub_types = frozenset(r.sub_event_type for r in side_a if r.sub_event_type) & frozenset(
        r.sub_event_type for r in side_b if r.sub_event_type
    )
    scored: list[tuple[float, Record, Record, float, int, Around]] = []
    odds_a: dict[int, float] = {}
    odds_b: dict[int, float] = {}
    model = settings.model
    for a in side_a:
        if a.latitude is None or a.longitude is None:
            continue
        mine = family(a.event_type)
        row = _row(a.latitude, lat_size)
        first = a.date_start.toordinal() - settings.days
        last = a.date_end.toordinal() + settings.days
        within: list[tuple[Record, float, int]] = []
        for band in (row - 1, row, row + 1):
            column = _column(a.longitude, band, lat_size)
            for c in (column - 1, column, column + 1):
                cell = grid.get((mine, band, c))
                if cell is None:
                    continue
                records, starts, span = cell
                for i in range(bisect_left(starts, first - span), bisect_right(starts, last)):
                    b = records[i]
                    if a.incident_id is not None and a.incident_id == b.incident_id:
                        continue  # linked already
                    found = reach(a, b, settings)
                    if found is not None:
                        within.append((b, *found))
        around = Around.of([b for b, _, _ in within], types, sub_types)
        for b, km, gap in within:
            z = _log_odds(a, b, km, gap, around, model)
            odds = math.exp(min(z, 700.0))
            odds_a[a.id] = odds_a.get(a.id, 0.0) + odds
            odds_b[b.id] = odds_b.get(b.id, 0.0) + odds
            scored.append((odds, a, b, km, gap, around))
    weighed = []
    for odds, a, b, km, gap, around in scored:
        confidence = odds / (1 + odds_a[a.id] + odds_b[b.id] - odds)
        if confidence >= threshold:
            weighed.append((confidence, a, b, odds, km, gap, around))
    weighed.sort(key=lambda w: (-w[0], w[1].id, w[2].id))
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for confidence, a, b, odds, km, gap, around in weighed:
        if a.id in used_a or b.id in used_b:
            continue
        used_a.add(a.id)
        used_b.add(b.id)
        z = math.log(odds) if odds > 0 else -700.0
        out.append(_match(a, b, km, gap, around, z, confidence))
    return out
