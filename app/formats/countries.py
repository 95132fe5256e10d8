"""Country names and numeric codes as UCDP GED and ACLED write them -> ISO 3166-1 alpha-2.

ISO's own names and codes come from pycountry (the iso-codes database). The datasets' own
spellings are listed here explicitly: UCDP names states as Gleditsch & Ward do, with the
historical name in brackets ("Russia (Soviet Union)", "DR Congo (Zaire)"), and both datasets use
common English names ISO does not ("Ivory Coast", "Turkey", "Kosovo"). A historical state maps
to the ISO code of the state UCDP treats as its continuation (the Soviet Union -> RU,
Yugoslavia -> RS, North Yemen -> YE). Kosovo has no ISO code: XK is the user-assigned code the
EU and IMF use. An unknown name maps to None and the importer rejects the row with the name.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Final

import pycountry

# UCDP GED's country names (``country`` column, and the X of "Government of X") that ISO does
# not spell the same way, with the state UCDP continues them as. Every GED name seen in GED
# releases 1989-2022 that is not an ISO name is here; the rest ("Syria", "Afghanistan") match.
GED_NAMES: Final[dict[str, str]] = {
    "Bosnia-Herzegovina": "BA",
    "Burkina Faso (Upper Volta)": "BF",
    "Belarus (Byelorussia)": "BY",
    "Cambodia (Kampuchea)": "KH",
    "Congo": "CG",
    "DR Congo (Zaire)": "CD",
    "East Timor": "TL",
    "German Democratic Republic": "DE",
    "German Federal Republic": "DE",
    "Germany (Prussia)": "DE",
    "Iran (Persia)": "IR",
    "Italy (Sardinia)": "IT",
    "Italy/Sardinia": "IT",
    "Ivory Coast": "CI",
    "Kingdom of eSwatini (Swaziland)": "SZ",
    "Kosovo": "XK",
    "Kyrgyz Republic": "KG",
    "Macedonia, FYR": "MK",
    "Madagascar (Malagasy)": "MG",
    "Myanmar (Burma)": "MM",
    "Rumania": "RO",
    "Russia (Soviet Union)": "RU",
    "Serbia (Yugoslavia)": "RS",
    "South Yemen": "YE",
    "Sri Lanka (Ceylon)": "LK",
    "Surinam": "SR",
    "Tanzania/Tanganyika": "TZ",
    "Timor-Leste (East Timor)": "TL",
    "Turkey": "TR",
    "Turkey (Ottoman Empire)": "TR",
    "United States of America": "US",
    "Vietnam (North Vietnam)": "VN",
    "Yemen (North Yemen)": "YE",
    "Yemen (South Yemen)": "YE",
    "Zimbabwe (Rhodesia)": "ZW",
}

# ACLED's country names (``country`` column) that ISO spells differently. ACLED files also carry
# the ISO numeric code (``iso``), which is used first; these are for rows where it is 0 or empty.
ACLED_NAMES: Final[dict[str, str]] = {
    "Akrotiri and Dhekelia": "GB",
    "Bailiwick of Guernsey": "GG",
    "Bailiwick of Jersey": "JE",
    "Bonaire, Saint Eustatius and Saba": "BQ",
    "Brunei": "BN",
    "Cape Verde": "CV",
    "Caribbean Netherlands": "BQ",
    "Curacao": "CW",
    "Democratic Republic of Congo": "CD",
    "East Timor": "TL",
    "eSwatini": "SZ",
    "Falkland Islands": "FK",
    "Ivory Coast": "CI",
    "Kosovo": "XK",
    "Micronesia": "FM",
    "North Macedonia": "MK",
    "Palestine": "PS",
    "Republic of Congo": "CG",
    "Reunion": "RE",
    "Russia": "RU",
    "Saint Barthelemy": "BL",
    "Saint-Martin": "MF",
    "Sint Maarten": "SX",
    "Turkey": "TR",
    "United States": "US",
    "Vatican City": "VA",
    "Virgin Islands, British": "VG",
    "Virgin Islands, U.S.": "VI",
}

# Names for country places, as ACLED spells them, where ISO's short name is long or formal
# ("Syrian Arab Republic"): so GED and ACLED imports, and reports, agree on one name.
DISPLAY_NAMES: Final[dict[str, str]] = {
    "BA": "Bosnia and Herzegovina",
    "BN": "Brunei",
    "BO": "Bolivia",
    "BQ": "Caribbean Netherlands",
    "CD": "Democratic Republic of Congo",
    "CG": "Republic of Congo",
    "CI": "Ivory Coast",
    "CV": "Cape Verde",
    "CZ": "Czech Republic",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "GB": "United Kingdom",
    "IR": "Iran",
    "KP": "North Korea",
    "KR": "South Korea",
    "LA": "Laos",
    "MD": "Moldova",
    "MK": "North Macedonia",
    "PS": "Palestine",
    "RU": "Russia",
    "SY": "Syria",
    "SZ": "eSwatini",
    "TL": "East Timor",
    "TR": "Turkey",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "US": "United States",
    "VA": "Vatican City",
    "VE": "Venezuela",
    "VN": "Vietnam",
    "XK": "Kosovo",
}

_NON_WORD = re.compile(r"[^\w]+")


def _fold(name: str) -> str:
    """A lenient matching key: case, accents, punctuation and '&'/'and' folded."""
    text = unicodedata.normalize("NFKD", name.casefold().replace("&", " and "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", text).split())


def _build_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                index.setdefault(_fold(value), country.alpha_2)
    # The explicit tables win over ISO's names: they say what the datasets mean.
    for table in (GED_NAMES, ACLED_NAMES):
        for name, code in table.items():
            index[_fold(name)] = code
    for code, name in DISPLAY_NAMES.items():
        index.setdefault(_fold(name), code)
    return index


_INDEX: Final = _build_index()


@cache
def alpha2_from_name(name: str) -> str | None:
    """The ISO alpha-2 code for a country name as either dataset writes it, or None."""
    name = name.strip()
    if not name:
        return None
    code = GED_NAMES.get(name) or ACLED_NAMES.get(name)
    if code:
        return code
    return _INDEX.get(_fold(name))


@cache
def alpha2_from_numeric(code: str) -> str | None:
    """The alpha-2 code for an ISO 3166-1 numeric code ("760", "4"), or None (ACLED's 0)."""
    code = code.strip()
    if not code.isdigit() or int(code) == 0:
        return None
    country = pycountry.countries.get(numeric=code.zfill(3))
    return country.alpha_2 if country is not None else None


@cache
def numeric_from_alpha2(alpha2: str) -> str | None:
    """The ISO numeric code of an alpha-2 code, as ACLED writes it (no leading zeros)."""
    country = pycountry.countries.get(alpha_2=alpha2)
    return str(int(country.numeric)) if country is not None else None


@cache
def display_name(alpha2: str) -> str:
    """The name a country place gets: ACLED's spelling, else ISO's common or short name."""
    if alpha2 in DISPLAY_NAMES:
        return DISPLAY_NAMES[alpha2]
    country = pycountry.countries.get(alpha_2=alpha2)
    if country is None:
        return alpha2
    return str(getattr(country, "common_name", None) or country.name)
