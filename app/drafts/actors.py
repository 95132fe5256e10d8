"""Actors a text names without the database knowing them: common descriptions mapped to
ACLED's kinds ("regime forces": the state's forces; "Russian warplanes": a foreign state's;
"rebels"; "gunmen"; "protesters"), named armed groups by the words of their names ("Jaish
...", "... Brigade"), and a short list of widely reported groups. Generic names follow ACLED's
("Military Forces of Syria", "Unidentified Armed Group (Mexico)")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from app.drafts.gazetteer import DEMONYMS
from app.drafts.quotes import NAME


@dataclass
class ActorGuess:
    name: str
    kind: str
    country: str | None
    start: int
    end: int
    rule: str
    confidence: float
    aliases: list[str] = field(default_factory=list)
    role: str = "primary"  # civilians named as victims are targets


_STATE_WORDS = (
    r"forces|troops|army|soldiers|military|warplanes|jets|aircraft|helicopters|planes|"
    r"artillery|air force|navy|security forces|servicemen|police|policemen|regime"
)
_DESCRIPTIONS: Final[list[tuple[re.Pattern[str], str, str]]] = [
    # (pattern, kind or 'demonym-state', generic name template)
    (
        re.compile(
            r"\b(?:the\s+)?(?:regime|government|pro-government|pro-regime|state)\s+(?:"
            + _STATE_WORDS
            + r")\b|\bthe regime\b",
            re.I,
        ),
        "state",
        "Military Forces of {country}",
    ),
    (
        re.compile(r"\b(?P<demonym>[A-Z][a-z]+)\s+(?:government\s+)?(?:" + _STATE_WORDS + r")\b"),
        "demonym",
        "Military Forces of {country}",
    ),
    (
        re.compile(r"\b(?:the\s+)?(?:police(?:men)?|police officers|policemen)\b", re.I),
        "police",
        "Police Forces of {country}",
    ),
    (
        re.compile(
            r"\b(?:rebels?|rebel (?:groups?|forces|factions|fighters)|opposition (?:forces|factions|fighters|groups)|armed opposition|insurgents?)\b",
            re.I,
        ),
        "rebel_group",
        "Opposition Rebels ({country})",
    ),
    (
        re.compile(
            r"\b(?:unknown |unidentified |suspected )?(?:gunmen|armed men|hitmen|assailants|attackers|militants)\b",
            re.I,
        ),
        "political_militia",
        "Unidentified Armed Group ({country})",
    ),
    (re.compile(r"\b(?:protesters|demonstrators)\b", re.I), "protesters", "Protesters ({country})"),
    (re.compile(r"\b(?:rioters|mob)\b", re.I), "rioters", "Rioters ({country})"),
    (
        re.compile(r"\b(?:civilians?|residents|villagers|farmers?|worshippers|children)\b", re.I),
        "civilians",
        "Civilians ({country})",
    ),
]
# Named armed groups by the words their names are made of.
_NAMED_GROUP: Final = re.compile(
    r"\b(?:(?:Jaish|Jaysh|Liwa|Harakat|Jabhat|Ahrar|Faylaq|Kataib|Kata'ib|Saraya|Hayat|Hay'at|Ansar|Ansaroul)"
    r"(?:\s+(?:al|a|ash|as|ad|an|ar)?-?[A-Z][\w'’-]+){1,4}"
    r"|Forces\s+of(?:\s+(?:al|a|ash|as|ad|an|ar)?-?[A-Z][\w'’-]+){1,4}"
    r"|(?:(?:al|a|ash|as|ad|an|ar)-[A-Z][\w'’-]+\s+|[A-Z][\w'’-]+\s+){1,4}(?:[Bb]rigades?|[Bb]attalions?|Front|Movement|[Mm]ilitia|Regiment|[Ff]action))\b"
)
_ACRONYM_AFTER: Final = re.compile(r"^\s*\((?P<acr>[A-Z][A-Za-z-]{1,9})\)")
# Widely reported groups: name, kind, country, aliases.
KNOWN: Final[list[tuple[str, str, str | None, tuple[str, ...]]]] = [
    ("Taliban", "rebel_group", "AF", ("Afghan Taliban",)),
    (
        "Islamic State",
        "rebel_group",
        None,
        ("IS", "ISIS", "ISIL", "Daesh", "Islamic State of Iraq and the Levant"),
    ),
    ("Al-Shabaab", "rebel_group", "SO", ("Al-Shabab", "al Shabaab", "Shabaab")),
    ("Boko Haram", "rebel_group", "NG", ()),
    ("Hezbollah", "political_militia", "LB", ("Hizbollah", "Hizballah")),
    ("Houthis", "rebel_group", "YE", ("Houthi rebels", "Ansar Allah", "Houthi")),
    ("New People's Army", "rebel_group", "PH", ("NPA",)),
    ("Abu Sayyaf Group", "rebel_group", "PH", ("ASG", "Abu Sayyaf")),
    ("Bangsamoro Islamic Freedom Fighters", "rebel_group", "PH", ("BIFF",)),
    ("Allied Democratic Forces", "rebel_group", "CD", ("ADF",)),
    ("CODECO", "identity_militia", "CD", ("Cooperative for the Development of Congo",)),
    ("Lord's Resistance Army", "rebel_group", "UG", ("LRA",)),
    ("Kurdistan Workers' Party", "rebel_group", "TR", ("PKK",)),
    ("People's Protection Units", "rebel_group", "SY", ("YPG",)),
    ("Syrian Democratic Forces", "rebel_group", "SY", ("SDF",)),
    ("Hayat Tahrir al-Sham", "rebel_group", "SY", ("HTS", "Hay'at Tahrir al-Sham")),
    ("Al-Nusra Front", "rebel_group", "SY", ("Jabhat al-Nusra", "Nusra Front")),
    ("Free Syrian Army", "rebel_group", "SY", ("FSA",)),
    ("Al-Qaeda", "rebel_group", None, ("al-Qaida", "Al Qaeda", "AlQaeda")),
    (
        "Jama'at Nusrat al-Islam wal-Muslimin",
        "rebel_group",
        "ML",
        ("JNIM", "Jama’at Nusrat al-Islam wal Muslimeen"),
    ),
    ("Islamic State in the Greater Sahara", "rebel_group", None, ("ISGS",)),
    (
        "Islamic State West Africa Province",
        "rebel_group",
        "NG",
        ("ISWAP", "Islamic State in West Africa Province"),
    ),
    ("Tehrik-i-Taliban Pakistan", "rebel_group", "PK", ("TTP", "Pakistani Taliban")),
    ("Lashkar-e-Taiba", "rebel_group", "PK", ("LeT",)),
    (
        "Tigray People's Liberation Front",
        "rebel_group",
        "ET",
        ("TPLF", "Tigray rebels", "Tigrayan forces"),
    ),
    ("Revolutionary Armed Forces of Colombia", "rebel_group", "CO", ("FARC",)),
    ("National Liberation Army (Colombia)", "rebel_group", "CO", ("ELN",)),
    ("Wagner Group", "external_forces", "RU", ("Wagner",)),
    (
        "Maoist Rebels (India)",
        "rebel_group",
        "IN",
        ("Maoists", "Maoist", "Naxalites", "CPI-Maoist"),
    ),
]


def country_name(code: str, names: dict[str, str]) -> str:
    return names.get(code, code)


def describe(
    text: str, start: int, sentence: str, default_country: str | None, country_names: dict[str, str]
) -> list[ActorGuess]:
    """The described actors of one sentence (``start`` is its offset in the text)."""
    found: list[ActorGuess] = []
    for pattern, kind, template in _DESCRIPTIONS:
        for m in pattern.finditer(sentence):
            country = default_country
            actor_kind = kind
            if kind == "demonym":
                code = DEMONYMS.get(m.group("demonym").lower())
                if not code:
                    continue
                country = code
                actor_kind = (
                    "state_forces"
                    if code == default_country or default_country is None
                    else "external_forces"
                )
            elif kind in ("state", "police"):
                actor_kind = "state_forces"
            if country is None:
                continue
            name = template.format(country=country_name(country, country_names))
            found.append(
                ActorGuess(
                    name,
                    actor_kind,
                    country,
                    start + m.start(),
                    start + m.end(),
                    f"'{m.group()}' describes {actor_kind.replace('_', ' ')}",
                    0.6,
                    role="target" if actor_kind == "civilians" else "primary",
                )
            )
    return found


def named_groups(text: str, default_country: str | None) -> list[ActorGuess]:
    found: list[ActorGuess] = []
    for m in _NAMED_GROUP.finditer(text):
        name = m.group().strip()
        start = m.start()
        # "the FSA-affiliated Jaish Tahrir a-Sham faction": the group is Jaish Tahrir a-Sham.
        lead = re.match(r"^(?:\S+-(?:affiliated|backed|led|linked|aligned|allied)\s+)+", name)
        if lead:
            start += lead.end()
            name = name[lead.end() :]
        name = re.sub(r"\s+faction$", "", name)
        aliases = []
        acr = _ACRONYM_AFTER.match(text[m.end() :])
        if acr:
            aliases.append(acr.group("acr"))
        found.append(
            ActorGuess(
                name,
                "rebel_group",
                default_country,
                start,
                start + len(name),
                "an armed group's name by its words",
                0.5,
                aliases,
            )
        )
    return found


def known_names() -> dict[str, tuple[str, str, str | None, tuple[str, ...]]]:
    """Every name and alias of the known groups -> the group."""
    table: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {}
    for entry in KNOWN:
        for n in (entry[0], *entry[3]):
            table[n] = entry
    return table


PERSON_NAME: Final = re.compile(NAME)
