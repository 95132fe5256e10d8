"""Figures in a sentence: the dead, wounded and displaced ("at least 30 Taliban killed",
"kills seven", "death toll rises to five", "dozens killed"), and measures with their units
("over 75 barrel bombs", "150 missiles"), each with the words that carry it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from app.drafts.dates import MONTHS
from app.drafts.numbers import Quantity, quantity_at
from app.drafts.text import Sentence, Token

# Passive or adjectival: the count comes before ("30 Taliban killed", "Four dead").
DEATH_AFTER: Final = frozenset(
    [
        "killed",
        "dead",
        "died",
        "die",
        "dies",
        "perished",
        "murdered",
        "slain",
        "executed",
        "massacred",
        "fell",
        "lost",
    ]
)
DEATH_AFTER_PAIRS: Final = {("gunned", "down"), ("shot", "dead"), ("lost", "lives")}
# Active: the count comes after ("kills seven", "killing 63", "kill 10").
DEATH_BEFORE: Final = frozenset(
    ["kill", "kills", "killing", "killed", "claim", "claims", "claimed", "claiming"]
)
INJURY_AFTER: Final = frozenset(["wounded", "injured", "hurt"])
INJURY_BEFORE: Final = frozenset(
    ["wounds", "wounding", "wounded", "injures", "injuring", "injured"]
)
DISPLACED: Final = frozenset(["displaced", "fled"])
_BE: Final = frozenset(
    [
        "were",
        "was",
        "are",
        "is",
        "have",
        "has",
        "been",
        "had",
        "reportedly",
        "reported",
        "also",
        "later",
        "all",
        "more",
        "others",
        "other",
        "people",
        "persons",
        "civilians",
        "soldiers",
    ]
)
# Nouns of people: what a count before a death word counts.
PEOPLE: Final = frozenset(
    [
        "people",
        "persons",
        "person",
        "civilians",
        "civilian",
        "soldiers",
        "soldier",
        "troops",
        "troop",
        "militants",
        "militant",
        "rebels",
        "rebel",
        "insurgents",
        "insurgent",
        "fighters",
        "fighter",
        "members",
        "member",
        "policemen",
        "policeman",
        "police",
        "officers",
        "officer",
        "men",
        "man",
        "women",
        "woman",
        "children",
        "child",
        "boys",
        "girls",
        "students",
        "worker",
        "workers",
        "farmers",
        "farmer",
        "citizens",
        "citizen",
        "residents",
        "resident",
        "villagers",
        "villager",
        "taliban",
        "terrorists",
        "terrorist",
        "servicemen",
        "serviceman",
        "gunmen",
        "gunman",
        "attackers",
        "attacker",
        "jihadists",
        "jihadist",
        "militiamen",
        "militiaman",
        "guards",
        "guard",
        "officials",
        "official",
        "demonstrators",
        "protesters",
        "protester",
        "worshippers",
        "pilgrims",
        "syrians",
        "iraqis",
        "afghans",
        "others",
        "bodies",
        "body",
        "doctor",
        "volunteer",
        "leader",
        "commander",
        "separatist",
        "guerrillas",
        "guerrilla",
        "kurds",
        "albanians",
        "militias",
        "militia",
        "family",
        "families",
        "personnel",
        "staff",
        "marines",
        "recruits",
        "detainees",
        "prisoners",
        "miners",
        "migrants",
        "refugees",
        "displaced",
        "victims",
        "victim",
        "loyalists",
        "supporters",
        "forces",
        "judge",
    ]
)
CIVILIAN_WORDS: Final = frozenset(
    [
        "civilians",
        "civilian",
        "people",
        "persons",
        "person",
        "children",
        "child",
        "women",
        "woman",
        "men",
        "man",
        "boys",
        "girls",
        "students",
        "farmers",
        "farmer",
        "citizens",
        "citizen",
        "residents",
        "resident",
        "villagers",
        "villager",
        "worshippers",
        "pilgrims",
        "doctor",
        "volunteer",
        "family",
        "families",
        "workers",
        "worker",
        "migrants",
        "refugees",
        "displaced",
        "detainees",
        "prisoners",
        "miners",
        "judge",
    ]
)
# Units of measures: what a count of weapons, strikes or places is a count of.
UNITS: Final[tuple[tuple[str, ...], ...]] = tuple(
    tuple(u.split())
    for u in (
        "barrel bombs",
        "cluster bombs",
        "car bombs",
        "vacuum bombs",
        "bombs",
        "missiles",
        "rockets",
        "mortar shells",
        "mortar rounds",
        "mortars",
        "artillery shells",
        "shells",
        "air strikes",
        "airstrikes",
        "air raids",
        "raids",
        "drones",
        "drone strikes",
        "strikes",
        "explosive devices",
        "booby-traps",
        "landmines",
        "mines",
        "grenades",
        "tanks",
        "military points",
        "checkpoints",
        "villages",
        "houses",
        "homes",
        "buildings",
        "vehicles",
        "ammunition depots",
        "depots",
        "massacres",
        "attacks",
        "sorties",
        "helicopters",
        "warplanes",
    )
)
# Words that end the noun phrase after a count: "30 Taliban killed" reads through, "2 suicide
# attacks kill at least 12" stops at the verb.
_NOT_IN_NOUN_PHRASE: Final = frozenset(
    [
        ",",
        ";",
        ":",
        "|",
        ".",
        "in",
        "on",
        "at",
        "near",
        "during",
        "after",
        "before",
        "as",
        "while",
        "by",
        "from",
        "for",
        "with",
        "to",
        "and",
        "or",
        "but",
        "among",
        "hit",
        "hits",
        "struck",
        "strike",
        "strikes",
        "attack",
        "attacks",
        "attacked",
        "target",
        "targets",
        "targeted",
        "targeting",
        "carry",
        "carried",
        "launch",
        "launched",
        "fired",
        "fire",
        "says",
        "said",
        "say",
        "told",
        "reported",
        "report",
    ]
)
_CURRENCY: Final = frozenset(["rs", "rs.", "$", "usd", "us$", "€", "eur", "£", "rupees", "dollars"])


# A number right after these is a date, an ordinal or an id (when over 31), not a count:
# "May 32" is no date, but "incident 45" and "no. 302" are no count either.
NOT_COUNTED_AFTER: Final = frozenset({*MONTHS, "no", "no.", "#", "incident", "since", "in", "of"})


@dataclass
class Figure:
    kind: str  # killed, wounded, displaced, or a measure's unit ("barrel bombs")
    value: int | None
    low: int | None
    high: int | None
    qualifier: str | None
    start: int  # code points, the evidence span
    end: int
    rule: str


def _span(tokens: list[Token], a: int, b: int) -> tuple[int, int]:
    return tokens[a].start, tokens[max(a, b - 1)].end


def _numbers(tokens: list[Token]) -> list[Quantity]:
    found: list[Quantity] = []
    i = 0
    while i < len(tokens):
        q = quantity_at(tokens, i)
        if q is None or (i > 0 and tokens[i - 1].lower in _CURRENCY):
            i += 1
            continue
        # A date, a time or an ordinal is no count: "24 hours", "May 1", "2014-05-05".
        after = tokens[q.end].lower if q.end < len(tokens) else ""
        before = tokens[q.start - 1].lower if q.start > 0 else ""
        if after in {
            "hours",
            "hour",
            "days",
            "day",
            "weeks",
            "months",
            "years",
            "km",
            "kilometers",
            "kilometres",
            "miles",
            "percent",
            "%",
            "-",
            "am",
            "pm",
        } or (before in NOT_COUNTED_AFTER and q.value is not None and q.value > 31):
            i = q.end
            continue
        if (
            q.value is not None
            and 1900 <= q.value <= 2100
            and q.qualifier is None
            and "," not in q.words
        ):
            i = q.end
            continue
        found.append(q)
        i = q.end
    return found


def _people_between(tokens: list[Token], a: int, b: int) -> bool:
    """Tokens a..b (a noun phrase after a count) hold no verb-like word that would break it."""
    for t in tokens[a:b]:
        w = t.lower
        if w in {",", ";", ":", "and", "while", "as", "after", "before", "in", "|"}:
            return False
    return True


def figures(sentence: Sentence) -> list[Figure]:
    tokens = sentence.tokens
    lowers = [t.lower for t in tokens]
    out: list[Figure] = []
    quantities = _numbers(tokens)
    used: set[int] = set()

    def add(kind: str, q: Quantity, a: int, b: int, rule: str) -> None:
        if q.start in used:
            return
        used.add(q.start)
        start, end = _span(tokens, min(a, q.start), max(b, q.end))
        low, high, value = q.low, q.high, q.value
        qualifier = q.qualifier
        if value is not None and qualifier == "at least":
            low = value
        out.append(Figure(kind, value, low, high, qualifier, start, end, rule))

    def _add_listed(q: Quantity) -> None:
        # "23 security forces, 31 militants killed": the counts listed before add up.
        nonlocal quantities
        chain = [q]
        while True:
            first = chain[0]
            previous = [p for p in quantities if p.end <= first.start and p.start not in used]
            if not previous:
                break
            p = previous[-1]
            between = lowers[p.end : first.start]
            if (
                not between
                or between[-1] not in {",", "and"}
                or any(w in _NOT_IN_NOUN_PHRASE - {",", "and"} for w in between)
            ):
                break
            chain.insert(0, p)
        if len(chain) > 1 and all(c.value is not None for c in chain):
            total = sum(c.value or 0 for c in chain)
            for c in chain:
                used.add(c.start)
            used.discard(q.start)
            merged = Quantity(
                total,
                None,
                None,
                chain[0].start,
                q.end,
                chain[0].qualifier,
                "+".join(c.words for c in chain),
            )
            quantities = [merged if c is q else c for c in quantities]
            out.append(
                Figure(
                    "killed",
                    total,
                    None,
                    None,
                    chain[0].qualifier,
                    tokens[chain[0].start].start,
                    tokens[q.end - 1].end,
                    "counts listed before a death word, added up",
                )
            )
            used.add(q.start)

    death_words = [i for i, w in enumerate(lowers) if w in DEATH_AFTER]
    # Killed and wounded counted together are casualties, not deaths.
    combined = {
        i
        for i in death_words
        if (
            i + 2 < len(lowers)
            and lowers[i + 1] == "and"
            and lowers[i + 2] in INJURY_AFTER | {"wound", "wounded"}
        )
        or (i >= 2 and lowers[i - 1] == "and" and lowers[i - 2] in INJURY_AFTER)
    }
    for idx, w in enumerate(lowers):
        if (
            w in {"deaths"}
            and idx + 2 < len(lowers)
            and lowers[idx + 1] == "and"
            and lowers[idx + 2].startswith("wound")
        ):
            combined.add(idx)

    for q in quantities:
        # 1. A count before a death word: "at least 30 Taliban killed", "Four dead",
        #    "163 people died yesterday", "Two BSF men among eight killed".
        j = q.end
        while (
            j < len(tokens)
            and j - q.end <= 5
            and (tokens[j].text[:1].isalpha() or tokens[j].text[:1] == "#")
            and lowers[j] not in _NOT_IN_NOUN_PHRASE
            and lowers[j] not in DEATH_AFTER | INJURY_AFTER | {"kill", "kills"}
            and not (
                lowers[j] in DISPLACED and (j + 1 >= len(tokens) or lowers[j + 1] not in PEOPLE)
            )
        ):
            j += 1
        if j < len(tokens) and (
            lowers[j] in DEATH_AFTER
            or (
                lowers[j] in {"kill", "kills"}
                and (j + 1 >= len(tokens) or lowers[j + 1] in {"during", "in", "on", "at", "as"})
            )
        ):
            if j in combined:
                continue
            if lowers[j] == "fell" and not (q.end == j or lowers[q.end] in PEOPLE):
                continue
            if lowers[j] == "lost" and not (
                j + 1 < len(tokens) and lowers[j + 1] in {"lives", "their"}
            ):
                continue
            _add_listed(q)
            add("killed", q, q.start, j + 1, "a count before a death word")
            continue
        if j + 1 < len(tokens) and (lowers[j], lowers[j + 1]) in DEATH_AFTER_PAIRS:
            add("killed", q, q.start, j + 2, "a count before a death word")
            continue
        if j < len(tokens) and lowers[j] in INJURY_AFTER:
            add("wounded", q, q.start, j + 1, "a count before a word of injury")
            continue
        if j < len(tokens) and lowers[j] in DISPLACED:
            add("displaced", q, q.start, j + 1, "a count before 'displaced'")
            continue

    for i, w in enumerate(lowers):
        # 2. A death verb and the count after it: "kills seven", "killing 63",
        #    "claim more than 150 lives", "burn four local guerrillas alive".
        if w in DEATH_BEFORE or w in {"burn", "burns", "burned", "burnt", "find", "found", "finds"}:
            for q in quantities:
                if q.start in used or not (i < q.start <= i + 2):
                    continue
                if w in {"claims", "claimed", "claiming"} and not any(
                    lowers[k] == "lives" for k in range(q.end, min(q.end + 3, len(tokens)))
                ):
                    continue
                if w.startswith(("burn",)) and "alive" not in lowers[q.end : q.end + 5]:
                    continue
                if w in {"find", "found", "finds"} and not any(
                    lowers[k] in {"bodies", "body", "dead"}
                    for k in range(q.end, min(q.end + 2, len(tokens)))
                ):
                    continue
                if (
                    w == "killed"
                    and i > 0
                    and lowers[i - 1] not in PEOPLE | {"forces", "troops"}
                    and not tokens[i - 1].text[:1].isupper()
                ):
                    # "were killed 30" is not English; "killed nine civilians" is.
                    pass
                end = q.end
                trailing = lowers[end : end + 2]
                if trailing == ["at", "least"]:
                    q = Quantity(q.value, q.value, q.high, q.start, q.end, "at least", q.words)
                    end += 2
                add("killed", q, i, end, f"a count after '{tokens[i].text}'")
        # 3. "death toll rises to five", "death toll tops 136,000", "raise the death toll to 270"
        if w in {"find", "found", "finds"} and lowers[i + 1 : i + 3] in (
            ["a", "body"],
            ["the", "body"],
        ):
            start, end = _span(tokens, i, i + 3)
            out.append(Figure("killed", 1, None, None, None, start, end, "a body found"))
        if w == "toll" and i > 0 and lowers[i - 1] == "death":
            for q in quantities:
                if q.start in used or not (i < q.start <= i + 4):
                    continue
                add("killed", q, i - 1, q.end, "a death toll")
                break
        if w in INJURY_BEFORE:
            for q in quantities:
                if q.start not in used and i < q.start <= i + 2:
                    add("wounded", q, i, q.end, f"a count after '{tokens[i].text}'")

    # 4. Measures with their units: "over 75 barrel bombs", "150 missiles".
    for q in quantities:
        if q.start in used:
            continue
        for unit in UNITS:
            n = len(unit)
            window = lowers[q.end : q.end + 2 + n]
            for skip in range(0, 3):
                if tuple(window[skip : skip + n]) == unit and all(
                    lowers[q.end + k] not in {",", "and", "of"}
                    or (k == 0 and lowers[q.end] == "of")
                    for k in range(skip)
                ):
                    add(
                        " ".join(tokens[q.end + skip + k].text.lower() for k in range(n)),
                        q,
                        q.start,
                        q.end + skip + n,
                        "a count of a unit",
                    )
                    break
            if q.start in used:
                break

    # 5. One victim, named by a singular noun: "Civilian killed", "NPA rebel killed",
    #    "Gunmen kill doctor, his associate", "a civilian was killed".
    if not any(f.kind == "killed" for f in out):
        single = _singular_victims(tokens, lowers, combined)
        if single is not None:
            out.append(single)
    out.sort(key=lambda f: f.start)
    return out


_ARTICLES: Final = frozenset({"a", "an", "one", "his", "her", "their", "another"})
_STOP: Final = frozenset(
    [
        "in",
        "on",
        "at",
        "near",
        "during",
        "after",
        "before",
        "as",
        "while",
        "by",
        "from",
        "for",
        "with,",
        "of",
        "to",
        "and",
        "|",
        ":",
        ";",
        "was",
        "were",
        "is",
        "has",
        "have",
        "had",
        "been",
    ]
)


def _singular_victims(tokens: list[Token], lowers: list[str], combined: set[int]) -> Figure | None:
    for i, w in enumerate(lowers):
        if i in combined:
            continue
        passive = (
            w in {"killed", "murdered", "executed", "slain"}
            or (
                i + 1 < len(lowers) and (w, lowers[i + 1]) in {("gunned", "down"), ("shot", "dead")}
            )
            or (
                w in {"tortured", "beaten", "stabbed", "shot"}
                and lowers[i + 1 : i + 3] in (["to", "death"], ["to", "dead"])
            )
        )
        if passive:
            # The subject: back to the sentence's (or headline part's) start.
            k = i - 1
            while k >= 0 and lowers[k] in {"was", "is", "reportedly", "been", "has"}:
                k -= 1
            begin = k
            while begin >= 0 and lowers[begin] not in {"|", ":", ";", "."}:
                begin -= 1
            subject = [t.text for t in tokens[begin + 1 : k + 1]]
            if not subject:
                continue
            # The subject's nouns, split at commas and "and": each item one victim; an item
            # is read up to its first preposition or participle ("Maoist carrying reward of
            # Rs 4 lakh"), and "the ..." after a name is that name's apposition.
            items = _appositions_dropped([_head_phrase(item) for item in _items(subject)])
            if items and all(_singular(item) for item in items) and len(items) <= 5:
                head = tokens[begin + 1]
                return Figure(
                    "killed",
                    len(items),
                    None,
                    None,
                    None,
                    head.start,
                    tokens[min(i + 1, len(tokens) - 1)].end
                    if w in {"gunned", "shot"}
                    else tokens[i].end,
                    "a victim named in the singular",
                )
        if w in {"kill", "kills", "killed", "killing"} and i + 1 < len(lowers):
            object_tokens: list[str] = []
            k = i + 1
            while (
                k < len(lowers)
                and lowers[k] not in _STOP - {",", "and"}
                and not lowers[k].endswith("ing")
            ):
                object_tokens.append(tokens[k].text)
                k += 1
            items = _items(object_tokens)
            if items and all(_singular(item) for item in items) and len(items) <= 5:
                return Figure(
                    "killed",
                    len(items),
                    None,
                    None,
                    None,
                    tokens[i].start,
                    tokens[k - 1].end,
                    "victims named in the singular after the verb",
                )
    return None


def _head_phrase(item: list[str]) -> list[str]:
    for n, w in enumerate(item):
        if n > 0 and (
            w.lower() in {"of", "with", "from", "in", "at", "on", "near", "for"}
            or w.lower().endswith("ing")
        ):
            return item[:n]
    return item


def _named(item: list[str]) -> bool:
    return all(w[:1].isupper() for w in item) and len(item) >= 2


def _appositions_dropped(items: list[list[str]]) -> list[list[str]]:
    kept: list[list[str]] = []
    for item in items:
        if kept and _named(kept[-1]) and item and item[0].lower() in {"the", "a", "an"}:
            continue
        kept.append(item)
    return kept


def _items(words: list[str]) -> list[list[str]]:
    items: list[list[str]] = [[]]
    for w in words:
        if w.lower() in {",", "and", "&"}:
            items.append([])
        else:
            items[-1].append(w)
    return [item for item in items if item]


def _singular(item: list[str]) -> bool:
    """A noun phrase naming one person: its last word a singular noun of people (or an
    acronym's member: "BIFF", "NPA rebel"), with no number in it."""
    if _named(item) and len(item) <= 4:
        return True  # a person's name
    lowered = [w.lower() for w in item]
    if any(
        w[:1].isdigit() or w in {"two", "three", "four", "several", "many", "some", "the"}
        for w in lowered
    ):
        return False
    head = lowered[-1].strip("'’").removesuffix("'s").removesuffix("’s")
    singular_heads = {
        "civilian",
        "rebel",
        "soldier",
        "officer",
        "member",
        "man",
        "woman",
        "child",
        "boy",
        "girl",
        "farmer",
        "doctor",
        "volunteer",
        "leader",
        "commander",
        "separatist",
        "terrorist",
        "militant",
        "fighter",
        "policeman",
        "journalist",
        "teacher",
        "student",
        "associate",
        "brother",
        "son",
        "father",
        "judge",
        "official",
        "worker",
        "guard",
        "maoist",
        "activist",
        "cleric",
        "imam",
        "driver",
        "resident",
        "villager",
        "citizen",
        "body",
        "person",
        "insurgent",
        "gunman",
        "jihadist",
        "militiaman",
        "serviceman",
    }
    if head in singular_heads:
        return True
    # "BIFF killed": an armed group's acronym for one of its members (the headline style).
    return len(item) == 1 and item[0].isalpha() and item[0].isupper() and len(item[0]) >= 3
