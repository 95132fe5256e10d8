"""Synthetic records of real incidents with known ground truth, for the reconciler benchmark.

Written and committed before the reconciler existed, and not to be changed to suit it (issue
13: "its generator fixed before any tuning and kept hard"). What it makes, by seed:

- **A world** of 20 conflict regions (a disc of 120 km radius each, in four countries), each
  with 400 towns and 12 armed actors. Every town and actor name has two to four spellings
  (transliterations: al-/el-/a-/Al, ou/u, q/k, ay/ai/ei, doubled letters, a dropped
  article), and each record picks one at random, so the same town or group is written
  differently from record to record and from source to source.
- **Incidents** over three years (2019-2021), hot regions and hot actors Zipf-skewed: the
  state forces of a region take part in about half its incidents. Types are the violent
  ones (Battles, Explosions/Remote violence, Violence against civilians) with their
  sub-types; fatalities are log-normal (many 0-5, a long tail).
- **Records**: each incident is reported by the ACLED-like dataset (80%), the GED-like dataset
  (55%, only incidents with deaths: GED codes fatal events only), and 0-3 of the region's
  outlets. Each record is the incident seen through noise, independently of the others:
  its place is a town within 25 km of the incident (the incident's own town included), so
  two records of one incident can be up to 50 km apart; its date is up to 3 days before or
  after (two records up to 6 days apart); its fatality figure off by up to 50% either way;
  its actors and place in a random spelling. The GED-like dataset codes types as GED does
  (Battles / Armed clash for state-based and non-state violence, an air strike included;
  Violence against civilians / Attack for one-sided); outlets keep the type but pick
  another sub-type of it one time in five.
- **Distractors**: 30% of all records are reports of other incidents, each reported by one
  source only, placed near a real incident — within 25 km and 3 days of it, of the same
  type, with actors drawn from the same region's pool (so they share the hot actors).

Ground truth: a record's ``incident``; two records describe the same incident exactly when
their incidents are equal. ``true_links(records, a, b)`` lists the pairs between two sources.

The same seed and size give the same records, and a larger run starts with the records of a
smaller one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

DEFAULT_SEED = 20261207
REGIONS = 20
REGION_RADIUS_KM = 120.0
TOWNS_PER_REGION = 400
ACTORS_PER_REGION = 12
OUTLETS_PER_REGION = 3
FIRST_DAY = date(2019, 1, 1)
DAYS = 3 * 365
# The noise of a record, each independently (the "jittered up to").
MAX_PLACE_KM = 25.0
MAX_DATE_DAYS = 3
MAX_FIGURE_ERROR = 0.5
DISTRACTOR_SHARE = 0.30
ACLED_SHARE = 0.80
GED_SHARE = 0.55
OUTLETS_PER_INCIDENT = ((0, 1, 2, 3), (35, 35, 20, 10))
OUTLET_SUBTYPE_CHANGE = 0.2
KM_PER_DEGREE = 111.195

ACLED = "acled"
GED = "ucdp-ged"

# Violent event types (ACLED's) with their sub-types, and their shares of incidents.
TYPES: dict[str, tuple[str, ...]] = {
    "Battles": (
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    ),
    "Explosions/Remote violence": (
        "Air/drone strike",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Suicide bomb",
    ),
    "Violence against civilians": ("Attack", "Abduction/forced disappearance"),
}
TYPE_WEIGHTS = (40, 40, 20)

# Four countries the regions lie in: (ISO code, name, centre latitude, longitude, spread).
COUNTRIES = (
    ("SY", "Syria", 35.0, 38.5, 1.4),
    ("IQ", "Iraq", 33.5, 43.5, 1.6),
    ("YE", "Yemen", 15.5, 46.5, 1.3),
    ("ML", "Mali", 15.0, -2.5, 2.0),
)

_SYLLABLE_TEXT = (
    "ba da fa ha ja ka la ma na qa ra sa sha ta wa ya za kha bu du hu ku mu nu ru su zu bi di "
    "hi ki li mi ni ri si ti tou mou dou sou"
)
_SYLLABLES = tuple(_SYLLABLE_TEXT.split(" "))
_ENDINGS = ("", "", "a", "iyah", "an", "ayn", "in", "un", "ein")
_TOWN_PREFIXES = ("", "", "", "Kafr", "Tal", "Ain", "Deir", "Jisr", "Khirbet", "Bir", "Umm", "Beit")
_GROUP_PATTERNS = (
    "Liwa {}",
    "Jaish {}",
    "Harakat {}",
    "Jabhat {}",
    "Kataib {}",
    "Ahrar {}",
    "Saraya {}",
    "Firqat {}",
)
_STATE_PATTERNS = ("{} Armed Forces", "Military Forces of {}", "{} Army")


def _root(rng: random.Random) -> str:
    syllables = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
    return (syllables + rng.choice(_ENDINGS)).capitalize()


# Transliteration variants, as different sources spell one name.
_SWAPS = (
    ("ou", "u"),
    ("u", "ou"),
    ("q", "k"),
    ("ay", "ai"),
    ("ai", "ay"),
    ("ei", "ay"),
    ("iyah", "iya"),
    ("ee", "i"),
    ("sh", "ch"),
    ("kh", "h"),
)
_ARTICLES = ("al-", "el-", "a-", "Al ", "")


def spellings(name: str, rng: random.Random) -> tuple[str, ...]:
    """The name and one to three other spellings of it (a transliteration's variants)."""
    out = [name]
    for _ in range(20):
        if len(out) >= rng.choice((2, 3, 3, 4)):
            break
        variant = name
        if "al-" in variant and rng.random() < 0.7:
            variant = variant.replace("al-", rng.choice(_ARTICLES), 1)
        for _ in range(rng.choice((1, 1, 2))):
            old, new = rng.choice(_SWAPS)
            if old in variant:
                variant = variant.replace(old, new, 1)
        if rng.random() < 0.2:
            # A doubled consonant, as in Raqqa / Raqa.
            letters = [i for i, c in enumerate(variant) if c in "bdklmnrst"]
            if letters:
                i = rng.choice(letters)
                variant = variant[:i] + variant[i] + variant[i:]
        if variant not in out:
            out.append(variant)
    return tuple(out)


@dataclass(frozen=True)
class Town:
    id: int
    spellings: tuple[str, ...]
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Actor:
    id: int
    spellings: tuple[str, ...]
    kind: str


@dataclass
class Region:
    id: int
    country: str
    country_name: str
    latitude: float
    longitude: float
    towns: list[Town] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    actor_weights: list[float] = field(default_factory=list)
    outlets: list[str] = field(default_factory=list)


@dataclass
class World:
    regions: list[Region]
    region_weights: list[float]
    civilians: dict[str, Actor]

    @property
    def outlets(self) -> list[str]:
        return [o for r in self.regions for o in r.outlets]


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _offset(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    dlat = km * math.cos(bearing) / KM_PER_DEGREE
    dlon = km * math.sin(bearing) / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def build_world(seed: int = DEFAULT_SEED) -> World:
    rng = random.Random(f"reconcile-world:{seed}")
    regions: list[Region] = []
    civilians: dict[str, Actor] = {}
    actor_id = 0
    town_id = 0
    for number in range(REGIONS):
        code, name, lat, lon, spread = COUNTRIES[number % len(COUNTRIES)]
        region = Region(
            number,
            code,
            name,
            round(lat + rng.uniform(-spread, spread), 4),
            round(lon + rng.uniform(-spread, spread), 4),
        )
        for _ in range(TOWNS_PER_REGION):
            km = REGION_RADIUS_KM * math.sqrt(rng.random())
            t_lat, t_lon = _offset(
                region.latitude, region.longitude, km, rng.uniform(0, 2 * math.pi)
            )
            prefix = rng.choice(_TOWN_PREFIXES)
            article = "al-" if rng.random() < 0.5 else ""
            town_name = f"{prefix} {article}{_root(rng)}".strip()
            region.towns.append(
                Town(town_id, spellings(town_name, rng), round(t_lat, 5), round(t_lon, 5))
            )
            town_id += 1
        state = rng.choice(_STATE_PATTERNS).format(name)
        region.actors.append(Actor(actor_id, spellings(state, rng), "state_forces"))
        actor_id += 1
        for _ in range(ACTORS_PER_REGION - 1):
            group = rng.choice(_GROUP_PATTERNS).format(f"al-{_root(rng)}")
            region.actors.append(Actor(actor_id, spellings(group, rng), "rebel_group"))
            actor_id += 1
        # The state forces take part in about half the incidents; the groups Zipf-skewed.
        region.actor_weights = [float(ACTORS_PER_REGION)] + [
            1 / rank for rank in range(1, ACTORS_PER_REGION)
        ]
        region.outlets = [
            f"{_root(rng)} {rng.choice(('News', 'Post', 'Media', 'Times'))} {number}"
            for _ in range(OUTLETS_PER_REGION)
        ]
        if code not in civilians:
            civilians[code] = Actor(actor_id, (f"Civilians ({name})",), "civilians")
            actor_id += 1
        regions.append(region)
    weights = [1 / (rank**0.8) for rank in range(1, REGIONS + 1)]
    return World(regions, weights, civilians)


@dataclass(frozen=True)
class RecordActor:
    actor: int  # the Actor's id (truth; a loader must not use it to match)
    name: str  # the spelling this record uses
    kind: str
    side: str


@dataclass(frozen=True)
class Record:
    """One source's record of an incident (or of a distractor)."""

    key: str
    source: str  # ACLED, GED, or an outlet's name
    incident: int
    distractor: bool
    region: int
    country: str
    date: date
    event_type: str
    sub_event_type: str | None
    town: int  # the Town's id (truth)
    place_name: str  # the spelling this record uses
    latitude: float
    longitude: float
    actors: tuple[RecordActor, ...]
    fatalities: int

    @property
    def is_dataset(self) -> bool:
        return self.source in (ACLED, GED)


@dataclass(frozen=True)
class _Incident:
    id: int
    region: Region
    day: date
    event_type: str
    sub_event_type: str
    town: Town
    actors: tuple[tuple[Actor, str], ...]
    fatalities: int


def _weighted(rng: random.Random, items: Sequence[object], cum: Sequence[float]) -> object:
    return rng.choices(items, cum_weights=cum)[0]


class _Maker:
    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(f"reconcile-records:{seed}")
        self.region_cum = list(accumulate(world.region_weights))
        self.type_names = list(TYPES)
        self.type_cum = list(accumulate(TYPE_WEIGHTS))
        self.actor_cum = {r.id: list(accumulate(r.actor_weights)) for r in world.regions}
        self.near: dict[int, list[Town]] = {}
        self.incidents = 0
        self.records = 0
        self.distractors = 0

    def _towns_near(self, region: Region, town: Town) -> list[Town]:
        """The region's towns within MAX_PLACE_KM of ``town`` (itself included)."""
        near = self.near.get(town.id)
        if near is None:
            near = self.near[town.id] = [
                t
                for t in region.towns
                if km_between(town.latitude, town.longitude, t.latitude, t.longitude)
                <= MAX_PLACE_KM
            ]
        return near

    def _actors(self, region: Region, event_type: str) -> tuple[tuple[Actor, str], ...]:
        rng = self.rng
        first = _weighted(rng, region.actors, self.actor_cum[region.id])
        assert isinstance(first, Actor)
        if event_type == "Violence against civilians":
            return ((first, "a"), (self.world.civilians[region.country], "b"))
        while True:
            second = _weighted(rng, region.actors, self.actor_cum[region.id])
            assert isinstance(second, Actor)
            if second.id != first.id:
                break
        if event_type == "Explosions/Remote violence" and rng.random() < 0.3:
            return ((first, "a"),)  # a strike whose target is not named
        return ((first, "a"), (second, "b"))

    def _incident(self, region: Region | None = None, near: _Incident | None = None) -> _Incident:
        rng = self.rng
        self.incidents += 1
        if near is not None:
            region = near.region
            day = near.day + timedelta(days=rng.randint(-MAX_DATE_DAYS, MAX_DATE_DAYS))
            event_type = near.event_type
            town = rng.choice(self._towns_near(region, near.town))
        else:
            if region is None:
                picked = _weighted(rng, self.world.regions, self.region_cum)
                assert isinstance(picked, Region)
                region = picked
            day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
            picked_type = _weighted(rng, self.type_names, self.type_cum)
            assert isinstance(picked_type, str)
            event_type = picked_type
            town = rng.choice(region.towns)
        sub = rng.choice(TYPES[event_type])
        fatalities = max(0, round(math.exp(rng.gauss(0.9, 1.2))) - 1)
        return _Incident(
            self.incidents,
            region,
            day,
            event_type,
            sub,
            town,
            self._actors(region, event_type),
            fatalities,
        )

    def _record(self, incident: _Incident, source: str, *, distractor: bool) -> Record:
        rng = self.rng
        region = incident.region
        town = rng.choice(self._towns_near(region, incident.town))
        day = incident.day + timedelta(days=rng.randint(-MAX_DATE_DAYS, MAX_DATE_DAYS))
        factor = 1 + rng.uniform(-MAX_FIGURE_ERROR, MAX_FIGURE_ERROR)
        fatalities = round(incident.fatalities * factor)
        event_type, sub = incident.event_type, incident.sub_event_type
        if source == GED:
            # GED's three kinds of violence, as app/datasets/ucdp.py maps them.
            if event_type == "Violence against civilians":
                event_type, sub = "Violence against civilians", "Attack"
            else:
                event_type, sub = "Battles", "Armed clash"
            fatalities = max(1, fatalities)
        elif source != ACLED and rng.random() < OUTLET_SUBTYPE_CHANGE:
            sub = rng.choice(TYPES[event_type])
        actors = tuple(
            RecordActor(a.id, rng.choice(a.spellings), a.kind, side) for a, side in incident.actors
        )
        self.records += 1
        self.distractors += distractor
        return Record(
            key=f"r{self.records}",
            source=source,
            incident=incident.id,
            distractor=distractor,
            region=region.id,
            country=region.country,
            date=day,
            event_type=event_type,
            sub_event_type=sub,
            town=town.id,
            place_name=rng.choice(town.spellings),
            latitude=town.latitude,
            longitude=town.longitude,
            actors=actors,
            fatalities=fatalities,
        )

    def _sources(self, incident: _Incident) -> list[str]:
        rng = self.rng
        sources = []
        if rng.random() < ACLED_SHARE:
            sources.append(ACLED)
        if incident.fatalities > 0 and rng.random() < GED_SHARE:
            sources.append(GED)
        values, weights = OUTLETS_PER_INCIDENT
        count = rng.choices(values, weights=weights)[0]
        sources += rng.sample(incident.region.outlets, count)
        return sources

    def _distractor_source(self, region: Region) -> str:
        # As records in general: ACLED, GED, or one of the region's outlets.
        rng = self.rng
        outlets_expected = sum(v * w for v, w in zip(*OUTLETS_PER_INCIDENT, strict=True)) / sum(
            OUTLETS_PER_INCIDENT[1]
        )
        choices = [ACLED, GED, *region.outlets]
        weights = [ACLED_SHARE, GED_SHARE * 0.8] + [outlets_expected / len(region.outlets)] * len(
            region.outlets
        )
        return rng.choices(choices, weights=weights)[0]

    def records_stream(self) -> Iterator[Record]:
        rng = self.rng
        while True:
            incident = self._incident()
            for source in self._sources(incident):
                yield self._record(incident, source, distractor=False)
            # Keep distractors at DISTRACTOR_SHARE of all records written so far.
            while self.distractors < DISTRACTOR_SHARE * (self.records + 1):
                other = self._incident(near=incident)
                source = self._distractor_source(incident.region)
                if source == GED and other.fatalities == 0:
                    source = ACLED
                yield self._record(other, source, distractor=True)
                rng.random()  # keeps the stream's draws independent of the source picked


def generate(n: int, seed: int = DEFAULT_SEED) -> tuple[World, list[Record]]:
    """The world and its first ``n`` records."""
    world = build_world(seed)
    maker = _Maker(world, seed)
    stream = maker.records_stream()
    return world, [next(stream) for _ in range(n)]


def true_links(records: Sequence[Record], a: str, b: str) -> set[tuple[str, str]]:
    """The pairs (record of ``a``, record of ``b``) that describe the same incident."""
    by_incident: dict[int, list[Record]] = {}
    for r in records:
        if r.source == b:
            by_incident.setdefault(r.incident, []).append(r)
    return {
        (r.key, other.key)
        for r in records
        if r.source == a
        for other in by_incident.get(r.incident, ())
    }
