"""Whether two event records describe the same real-world incident: a score with its reasons.

Pure Python over plain records (``Record``), shared by ``GET /v1/events/{id}/similar`` and
``conflictdb reconcile``. Two records are *candidates* only within ``km`` kilometres and
``days`` days of each other and of compatible types (the same family: political violence —
battles, explosions and remote violence, violence against civilians, which datasets code
differently for one air strike —; demonstrations — protests and riots —; or strategic
developments).

A candidate's **score** is a probability (0 to 1) from log-odds that add up what each
comparison says (``Model``), in the manner of Fellegi and Sunter's record linkage:

- **actors**: whether every actor of the two records has a namesake on the other side,
  spelled however each source spells it (transliterations folded, then compared by their
  letter trigrams), and how many pairs match; civilians are left out (they tell no
  incidents apart). The strongest evidence;
- **distance** between their places, and **days** between their dates (0 when the ranges
  overlap): each kilometre and each day apart lowers the odds;
- **fatalities**: how far apart the two best estimates are (the log of their ratio); no
  evidence when either is unknown;
- **sub-type**: the same one adds a little.

The weights' signs are what a reader expects; their sizes were set on the synthetic
incidents of ``bench/reconcile_data.py`` (a generator written and committed before this
module) and are recorded in ``bench/README.md``. Place names are given as reasons, not
weighed: near places are spelled alike as often as not.

``conflictdb reconcile`` compares every candidate pair of two sets, then weighs each pair
against its rivals (a record describes at most one incident of the other set): its
**confidence** is its odds over one plus the odds of every candidate pair either record is
in (``pair_up``). Pairs are taken best first, each record in at most one, and proposed when
their confidence reaches the threshold.
"""

from __future__ import annotations

import math
import re
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
DEFAULT_THRESHOLD: Final = 0.35

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
    """Log-odds that two candidate records describe the same incident."""

    base: float = -3.8
    per_km: float = -0.072
    per_day: float = -0.36
    all_actors: float = 6.8  # every actor on both sides has a namesake on the other
    per_actor_pair: float = 0.65
    per_fatality_log_ratio: float = -4.1  # |ln((a + 1) / (b + 1))|
    same_type: float = 0.2
    same_sub_type: float = 0.25


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


@lru_cache(maxsize=1 << 16)
def skeleton(name: str) -> str:
    """A name folded over transliteration variants ("Jabbhat el-Ridou" -> "jabat ridu")."""
    text = normalized(name)
    for old, new in _FOLDS:
        text = text.replace(old, new)
    return _DOUBLED.sub(r"\1", text)


@lru_cache(maxsize=1 << 16)
def trigrams(name: str) -> frozenset[str]:
    """The letter trigrams of a name's skeleton, each word padded ("^ja", "jab", ... "du$")."""
    grams: set[str] = set()
    for word in skeleton(name).split():
        padded = f"^{word}$"
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def name_similarity(a: str, b: str) -> float:
    """Dice coefficient of the two names' trigrams: 1 for the same skeleton."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return 2 * len(ta & tb) / (len(ta) + len(tb))


SAME_NAME: Final = 0.6


def matched_actors(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of actors (one from each list) named alike, each actor in at most one pair."""
    pairs = sorted(
        ((name_similarity(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for sim, i, j in pairs:
        if sim < SAME_NAME:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((a[i], b[j]))
    return out


# -- the score --------------------------------------------------------------------------------------


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


def _log_odds(a: Record, b: Record, settings: Settings) -> tuple[float, float, int] | None:
    """(log-odds, km, days apart) of two candidate records; None when they are not candidates."""
    if a.id == b.id or family(a.event_type) != family(b.event_type):
        return None
    gap = days_apart(a, b)
    if gap > settings.days:
        return None
    km = distance(a, b)
    if km is None or km > settings.km:
        return None
    model = settings.model
    z = model.base + model.per_km * km + model.per_day * gap
    if a.event_type == b.event_type:
        z += model.same_type
        if a.sub_event_type and a.sub_event_type == b.sub_event_type:
            z += model.same_sub_type
    if a.actors and b.actors:
        pairs = len(matched_actors(a.actors, b.actors))
        z += model.per_actor_pair * pairs
        if pairs == len(a.actors) == len(b.actors):
            z += model.all_actors
    if a.fatalities is not None and b.fatalities is not None:
        z += model.per_fatality_log_ratio * abs(math.log((a.fatalities + 1) / (b.fatalities + 1)))
    return z, km, gap


def reasons(a: Record, b: Record, km: float, gap: int) -> tuple[str, ...]:
    """What a candidate's score rests on, in words."""
    out = [f"{km:.1f} km apart", "same days" if gap == 0 else f"{gap} days apart"]
    if a.event_type == b.event_type and a.sub_event_type and a.sub_event_type == b.sub_event_type:
        out.append(f"same type: {a.event_type} / {a.sub_event_type}")
    elif a.event_type == b.event_type:
        out.append(f"same type: {a.event_type}")
    else:
        out.append(f"compatible types: {a.event_type} ~ {b.event_type}")
    if a.actors and b.actors:
        pairs = matched_actors(a.actors, b.actors)
        named = "; ".join(x if x == y else f"{x} ~ {y}" for x, y in pairs)
        if not pairs:
            out.append("no actor in common")
        elif len(pairs) == len(a.actors) == len(b.actors):
            out.append(f"the same actors: {named}")
        else:
            out.append(f"some actors in common: {named}")
    else:
        out.append("actors unknown on one side")
    if a.fatalities is not None and b.fatalities is not None:
        out.append(f"fatalities {a.fatalities} and {b.fatalities}")
    if a.place_name and b.place_name:
        if km == 0.0 or a.place_name == b.place_name:
            out.append("same place")
        elif name_similarity(a.place_name, b.place_name) >= SAME_NAME:
            out.append(f"place named alike: {a.place_name} ~ {b.place_name}")
    return tuple(out)


def _probability(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z > -700 else 0.0


def score(a: Record, b: Record, settings: Settings) -> Match | None:
    """The two records' score and its reasons; None when they are not candidates."""
    found = _log_odds(a, b, settings)
    if found is None:
        return None
    z, km, gap = found
    return Match(
        a.id, b.id, round(_probability(z), 3), round(km, 1), gap, reasons(a, b, km, gap), z
    )


def ranked(record: Record, candidates: Iterable[Record], settings: Settings) -> list[Match]:
    """The candidates' matches with ``record``, best first (ties: lower id)."""
    found = [m for c in candidates if (m := score(record, c, settings)) is not None]
    return sorted(found, key=lambda m: (-m.score, m.b))


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

    Candidates are found through a grid of cells at least ``km`` across and one day long, so
    each record is compared only with the records of the cells around it within ``days``.
    Records without coordinates are left out, and pairs linked as one incident already.
    """
    lat_size = max(settings.km, 0.001) / 111.0
    grid: dict[tuple[int, int, int], list[Record]] = {}
    for r in side_b:
        if r.latitude is None or r.longitude is None:
            continue
        row = _row(r.latitude, lat_size)
        column = _column(r.longitude, row, lat_size)
        for day in range(r.date_start.toordinal(), r.date_end.toordinal() + 1):
            grid.setdefault((day, row, column), []).append(r)
    scored: list[tuple[float, Record, Record, float, int]] = []
    odds_a: dict[int, float] = {}
    odds_b: dict[int, float] = {}
    for a in side_a:
        if a.latitude is None or a.longitude is None:
            continue
        row = _row(a.latitude, lat_size)
        cells = [
            (band, c)
            for band in (row - 1, row, row + 1)
            for c in range(
                _column(a.longitude, band, lat_size) - 1, _column(a.longitude, band, lat_size) + 2
            )
        ]
        seen: set[int] = set()
        first = a.date_start.toordinal() - settings.days
        for day in range(first, a.date_end.toordinal() + settings.days + 1):
            for band, c in cells:
                for b in grid.get((day, band, c), ()):
                    if b.id in seen:
                        continue
                    seen.add(b.id)
                    if a.incident_id is not None and a.incident_id == b.incident_id:
                        continue  # linked already
                    found = _log_odds(a, b, settings)
                    if found is None:
                        continue
                    z, km, gap = found
                    odds = math.exp(min(z, 700.0))
                    odds_a[a.id] = odds_a.get(a.id, 0.0) + odds
                    odds_b[b.id] = odds_b.get(b.id, 0.0) + odds
                    scored.append((odds, a, b, km, gap))
    weighed = []
    for odds, a, b, km, gap in scored:
        confidence = odds / (1 + odds_a[a.id] + odds_b[b.id] - odds)
        if confidence >= threshold:
            weighed.append((confidence, a, b, odds, km, gap))
    weighed.sort(key=lambda w: (-w[0], w[1].id, w[2].id))
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for confidence, a, b, odds, km, gap in weighed:
        if a.id in used_a or b.id in used_b:
            continue
        used_a.add(a.id)
        used_b.add(b.id)
        z = math.log(odds) if odds > 0 else -700.0
        out.append(
            Match(
                a.id,
                b.id,
                round(_probability(z), 3),
                round(km, 1),
                gap,
                reasons(a, b, km, gap),
                z,
                round(confidence, 3),
            )
        )
    return out
