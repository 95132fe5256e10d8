"""Deterministic synthetic reports in the POST /v1/reports format (app/reports/schemas.py).

A seeded world — four countries with admin1 divisions and generated towns, actors with kinds,
aliases and affiliations, outlets — and a stream of reports drawn from it the way real
coverage falls: dates skewed towards recent years, a few hot spots and groups carrying most
events, 1–3 events and 1–3 quotes per report, every quote an exact substring of the body.

The same seed gives the same reports, byte for byte, and a longer run starts with the reports
of a shorter one, so figures from different ``--reports`` counts describe the same data.
"""

from __future__ import annotations

import calendar
import importlib.util
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from app.core.normalize import normalize_name

DEFAULT_SEED = 20180418
YEARS = tuple(range(2015, 2025))
# Coverage grows year on year in real conflict datasets; later years carry more events.
YEAR_WEIGHTS = (1, 1, 2, 2, 3, 3, 4, 5, 6, 8)
# A later report refers back to an event of an earlier one (a second article on the same
# event). The gap keeps the earlier report well ahead of it in the upload order.
REFERENCE_RATE = 0.05
REFERENCE_MIN_GAP = 8
REFERENCE_MAX_GAP = 200

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


@cache
def event_types() -> dict[str, tuple[str, ...]]:
    """ACLED event type -> its sub-types, read from the migration that seeds the database.

    Reading the seed itself (rather than a copy) keeps every generated pair valid for the
    server; the migration only defines data at import time, so loading it runs nothing.
    """
    (path,) = sorted(MIGRATIONS.glob("*initial_schema.py"))
    spec = importlib.util.spec_from_file_location("_conflictdb_initial_schema", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: tuple(subs) for name, (_, subs) in module.EVENT_TYPES.items()}


# -- the world ---------------------------------------------------------------------------------


# ACLED-like shares of event types across a dataset.
TYPE_WEIGHTS = {
    "Battles": 30,
    "Explosions/Remote violence": 30,
    "Violence against civilians": 15,
    "Protests": 12,
    "Riots": 5,
    "Strategic developments": 8,
}


@dataclass(frozen=True)
class Place:
    name: str
    kind: str
    country: str
    latitude: float
    longitude: float
    aliases: tuple[str, ...] = ()
    parent: Place | None = None

    def describe(self) -> dict[str, Any]:
        """The place as an ingestion script sends it: by name, with its chain of parents."""
        return {
            "name": self.name,
            "kind": self.kind,
            "country": self.country,
            "parent": self.parent.describe() if self.parent else None,
            "latitude": round(self.latitude, 4),
            "longitude": round(self.longitude, 4),
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class Actor:
    name: str
    kind: str
    country: str
    aliases: tuple[str, ...] = ()
    member_of: Actor | None = None

    def describe(self) -> dict[str, Any]:
        affiliations = (
            [{"actor": self.member_of.describe(), "relation": "member_of"}]
            if self.member_of
            else []
        )
        return {
            "name": self.name,
            "kind": self.kind,
            "country": self.country,
            "aliases": list(self.aliases),
            "affiliations": affiliations,
        }


@dataclass(frozen=True)
class Outlet:
    name: str
    url: str
    country: str | None
    language: str
    kind: str

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "country": self.country,
            "language": self.language,
            "kind": self.kind,
        }


@dataclass
class Country:
    code: str
    iso3: str
    place: Place
    dateline: str
    style: str
    admin1: list[Place]
    towns: dict[str, list[Place]]
    state: list[Actor]
    armed: list[Actor]
    external: list[Actor]
    protesters: Actor
    rioters: Actor
    civilians: Actor
    outlets: list[Outlet]


@dataclass
class World:
    countries: list[Country]
    country_weights: list[float]
    international_outlets: list[Outlet]

    def cast(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every actor and every town (with its parents) as reports describe them."""
        actors: dict[str, dict[str, Any]] = {}
        places: list[dict[str, Any]] = []
        for c in self.countries:
            for actor in (*c.state, *c.armed, *c.external, c.protesters, c.rioters, c.civilians):
                actors.setdefault(f"{actor.country}:{actor.name}", actor.describe())
            places.extend(town.describe() for towns in c.towns.values() for town in towns)
        return list(actors.values()), places


# code, ISO3, name, (lat, lon), weight, dateline, name style,
# admin1: (name, lat, lon, aliases), state forces: (name, aliases)
_COUNTRIES: list[tuple[Any, ...]] = [
    (
        "SY",
        "SYR",
        "Syria",
        (35.0, 38.5),
        40,
        "Amman",
        "levant",
        [
            ("Aleppo", 36.2, 37.15, ("Halab",)),
            ("Idlib", 35.93, 36.63, ("Idleb",)),
            ("Hama", 35.13, 36.75, ()),
            ("Homs", 34.73, 36.72, ()),
            ("Rif Dimashq", 33.52, 36.95, ("Rural Damascus",)),
            ("Daraa", 32.62, 36.1, ("Deraa",)),
            ("Deir ez-Zor", 35.33, 40.14, ("Deir el-Zour",)),
            ("Raqqa", 35.95, 39.01, ("Ar-Raqqah",)),
            ("Al-Hasakah", 36.5, 40.75, ("Hasakeh",)),
        ],
        [
            ("Military Forces of Syria", ("Syrian army", "Syrian Arab Army")),
            ("Police Forces of Syria", ("Syrian police",)),
        ],
    ),
    (
        "YE",
        "YEM",
        "Yemen",
        (15.5, 47.5),
        30,
        "Aden",
        "levant",
        [
            ("Sanaa", 15.35, 44.2, ("Sana’a",)),
            ("Taiz", 13.58, 44.02, ("Ta’izz",)),
            ("Al Hudaydah", 14.8, 42.95, ("Hodeidah",)),
            ("Marib", 15.46, 45.33, ("Ma’rib",)),
            ("Aden Governorate", 12.8, 45.03, ()),
            ("Al Bayda", 14.17, 45.57, ()),
            ("Saada", 16.94, 43.76, ("Sa’dah",)),
            ("Hajjah", 15.69, 43.6, ()),
        ],
        [
            ("Military Forces of Yemen", ("Yemeni army", "government forces")),
            ("Police Forces of Yemen", ()),
        ],
    ),
    (
        "SD",
        "SDN",
        "Sudan",
        (15.5, 30.0),
        20,
        "Khartoum",
        "levant",
        [
            ("Khartoum State", 15.55, 32.53, ()),
            ("North Darfur", 15.77, 24.9, ()),
            ("South Darfur", 11.75, 24.9, ()),
            ("West Darfur", 13.0, 22.47, ()),
            ("Central Darfur", 12.9, 23.47, ()),
            ("North Kordofan", 14.0, 29.8, ()),
            ("South Kordofan", 11.2, 29.42, ()),
            ("Blue Nile", 11.3, 34.1, ()),
            ("Gezira", 14.4, 33.5, ("Al Jazirah",)),
        ],
        [
            ("Military Forces of Sudan", ("Sudanese Armed Forces", "SAF")),
            ("Police Forces of Sudan", ()),
        ],
    ),
    (
        "ML",
        "MLI",
        "Mali",
        (17.0, -4.0),
        10,
        "Bamako",
        "sahel",
        [
            ("Gao", 16.27, -0.04, ()),
            ("Mopti", 14.49, -4.18, ()),
            ("Tombouctou", 16.77, -3.0, ("Timbuktu",)),
            ("Kidal", 18.44, 1.41, ()),
            ("Ségou", 13.43, -6.26, ("Segou",)),
            ("Ménaka", 15.92, 2.4, ("Menaka",)),
            ("Koulikoro", 12.86, -7.56, ()),
        ],
        [
            ("Military Forces of Mali", ("FAMa", "Malian army")),
            ("Police Forces of Mali", ()),
        ],
    ),
]

_EXTERNAL: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "SY": [
        ("Military Forces of Russia", "RU", ("Russian forces",)),
        ("Military Forces of Turkey", "TR", ()),
    ],
    "YE": [
        ("Military Forces of Saudi Arabia", "SA", ("Saudi-led coalition",)),
        ("Military Forces of the United Arab Emirates", "AE", ("Emirati forces",)),
    ],
    "SD": [],
    "ML": [("Wagner Group", "RU", ("Africa Corps",)), ("Military Forces of France", "FR", ())],
}

_OUTLETS = {
    "SY": [
        ("Syria Direct", "https://syriadirect.org", "national"),
        ("Enab Baladi", "https://english.enabbaladi.net", "local"),
    ],
    "YE": [
        ("Yemen Monitor", "https://www.yemenmonitor.example", "national"),
        ("Aden al-Ghad", "https://adengad.example", "local"),
    ],
    "SD": [
        ("Radio Dabanga", "https://www.dabangasudan.org", "local"),
        ("Sudan Tribune", "https://sudantribune.net", "national"),
    ],
    "ML": [
        ("Studio Tamani", "https://www.studiotamani.org", "local"),
        ("Le Journal du Mali", "https://www.journaldumali.com", "national"),
    ],
}
_INTERNATIONAL_OUTLETS = [
    Outlet("Agence France-Presse", "https://www.afp.com", "FR", "en", "agency"),
    Outlet("Reuters", "https://www.reuters.com", "GB", "en", "agency"),
    Outlet("Al Jazeera English", "https://www.aljazeera.com", "QA", "en", "international"),
    Outlet("The New Humanitarian", "https://www.thenewhumanitarian.org", "CH", "en", "ngo"),
]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SYLLABLES = {
    "levant": _words(
        "ba da fa ha ja ka la ma na qa ra sa sha ta wa ya za kha bu du hu ku mu nu ru su zu "
        "bi di hi ki li mi ni ri si ti"
    ),
    "sahel": _words(
        "ba bou da di dou fa ga go ka ko kou ma mo na ni sa se so ta ti to tin za zou ké mé "
        "dja sso ra"
    ),
}
_ENDINGS = {"levant": ("", "", "a", "iyah", "an", "in", "un"), "sahel": ("", "", "ra", "bé", "ni")}
_TOWN_PREFIXES = {
    "levant": ("", "", "", "Kafr", "Tal", "Ain", "Deir", "Jisr", "Khirbet", "Bir", "Umm", "Beit"),
    "sahel": ("", "", "", "", "Tin", "In", "Bourem"),
}
_GROUP_PATTERNS = {
    "levant": ("Liwa {}", "Jaish {}", "Harakat {}", "Jabhat {}", "Kataib {}", "Ahrar {}"),
    "sahel": (
        "Katiba {}",
        "Front de libération du {}",
        "Groupe d’autodéfense de {}",
        "Mouvement pour le {}",
    ),
}
_FIRST_NAMES = {
    "levant": _words(
        "Omar Ahmad Mohammed Abdullah Khaled Yusuf Hassan Ali Fatima Aisha Layla Maryam "
        "Ibrahim Mustafa Nour Samir Rania Waleed Marwan Suleiman"
    ),
    "sahel": _words(
        "Moussa Amadou Fatoumata Aminata Ibrahim Oumar Mariam Boubacar Aïssata Hamadoun "
        "Salif Kadidia"
    ),
}
_SAHEL_SURNAMES = _words("Traoré Diallo Maïga Touré Cissé Coulibaly Keïta Dicko Sangaré Guindo")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ZIPF = 1.1


class _Names:
    """Hands out names whose normalised forms are unused, so every match is unambiguous."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: dict[str, set[str]] = {}

    def claim(self, scope: str, *names: str) -> bool:
        norms = [normalize_name(n) for n in names]
        taken = self.taken.setdefault(scope, set())
        if any(not n or n in taken for n in norms):
            return False
        taken.update(norms)
        return True

    def root(self, style: str) -> str:
        syllables = "".join(
            self.rng.choice(_SYLLABLES[style]) for _ in range(self.rng.choice((2, 2, 3)))
        )
        return (syllables + self.rng.choice(_ENDINGS[style])).capitalize()

    def town(self, style: str, scope: str) -> tuple[str, tuple[str, ...]]:
        while True:
            root = self.root(style)
            prefix = self.rng.choice(_TOWN_PREFIXES[style])
            article = "al-" if style == "levant" and prefix and self.rng.random() < 0.4 else ""
            name = f"{prefix} {article}{root}".strip()
            aliases: tuple[str, ...] = ()
            if self.rng.random() < 0.3:
                # Another transliteration, as different outlets spell it.
                variant = name.replace("q", "k").replace("ou", "u").replace("al-", "el-")
                if normalize_name(variant) != normalize_name(name):
                    aliases = (variant,)
            if self.claim(scope, name, *aliases):
                return name, aliases

    def group(self, style: str, scope: str) -> tuple[str, tuple[str, ...]]:
        while True:
            pattern = self.rng.choice(_GROUP_PATTERNS[style])
            root = self.root(style)
            name = pattern.format(f"al-{root}" if style == "levant" else root)
            aliases: tuple[str, ...] = ()
            if self.rng.random() < 0.5:
                aliases = (pattern.format(root) + " Brigade",)
            if self.claim(scope, name, *aliases):
                return name, aliases

    def person(self, style: str) -> str:
        first = self.rng.choice(_FIRST_NAMES[style])
        if style == "sahel":
            return f"{first} {self.rng.choice(_SAHEL_SURNAMES)}"
        # A nisba surname, as in al-Qalamouni ("of Qalamoun").
        return f"{first} al-{self.root(style).rstrip('aeiou')}i"


def _zipf_weights(n: int) -> list[float]:
    return [1 / (rank**_ZIPF) for rank in range(1, n + 1)]


def build_world(seed: int = DEFAULT_SEED) -> World:
    """The fixed cast every report draws from: ~500 places, ~80 actors, 12 outlets."""
    rng = random.Random(f"world:{seed}")
    names = _Names(rng)
    coalitions: dict[str, Actor] = {}
    externals: dict[str, Actor] = {}
    countries: list[Country] = []
    weights: list[float] = []
    for code, iso3, name, (
        lat,
        lon,
    ), weight, dateline, style, admin1_rows, state_rows in _COUNTRIES:
        scope = f"place:{code}"
        names.claim(scope, name)
        country_place = Place(name, "country", code, lat, lon)
        admin1: list[Place] = []
        towns: dict[str, list[Place]] = {}
        for a_name, a_lat, a_lon, a_aliases in admin1_rows:
            if not names.claim(scope, a_name, *a_aliases):
                raise AssertionError(f"admin1 names collide: {a_name}")
            division = Place(a_name, "admin1", code, a_lat, a_lon, a_aliases, country_place)
            admin1.append(division)
            towns[a_name] = []
            for _ in range(rng.randint(8, 24)):
                t_name, t_aliases = names.town(style, scope)
                towns[a_name].append(
                    Place(
                        t_name,
                        "populated_place",
                        code,
                        a_lat + rng.gauss(0, 0.3),
                        a_lon + rng.gauss(0, 0.3),
                        t_aliases,
                        division,
                    )
                )
        # Hot spots: shuffle which divisions and towns lead the skew, then keep the order.
        rng.shuffle(admin1)
        for town_list in towns.values():
            rng.shuffle(town_list)

        actor_scope = f"actor:{code}"
        state = []
        for s_name, s_aliases in state_rows:
            names.claim(actor_scope, s_name, *s_aliases)
            state.append(Actor(s_name, "state_forces", code, s_aliases))
        coalition_name = f"Unified Command of {admin1[0].name}"
        names.claim(actor_scope, coalition_name, "Unified Command")
        coalitions[code] = Actor(coalition_name, "coalition", code, ("Unified Command",))
        armed: list[Actor] = []
        for i in range(rng.randint(6, 10)):
            g_name, g_aliases = names.group(style, actor_scope)
            member_of = coalitions[code] if i % 3 == 0 else None
            armed.append(Actor(g_name, "rebel_group", code, g_aliases, member_of))
        for kind, label in (
            ("political_militia", "Popular Committees"),
            ("identity_militia", "Tribal Militia"),
        ):
            for _ in range(2):
                while True:
                    m_name = f"{names.root(style)} {label}"
                    if names.claim(actor_scope, m_name):
                        break
                armed.append(Actor(m_name, kind, code, ()))
        rng.shuffle(armed)
        external = []
        for e_name, e_country, e_aliases in _EXTERNAL[code]:
            if e_name not in externals:
                names.claim(f"actor:{e_country}", e_name, *e_aliases)
                externals[e_name] = Actor(e_name, "external_forces", e_country, e_aliases)
            external.append(externals[e_name])
        group_names = (f"Protesters ({name})", f"Rioters ({name})", f"Civilians ({name})")
        names.claim(actor_scope, *group_names)
        countries.append(
            Country(
                code=code,
                iso3=iso3,
                place=country_place,
                dateline=dateline,
                style=style,
                admin1=admin1,
                towns=towns,
                state=state,
                armed=armed,
                external=external,
                protesters=Actor(group_names[0], "protesters", code),
                rioters=Actor(group_names[1], "rioters", code),
                civilians=Actor(group_names[2], "civilians", code),
                outlets=[
                    Outlet(o_name, o_url, code, "en", o_kind)
                    for o_name, o_url, o_kind in _OUTLETS[code]
                ],
            )
        )
        weights.append(weight)
    return World(countries, weights, list(_INTERNATIONAL_OUTLETS))


# -- reports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticReport:
    """One POST /v1/reports body; ``depends_on`` lists earlier reports whose events it cites."""

    index: int
    payload: dict[str, Any]
    depends_on: tuple[int, ...] = ()


@dataclass
class _Body:
    """An article body under construction, tracking code-point offsets of quoted spans."""

    parts: list[str] = field(default_factory=list)
    length: int = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def add_quoted(self, before: str, quoted: str, after: str) -> tuple[int, int]:
        start = self.length + len(before)
        self.add(before + quoted + after)
        return start, start + len(quoted)

    def paragraph(self) -> None:
        if self.parts:
            self.add("\n\n")

    def text(self) -> str:
        return "".join(self.parts)


_LEADS: dict[str, tuple[str, ...]] = {
    "Armed clash": (
        "{a} and {b} clashed near {place} in {admin1} on {day}.",
        "Fighting broke out between {a} and {b} around {place} on {day}.",
        "{a} attacked positions held by {b} on the outskirts of {place}, {admin1}, on {day}.",
    ),
    "Government regains territory": (
        "{a} retook {place} from {b} on {day} after several days of clashes.",
    ),
    "Non-state actor overtakes territory": ("{a} seized {place} from {b} on {day}.",),
    "Air/drone strike": (
        "Warplanes of the {a} struck {place} in {admin1} on {day}.",
        "A drone operated by the {a} hit a vehicle near {place} on {day}.",
    ),
    "Shelling/artillery/missile attack": (
        "{a} shelled {place} with artillery and rockets on {day}.",
    ),
    "Remote explosive/landmine/IED": (
        "An improvised explosive device went off near {place}, {admin1}, on {day}.",
    ),
    "Suicide bomb": ("A suicide bomber blew himself up at a checkpoint in {place} on {day}.",),
    "Grenade": ("A grenade was thrown at a crowded market in {place} on {day}.",),
    "Chemical weapon": ("Residents of {place} reported a suspected chemical attack on {day}.",),
    "Attack": ("Gunmen from {a} attacked villagers in {place} on {day}.",),
    "Abduction/forced disappearance": ("{a} abducted residents of {place} on {day}.",),
    "Sexual violence": ("Women in {place} reported assaults by members of {a} on {day}.",),
    "Peaceful protest": (
        "Hundreds of people demonstrated in {place}, {admin1}, on {day} against rising prices.",
    ),
    "Protest with intervention": ("{b} dispersed a protest in {place} on {day}.",),
    "Excessive force against protesters": ("{b} opened fire on protesters in {place} on {day}.",),
    "Violent demonstration": ("Rioters set fire to government offices in {place} on {day}.",),
    "Mob violence": ("A mob attacked a police post in {place} on {day}.",),
    "Agreement": ("{a} and local elders agreed a ceasefire covering {place} on {day}.",),
    "Arrests": ("{a} arrested a local official in {place} on {day}.",),
}
_LEAD_FALLBACK = ("{a} was reported active around {place}, {admin1}, on {day}.",)
_WEAPONS = ("barrel bombs", "missiles", "rockets", "mortar shells", "drone strikes")
_SPEAKER_QUOTES = (
    "Nobody can reach the wounded in {place}",
    "The situation in {place} is very difficult, people are leaving",
    "The fighting around {place} has not stopped since the morning",
    "We have before us only displacement or war",
    "Families are sleeping in the open outside {place}",
)
_COUNT_QUOTES = (
    ("We counted {k} {weapon} falling on {place} since dawn", None),
    ("More than {k} {weapon} hit the area in a few hours", "over"),
)
_ROLES = (
    "a media activist from {place}",
    "a local journalist",
    "a resident of {place}",
    "a doctor at a field hospital in {admin1}",
)
_BACKGROUND = (
    "The area has changed hands several times since {year0}.",
    "Humanitarian organisations say access to {admin1} remains restricted.",
    "The {state} did not respond to a request for comment.",
    "Local councils in {admin1} have repeatedly called for the protection of civilians.",
    "Prices of bread and fuel in {place} have tripled over the past year, residents say.",
    "Roads between {place} and the provincial capital have been closed for weeks.",
    "Negotiations between the parties stalled last month over the exchange of detainees.",
    "Aid workers warn that a further escalation would displace thousands more families.",
    "Mobile networks in the area were cut for most of the day, delaying reports.",
    "{armed} has been active in {admin1} since {year0}, according to local monitors.",
)


class _ReportMaker:
    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(f"reports:{seed}")
        self.names = _Names(self.rng)
        self.types = event_types()
        self.type_weights = dict(TYPE_WEIGHTS)
        self.external_ids: list[tuple[int, str]] = []

    def pick(self, items: Sequence[Any]) -> Any:
        return self.rng.choices(items, weights=_zipf_weights(len(items)))[0]

    def report(self, index: int) -> SyntheticReport:
        rng = self.rng
        country: Country = rng.choices(self.world.countries, self.world.country_weights)[0]
        admin1: Place = self.pick(country.admin1)
        year = rng.choices(YEARS, YEAR_WEIGHTS)[0]
        base = date(year, 1, 1) + timedelta(days=rng.randrange(365 + calendar.isleap(year)))

        body = _Body()
        quotes: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        n_events = rng.choices((1, 2, 3), (55, 30, 15))[0]
        # At least one quote per new event, so every event carries its evidence.
        n_quotes = rng.randint(n_events, 3)
        outlet = (
            rng.choice(country.outlets)
            if rng.random() < 0.6
            else rng.choice(self.world.international_outlets)
        )
        latest = base
        titles: list[str] = []
        for k in range(n_events):
            event, lead, end = self._event(index, k, country, admin1, base)
            latest = max(latest, end)
            titles.append(lead)
            body.paragraph()
            if k == 0:
                body.add(f"{country.dateline.upper()}: ")
            own_quotes = [j for j in range(n_quotes) if j % n_events == k]
            lead_span = body.length, body.length + len(lead)
            body.add(lead)
            killed = event["fatalities"]["best"]
            if killed:
                body.add(
                    " Local sources said one person was killed."
                    if killed == 1
                    else f" Local sources said {killed} people were killed."
                )
            for q in own_quotes:
                quotes.append(self._quote(q, k, body, outlet, country, event, lead, lead_span))
                event["quotes"].append(quotes[-1]["key"])
            events.append(event)
        quotes.sort(key=lambda q: q["start"])  # the order they appear in, as a reader lists them

        depends_on: tuple[int, ...] = ()
        earlier = [
            (i, ext)
            for i, ext in self.external_ids
            if REFERENCE_MIN_GAP <= index - i <= REFERENCE_MAX_GAP
        ]
        if n_events < 3 and earlier and rng.random() < REFERENCE_RATE:
            cited, external_id = rng.choice(earlier)
            events.append(
                {"key": "earlier", "external_id": external_id, "quotes": [quotes[0]["key"]]}
            )
            depends_on = (cited,)
        self.external_ids.extend(
            (index, e["external_id"]) for e in events if e.get("event_type") and e["external_id"]
        )

        for _ in range(rng.randint(2, 6)):
            body.paragraph()
            body.add(
                " ".join(
                    rng.choice(_BACKGROUND).format(
                        year0=rng.choice(range(2011, year + 1)),
                        admin1=admin1.name,
                        place=rng.choice(country.towns[admin1.name]).name,
                        state=country.state[0].name,
                        armed=self.pick(country.armed).name,
                    )
                    for _ in range(rng.randint(1, 3))
                )
            )
        byline = self.names.person(country.style) if rng.random() < 0.5 else None
        if byline and rng.random() < 0.3:
            body.paragraph()
            body.add(f"With additional reporting by {self.names.person(country.style)}.")

        published = latest + timedelta(days=rng.randint(0, 2))
        title = titles[0].rstrip(".")
        slug = "-".join(normalize_name(title).split()[:8])
        payload = {
            "article": {
                "url": f"{outlet.url}/{published:%Y/%m}/{slug}-{index}",
                "title": title,
                "published_date": published.isoformat(),
                "outlet": outlet.describe(),
                "dateline": country.dateline,
                "byline": byline,
                "language": "en",
                "body": body.text(),
            },
            "quotes": quotes,
            "events": events,
        }
        return SyntheticReport(index, payload, depends_on)

    def _event(
        self, index: int, k: int, country: Country, admin1: Place, base: date
    ) -> tuple[dict[str, Any], str, date]:
        rng = self.rng
        event_type = rng.choices(list(self.type_weights), list(self.type_weights.values()))[0]
        subs = self.types[event_type]
        # The first sub-type of each ACLED type is its commonest.
        sub_type = rng.choices(subs, [3] + [1] * (len(subs) - 1))[0]
        a, b, b_role = self._actors(event_type, sub_type, country)

        start = base - timedelta(days=rng.choice((0, 0, 0, 1, 2, 3)))
        precision = rng.choices(("day", "week", "month"), (85, 10, 5))[0]
        if precision == "month":
            start = start.replace(day=1)
            end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        elif precision == "week":
            end = start + timedelta(days=6)
        else:
            end = start + timedelta(days=rng.choice((0, 0, 0, 1)))

        town: Place = self.pick(country.towns[admin1.name])
        where = rng.random()
        place, geo_precision = (
            (town, 1) if where < 0.7 else (town, 2) if where < 0.85 else (admin1, 3)
        )
        lead = rng.choice(_LEADS.get(sub_type, _LEAD_FALLBACK)).format(
            a=a.name,
            b=b.name if b else "unidentified gunmen",
            place=place.name,
            admin1=admin1.name,
            day=_WEEKDAYS[start.weekday()],
        )
        actors = [{"actor": a.describe(), "side": "a", "role": "primary"}]
        if b is not None:
            actors.append({"actor": b.describe(), "side": "b", "role": b_role})
        return (
            {
                "key": f"e{k}",
                "external_id": f"{country.iso3}{index * 10 + k}" if rng.random() < 0.3 else None,
                "event_type": event_type,
                "sub_event_type": sub_type,
                "date_start": start.isoformat(),
                "date_end": end.isoformat(),
                "date_precision": precision,
                "place": place.describe(),
                "geo_precision": geo_precision,
                "summary": lead,
                "fatalities": self._fatalities(event_type, sub_type),
                "actors": actors,
                "quotes": [],
                "measures": [],
            },
            lead,
            end,
        )

    def _actors(
        self, event_type: str, sub_type: str, country: Country
    ) -> tuple[Actor, Actor | None, str]:
        """Actor 1, actor 2 (or none) and actor 2's role, as ACLED pairs them by event type."""
        rng = self.rng
        state = country.state[0]
        forces = [state, *country.external]
        armed = country.armed
        if event_type == "Battles":
            if rng.random() < 0.6:
                return rng.choice(forces), self.pick(armed), "primary"
            a = self.pick(armed)
            return a, rng.choice([x for x in armed if x is not a]), "primary"
        if event_type == "Explosions/Remote violence":
            a = rng.choice(forces) if rng.random() < 0.7 else self.pick(armed)
            roll = rng.random()
            if roll < 0.4:
                return a, country.civilians, "target"
            if roll < 0.8 and a in forces:
                return a, self.pick(armed), "primary"
            return a, None, "primary"
        if event_type == "Violence against civilians":
            return rng.choice([*forces, *armed[:4]]), country.civilians, "target"
        if event_type == "Protests":
            if sub_type == "Peaceful protest":
                return country.protesters, None, "primary"
            return country.protesters, country.state[-1], "primary"
        if event_type == "Riots":
            police = country.state[-1] if rng.random() < 0.5 else None
            return country.rioters, police, "primary"
        return self.pick([*forces, *armed]), None, "primary"

    def _fatalities(self, event_type: str, sub_type: str) -> dict[str, int | None]:
        rng = self.rng
        if event_type in ("Protests", "Strategic developments") and (
            sub_type != "Excessive force against protesters"
        ):
            return {"low": None, "best": 0, "high": None}
        if rng.random() < 0.2:
            return {"low": None, "best": None, "high": None}  # not reported
        # Heavy-tailed: most events kill few, a handful kill many.
        best = min(int(rng.paretovariate(1.3)) - 1, 800)
        if event_type == "Riots":
            best = min(best, 5)
        if best and rng.random() < 0.25:
            return {"low": best, "best": best, "high": best + rng.randint(1, best + 5)}
        return {"low": None, "best": best, "high": None}

    def _quote(
        self,
        q: int,
        k: int,
        body: _Body,
        outlet: Outlet,
        country: Country,
        event: dict[str, Any],
        lead: str,
        lead_span: tuple[int, int],
    ) -> dict[str, Any]:
        rng = self.rng
        key = f"q{q}"
        place = event["place"]["name"]
        admin1 = event["place"]["parent"]["name"] if event["place"]["parent"] else place
        if q == 0 and k == 0 and rng.random() < 0.5:
            # The article's own words: the lead sentence, spoken by the outlet.
            start, end = lead_span
            return {
                "key": key,
                "text": lead,
                "start": start,
                "end": end,
                "speaker": {"name": outlet.name, "role": "narration"},
                "speaks_for": None,
            }
        speaks_for = None
        armed = [
            a["actor"]
            for a in event["actors"]
            if a["actor"]["kind"] in ("rebel_group", "political_militia", "identity_militia")
        ]
        if armed and rng.random() < 0.4:
            speaks_for = armed[0]
            role = rng.choice(("spokesperson for", "military commander with"))
            role = f"{role} {speaks_for['name']}"
        else:
            role = rng.choice(_ROLES).format(place=place, admin1=admin1)
        if event["event_type"] == "Explosions/Remote violence" and rng.random() < 0.6:
            template, qualifier = rng.choice(_COUNT_QUOTES)
            count, weapon = rng.randint(3, 150), rng.choice(_WEAPONS)
            text = template.format(k=count, weapon=weapon, place=place)
            event["measures"].append(
                {"kind": weapon, "value": count, "qualifier": qualifier, "quote": key}
            )
        else:
            text = rng.choice(_SPEAKER_QUOTES).format(place=place)
        speaker = self.names.person(country.style)
        body.paragraph()
        if rng.random() < 0.5:
            start, end = body.add_quoted("“", text, f",” said {speaker}, {role}.")
        else:
            start, end = body.add_quoted(f"{speaker}, {role}, told {outlet.name}: “", text, ".”")
        return {
            "key": key,
            "text": text,
            "start": start,
            "end": end,
            "speaker": {"name": speaker, "role": role},
            "speaks_for": speaks_for,
        }


def generate(n: int, seed: int = DEFAULT_SEED) -> Iterator[SyntheticReport]:
    """The first ``n`` reports of the stream for ``seed``."""
    maker = _ReportMaker(build_world(seed), seed)
    for index in range(n):
        yield maker.report(index)
