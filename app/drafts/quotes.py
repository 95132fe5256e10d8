"""Quoted speech and who said it: text in straight or curly quotes (a quote nested in another
stays inside it), attributed by "X said", "said X, a media activist", "X told ...", "according
to X, ..., who described", "he told" (the last person named), or a paragraph of quote alone
(the previous quote's speaker)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

# A person's name: two to five words, capitalised or a transliterated particle (al-, bin).
_PARTICLE = r"(?:al|el|a|ad|ar|as|ash|at|az|an|bin|ibn|abu|Abu|de|da|del|van|von|bint)"
NAME: Final = (
    r"[A-Z][\w'’]+(?:-[\w'’]+)?"
    r"(?:\s+(?:"
    + _PARTICLE
    + r"[-\s][A-Z]?[\w'’]+|"
    + _PARTICLE
    + r"-\w+|[A-Z][\w'’]+(?:-[\w'’]+)?)){1,4}"
)
_SPEECH_VERBS: Final = (
    r"(?:said|says|told|added|explained|stated|stressed|noted|warned|declared|described|recalled)"
)
_AFTER: Final = re.compile(
    r"^[\s,]*(?:" + _SPEECH_VERBS + r"\s+(?P<name>" + NAME + r")"
    r"|(?P<name2>"
    + NAME
    + r")\s+"
    + _SPEECH_VERBS
    + r"|(?P<pronoun>he|she)\s+"
    + _SPEECH_VERBS
    + r")",
)
_BEFORE: Final = re.compile(
    r"(?:(?P<name>"
    + NAME
    + r")(?:,[^,“\"]{3,80},)?\s+"
    + _SPEECH_VERBS
    + r"(?:\s+[A-Z][\w\s]{0,40}?)?"
    r"|according\s+(?:to\s+)?(?P<name2>"
    + NAME
    + r")[^“\"]{0,120}?\bwho\s+"
    + _SPEECH_VERBS
    + r"|(?P<pronoun>\b[Hh]e|\b[Ss]he)\s+"
    + _SPEECH_VERBS
    + r"(?:\s+[A-Z][\w\s]{0,40}?)?)"
    r"[\s:,]*$",
)
# "Marwan al-Qadi, a spokesperson for the Unified Command," introduces a person and a role.
_INTRODUCTION: Final = re.compile(
    r"(?P<name>" + NAME + r"),\s+(?:an?|the)\s+(?P<role>[^,.“”\"]{3,90}?)(?=[,.]|\s+who\b|$)"
)
_OPEN = {"“": "”", '"': '"', "«": "»"}
_NOT_PEOPLE: Final = frozenset(
    [
        "faction",
        "group",
        "groups",
        "brigade",
        "army",
        "coalition",
        "movement",
        "organisation",
        "organization",
        "umbrella",
        "party",
        "front",
        "militia",
        "battalion",
        "force",
        "forces",
        "region",
        "town",
        "city",
        "village",
        "area",
        "province",
        "district",
        "governorate",
        "country",
        "capital",
        "suburb",
        "neighbourhood",
        "neighborhood",
        "camp",
        "base",
        "agency",
        "outlet",
        "newspaper",
        "channel",
    ]
)


@dataclass
class Person:
    name: str
    role: str | None
    start: int
    end: int
    role_start: int | None = None
    role_end: int | None = None


@dataclass
class QuoteFound:
    start: int  # the quoted words, without the marks
    end: int
    text: str
    speaker: Person | None = None
    rule: str = ""
    confidence: float = 0.5
    nested: list[tuple[int, int]] = field(default_factory=list)


_NAMED_BETWEEN: Final = re.compile(r"\b(?:said|says|according to)\s+(" + NAME + ")")


def _same_voice(between: str, speaker: Person) -> bool:
    """Nothing between two quotes of a paragraph hands over to someone else."""
    if any(mark in between for mark in '“"«'):
        return False
    return all(m.group(1) == speaker.name for m in _NAMED_BETWEEN.finditer(between))


def _role(phrase: str) -> str:
    # "media activist from the town of al-Ruheibah" -> "media activist": where a person is
    # from is not their role; "military commander with Ahmad al-Abdo" keeps its group.
    return re.split(r"\s+(?:from|in|at|based)\s+", phrase.strip(), maxsplit=1)[0].strip()


def people(text: str) -> list[Person]:
    found: list[Person] = []
    for m in _INTRODUCTION.finditer(text):
        role_phrase = m.group("role")
        if set(re.findall(r"[a-z]+", _role(role_phrase).lower())) & _NOT_PEOPLE:
            continue  # "a local Free Syrian Army (FSA) faction" introduces a group
        found.append(
            Person(
                m.group("name"),
                _role(role_phrase),
                m.start("name"),
                m.end("name"),
                m.start("role"),
                m.start("role") + len(_role(role_phrase)),
            )
        )
    return found


def quoted_spans(text: str) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """(start, end, nested spans) of each outermost quotation, marks excluded."""
    spans: list[tuple[int, int, list[tuple[int, int]]]] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in _OPEN:
            close = _OPEN[ch]
            nested: list[tuple[int, int]] = []
            j = i + 1
            while (
                j < n and text[j] != close and not (text[j] == "\n" and text[j + 1 : j + 2] == "\n")
            ):
                # A nested quote: single marks inside double ones.
                if (
                    text[j] in "‘'"
                    and (text[j - 1] in ' “"(')
                    and j + 1 < n
                    and text[j + 1].isalnum()
                ):
                    k = text.find("’" if text[j] == "‘" else "'", j + 1)
                    if 0 < k < n and (k + 1 >= n or not text[k + 1].isalnum()):
                        nested.append((j + 1, k))
                        j = k + 1
                        continue
                j += 1
            if j < n and text[j] == close:
                spans.append((i + 1, j, nested))
                i = j + 1
                continue
        i += 1
    return spans


def quotes(text: str, persons: list[Person]) -> list[QuoteFound]:
    found: list[QuoteFound] = []
    previous: QuoteFound | None = None
    for start, end, nested in quoted_spans(text):
        inner = text[start:end]
        # The words without the comma that hands over to "said" (as the reports keep them).
        stripped_end = start + len(inner.rstrip().rstrip(",").rstrip())
        begin = start + (len(inner) - len(inner.lstrip()))
        words = text[begin:stripped_end]
        if len(words.split()) < 2:
            continue  # a scare quote ("scores") or a term: not speech
        quote = QuoteFound(begin, stripped_end, words, nested=nested)
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        after = text[end + 1 : line_end]
        before = text[line_start : start - 1]
        m = _AFTER.match(after)
        if m and (m.group("name") or m.group("name2")):
            name = m.group("name") or m.group("name2")
            name_start = end + 1 + (m.start("name") if m.group("name") else m.start("name2"))
            quote.speaker = _person(persons, name, name_start, text)
            quote.rule, quote.confidence = (
                f"attributed after the quote ('{m.group().strip(' ,')}')",
                0.9,
            )
        elif m and m.group("pronoun"):
            quote.speaker = _last_person(persons, found, start)
            quote.rule, quote.confidence = (
                "'he/she said' after the quote: the last person named",
                0.6,
            )
        else:
            b = _BEFORE.search(before[-300:])
            if b and (b.group("name") or b.group("name2")):
                name = b.group("name") or b.group("name2")
                offset = line_start + max(0, len(before) - 300)
                name_start = offset + (b.start("name") if b.group("name") else b.start("name2"))
                quote.speaker = _person(persons, name, name_start, text)
                quote.rule, quote.confidence = "attributed before the quote", 0.85
            elif b and b.group("pronoun"):
                quote.speaker = _last_person(persons, found, start)
                quote.rule, quote.confidence = (
                    "'he/she said' before the quote: the last person named",
                    0.6,
                )
            elif (
                previous is not None
                and previous.speaker is not None
                and text.rfind("\n\n", 0, start) < previous.start
                and _same_voice(
                    text[previous.end : start - 1].lstrip(",.!?”\"' "), previous.speaker
                )
            ):
                quote.speaker = previous.speaker
                quote.rule, quote.confidence = (
                    "a quote after another in its paragraph: the same speaker",
                    0.7,
                )
            elif (
                previous is not None
                and previous.speaker is not None
                and not before.strip()
                and not after.strip(" .")
            ):
                quote.speaker = previous.speaker
                quote.rule, quote.confidence = (
                    "a paragraph of quote alone: the previous quote's speaker",
                    0.5,
                )
            else:
                quote.rule, quote.confidence = "quoted words, no speaker named", 0.4
        found.append(quote)
        previous = quote
    return found


def _person(persons: list[Person], name: str, start: int, text: str) -> Person:
    for p in persons:
        if p.name == name:
            return p
    # A role in apposition right after the name: "said Omar al-Qalamouni, a media activist".
    m = re.match(
        r",\s+(?:an?|the)\s+([^,.“”\"]{3,90}?)(?=[,.]|\s+who\b|$)", text[start + len(name) :]
    )
    role = _role(m.group(1)) if m else None
    person = Person(name, role, start, start + len(name))
    if m:
        person.role_start = start + len(name) + m.start(1)
        person.role_end = person.role_start + len(role or "")
    persons.append(person)
    return person


def _last_person(persons: list[Person], found: list[QuoteFound], before: int) -> Person | None:
    candidates = [p for p in persons if p.start < before]
    candidates += [q.speaker for q in found if q.speaker is not None and q.start < before]
    return max(candidates, key=lambda p: p.start) if candidates else None
