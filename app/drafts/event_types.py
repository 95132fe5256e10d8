"""The ACLED event type and sub-type a sentence suggests, from the words that decide it
("warplanes bombed": an air strike; "clashes": an armed clash; "seized four military points":
a non-state actor overtakes territory)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from app.drafts.figures import CIVILIAN_WORDS
from app.drafts.text import Sentence

EXPLOSIONS = "Explosions/Remote violence"
BATTLES = "Battles"
VAC = "Violence against civilians"
STRATEGIC = "Strategic developments"

# (pattern, type, sub-type, strength): the strongest cue in a sentence decides; a tie goes
# to the first in the sentence.
_RULES: Final[list[tuple[str, str, str, int]]] = [
    (
        r"chemical (?:weapons?|attack)|chlorine|sarin|nerve agent|toxic gas|gas attack",
        EXPLOSIONS,
        "Chemical weapon",
        9,
    ),
    (
        r"suicide (?:bomb\w*|attack\w*|blast\w*|car bomb\w*)|suicide bomber",
        EXPLOSIONS,
        "Suicide bomb",
        9,
    ),
    (
        r"car bombs?|roadside bomb|(?:improvised )?explosive devices?|\bieds?\b|landmines?|land mines?|booby[- ]traps?|bicycle bomb|bomb blast|explosion|blast",
        EXPLOSIONS,
        "Remote explosive/landmine/IED",
        6,
    ),
    (
        r"cluster (?:bombs?|munitions?)|air ?strikes?|air raids?|airstrikes?|warplanes?|war planes|jets?|helicopters?|barrel bombs?|drone strikes?|drones?|aerial bombardment|bombed|bombing|bombard\w*",
        EXPLOSIONS,
        "Air/drone strike",
        7,
    ),
    (
        r"shell(?:ed|ing|s)|artillery|mortars?|rockets?|missiles?",
        EXPLOSIONS,
        "Shelling/artillery/missile attack",
        6,
    ),
    (r"grenades?", EXPLOSIONS, "Grenade", 6),
    (
        r"(?:seiz|captur|overr[au]n|took control|take control|takes control|overtook|stormed)\w*",
        BATTLES,
        "Non-state actor overtakes territory",
        5,
    ),
    (r"(?:recaptur|retook|retake|regain)\w*", BATTLES, "Government regains territory", 5),
    (
        r"clash\w*|fighting|fought|battles?|firefights?|gun ?battles?|skirmish\w*|offensive|ambush\w*|assault|repuls\w*|repelled|encounter",
        BATTLES,
        "Armed clash",
        5,
    ),
    (
        r"protest\w*|demonstrat\w*|rall(?:y|ies)|march(?:ed|es)? (?:in|through|against)|sit-in",
        "Protests",
        "Peaceful protest",
        4,
    ),
    (r"riot\w*|mob\b|mobs\b", "Riots", "Violent demonstration", 5),
    (r"abduct\w*|kidnap\w*|forced disappearance", VAC, "Abduction/forced disappearance", 6),
    (r"rape\w*|sexual violence|sexual assault", VAC, "Sexual violence", 7),
    (r"massacre\w*|executed|execution|gunned down|shot dead|murder\w*|tortured", VAC, "Attack", 5),
    (r"arrest\w*|detain\w*", STRATEGIC, "Arrests", 3),
    (
        r"negotiat\w*|ceasefire|cease-fire|truce|agreement|peace deal|talks\b",
        STRATEGIC,
        "Agreement",
        3,
    ),
    (
        r"loot\w*|torched|set fire|burned down|destroyed (?:houses|homes|property)",
        STRATEGIC,
        "Looting/property destruction",
        3,
    ),
    (r"defused|dismantled (?:a |an )?(?:bomb|device|ied)", STRATEGIC, "Disrupted weapons use", 4),
]
_COMPILED: Final = [
    (re.compile(r"\b(?:" + p + r")", re.IGNORECASE), t, s, w) for p, t, s, w in _RULES
]
_DEATHS: Final = re.compile(
    r"\b(kill\w*|dead|died|die|dies|deaths?|death toll|perished|slain|lives|bod(?:y|ies))\b",
    re.IGNORECASE,
)
_COMBATANTS: Final = frozenset(
    [
        "soldiers",
        "soldier",
        "troops",
        "militants",
        "militant",
        "rebels",
        "rebel",
        "insurgents",
        "fighters",
        "fighter",
        "taliban",
        "terrorists",
        "police",
        "policemen",
        "forces",
        "servicemen",
        "militias",
        "militia",
        "guerrillas",
        "jihadists",
        "gunmen",
        "army",
        "officer",
        "officers",
        "member",
        "members",
    ]
)


@dataclass(frozen=True)
class TypeGuess:
    event_type: str
    sub_event_type: str
    start: int
    end: int
    rule: str
    strength: int


def event_type(sentence: Sentence, deaths: bool = False) -> TypeGuess | None:
    """The strongest cue's type; with none, a sentence that counts dead (``deaths``, from
    the figures) or names death is an attack on civilians or a battle, by who died."""
    best: TypeGuess | None = None
    for pattern, type_, sub, strength in _COMPILED:
        m = pattern.search(sentence.text)
        if m is None:
            continue
        guess = TypeGuess(
            type_,
            sub,
            sentence.start + m.start(),
            sentence.start + m.end(),
            f"'{m.group()}' suggests {type_} / {sub}",
            strength,
        )
        if best is None or (strength, -guess.start) > (best.strength, -best.start):
            best = guess
    if best is not None:
        return best
    m = _DEATHS.search(sentence.text)
    if m is None and deaths:
        m = re.search(r"\w+", sentence.text)
    if m is None:
        return None
    # Deaths with no weapon named: civilians killed are violence against them; fighters
    # killed, a battle.
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", sentence.text)}
    start, end = sentence.start + m.start(), sentence.start + m.end()
    if words & _COMBATANTS and not words & CIVILIAN_WORDS:
        return TypeGuess(
            BATTLES, "Armed clash", start, end, f"'{m.group()}' with fighters named: a battle", 2
        )
    return TypeGuess(VAC, "Attack", start, end, f"'{m.group()}' with no weapon named: an attack", 2)
