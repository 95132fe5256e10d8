"""Place mentions: what a phrase that names a place is, found in the database's gazetteer (its
aliases, as report matching folds them), then the bundled world gazetteer (places in the
article's country first), then by the words around it ("the town of X", "X province"): a new
place, inside the place the text puts it in."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Final

from rapidfuzz import fuzz, process

from app.drafts import gazetteer
from app.drafts.gazetteer import Entry

# How specific a kind of place is: the event's place is the most specific of its sentence.
SPECIFICITY: Final[dict[str, int]] = {
    "site": 7,
    "populated_place": 6,
    "admin3": 5,
    "natural_feature": 4,
    "admin2": 4,
    "region": 3,
    "admin1": 2,
    "country": 1,
}
GEO_PRECISION: Final[dict[str, int]] = {
    "site": 1,
    "populated_place": 1,
    "admin3": 2,
    "natural_feature": 2,
    "admin2": 2,
    "region": 2,
    "admin1": 3,
    "country": 3,
}
# Words around a name that say what kind of place it is.
KIND_WORDS: Final[dict[str, str]] = {
    "town": "populated_place",
    "village": "populated_place",
    "city": "populated_place",
    "neighbourhood": "populated_place",
    "neighborhood": "populated_place",
    "suburb": "populated_place",
    "community": "populated_place",
    "township": "admin3",
    "municipality": "admin2",
    "district": "admin2",
    "county": "admin2",
    "territory": "admin2",
    "province": "admin1",
    "governorate": "admin1",
    "state": "admin1",
    "oblast": "admin1",
    "region": "region",
    "area": "region",
    "countryside": "region",
    "pocket": "region",
    "valley": "natural_feature",
    "mountain": "natural_feature",
    "mountains": "natural_feature",
    "river": "natural_feature",
    "plain": "natural_feature",
    "camp": "site",
    "airport": "site",
    "airbase": "site",
    "base": "site",
    "checkpoint": "site",
    "prison": "site",
    "hospital": "site",
    "castle": "site",
    "market": "site",
}
_NAME_KIND_PREFIX: Final[dict[str, str]] = {
    "jabal": "natural_feature",
    "jebel": "natural_feature",
    "mount": "natural_feature",
    "wadi": "natural_feature",
    "sahl": "natural_feature",
    "lake": "natural_feature",
    "east": "region",
    "west": "region",
    "north": "region",
    "south": "region",
    "eastern": "region",
    "western": "region",
    "northern": "region",
    "southern": "region",
    "upper": "region",
    "lower": "admin1",
}
_DIRECTION: Final = re.compile(
    r"(?:\b\d[\d.,]*\s*(?:km|kilometers|kilometres|miles)\s+)?\b(?:north|south|east|west|northeast|"
    r"northwest|southeast|southwest|north-east|north-west|south-east|south-west)(?:ern)?\s+of\s+(?:the\s+)?$",
    re.IGNORECASE,
)


@dataclass
class PlaceMention:
    start: int
    end: int
    text: str
    name: str
    kind: str
    country: str | None
    latitude: float | None
    longitude: float | None
    confidence: float
    why: str
    source: dict[str, Any]
    identity: tuple[Any, ...]
    db_id: int | None = None
    entry: Entry | None = None
    parent: PlaceMention | None = None
    ancestors: set[tuple[Any, ...]] = field(default_factory=set)
    directional: bool = False
    aliases: list[str] = field(default_factory=list)

    @property
    def specificity(self) -> int:
        return SPECIFICITY.get(self.kind, 3)

    def inside(self, other: PlaceMention) -> bool:
        return other.identity in self.ancestors or (
            self.parent is not None
            and (self.parent.identity == other.identity or self.parent.inside(other))
        )


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def kind_from_context(text: str, start: int, end: int, name: str) -> str | None:
    """The kind of place the words around a name say: "the town of X", "X province"."""
    first = name.split()[0].lower().split("-")[0]
    if first in _NAME_KIND_PREFIX:
        return _NAME_KIND_PREFIX[first]
    before = text[max(0, start - 30) : start].lower()
    after = text[end : end + 20].lower()
    m = re.search(r"\b(\w+)\s+of\s+(?:the\s+)?$", before)
    if m and m.group(1) in KIND_WORDS:
        return KIND_WORDS[m.group(1)]
    m = re.match(r"^\s+(\w+)", after)
    if m and m.group(1) in KIND_WORDS:
        return KIND_WORDS[m.group(1)]
    return None


def directional(text: str, start: int) -> bool:
    """The place is a reference point ("50 kilometers northeast of Damascus"), not where."""
    return bool(_DIRECTION.search(text[max(0, start - 40) : start]))


def rank_entries(
    entries: list[Entry],
    countries: dict[str, float],
    kind_hint: str | None,
    written: str | None = None,
) -> list[Entry]:
    def score(e: Entry) -> tuple[float, int, int, int]:
        in_country = countries.get(e.country, 0.0)
        primary = (
            1 if written is not None and gazetteer.key(e.name) == gazetteer.key(written) else 0
        )
        kind_match = (
            1
            if kind_hint is not None
            and (
                e.kind == kind_hint
                or (kind_hint in ("admin1", "region") and e.kind in ("admin1", "admin2"))
            )
            else 0
        )
        return (in_country, kind_match, primary, e.population)

    return sorted(entries, key=score, reverse=True)


def fuzzy_entry(name: str, country: str, cutoff: float = 88.0) -> tuple[Entry, float] | None:
    """The bundled place of the country whose name is nearest the written one
    ("Hilmand" -> "Helmand", "Lugansk" -> "Luhansk"): a transliteration's spelling."""
    choices = gazetteer.get().names_in(country)
    if not choices:
        return None
    k = gazetteer.key(name)
    if len(k) < 4:
        return None
    hit = process.extractOne(k, [c[0] for c in choices], scorer=fuzz.ratio, score_cutoff=cutoff)
    if hit is None:
        return None
    return choices[hit[2]][1], float(hit[1])
