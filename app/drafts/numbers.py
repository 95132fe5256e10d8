"""Numbers as news writes them: digits ("136,000"), words ("seventy", "Two Hundred",
"twenty-one"), and vague quantities read as ranges ("dozens": 24 to 99). A small table, tested
against the words that occur; a parser library would bring more than this needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from app.drafts.text import Token

_UNITS: Final[dict[str, int]] = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS: Final[dict[str, int]] = {
    w: 10 * i
    for i, w in enumerate(
        ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    )
    if w != "_"
}
_SCALES: Final[dict[str, int]] = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
# Vague quantities: (low, high). "a dozen" is twelve; "dozens" at least two dozen.
VAGUE: Final[dict[str, tuple[int, int]]] = {
    "dozens": (24, 99),
    "scores": (40, 99),
    "tens": (20, 99),
    "hundreds": (200, 999),
    "thousands": (2000, 9999),
}
# Words before a number that qualify it, as the report's measures keep them.
QUALIFIERS: Final[tuple[tuple[str, ...], ...]] = (
    ("at", "least"),
    ("more", "than"),
    ("fewer", "than"),
    ("less", "than"),
    ("up", "to"),
    ("an", "estimated"),
    ("over",),
    ("nearly",),
    ("almost",),
    ("about",),
    ("around",),
    ("approximately",),
    ("roughly",),
    ("some",),
    ("above",),
)
_DIGITS = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")


@dataclass(frozen=True)
class Quantity:
    value: int | None  # the number, or None for a vague quantity
    low: int | None
    high: int | None
    start: int  # token index of the first token (qualifier included)
    end: int  # token index after the last
    qualifier: str | None
    words: str  # the number as written


def word_value(word: str) -> int | None:
    w = word.lower()
    if _DIGITS.match(w):
        return int(w.replace(",", ""))
    if w in _UNITS:
        return _UNITS[w]
    if w in _TENS:
        return _TENS[w]
    if "-" in w:
        tens, _, unit = w.partition("-")
        if tens in _TENS and unit in _UNITS and 0 < _UNITS[unit] < 10:
            return _TENS[tens] + _UNITS[unit]
    return None


def quantity_at(tokens: list[Token], i: int) -> Quantity | None:
    """The quantity starting at token ``i`` (a qualifier, then a number), or None."""
    start = i
    qualifier: list[str] = []
    for words in QUALIFIERS:
        if [t.lower for t in tokens[i : i + len(words)]] == list(words):
            qualifier = [t.text for t in tokens[i : i + len(words)]]
            i += len(words)
            break
    if i >= len(tokens):
        return None
    word = tokens[i].lower
    qual = " ".join(qualifier).lower() or None
    if word in VAGUE:
        low, high = VAGUE[word]
        end = i + 1
        if end < len(tokens) and tokens[end].lower == "of":
            end += 1
        return Quantity(None, low, high, start, end, qual, tokens[i].text)
    if word in ("a", "one") and i + 1 < len(tokens) and tokens[i + 1].lower == "dozen":
        return Quantity(12, None, None, start, i + 2, qual, "a dozen")
    if word == "dozen":
        return Quantity(12, None, None, start, i + 1, qual, "dozen")
    total, current, j = 0, None, i
    while j < len(tokens):
        w = tokens[j].lower
        value = word_value(w)
        if value is not None and (current is None or (value < 100 and current % 100 == 0)):
            current = value if current is None else current + value
            j += 1
            if _DIGITS.match(w):
                # Digits then a scale word ("4 lakh", "2 million"): a scale of digits.
                if j < len(tokens) and tokens[j].lower in _SCALES:
                    current *= _SCALES[tokens[j].lower]
                    j += 1
                break
            continue
        if w in _SCALES and current is not None:
            current *= _SCALES[w]
            if _SCALES[w] >= 1000:
                total, current = total + current, 0
            j += 1
            continue
        if w == "and" and current is not None and j + 1 < len(tokens):
            nxt = word_value(tokens[j + 1].lower)
            if nxt is not None and nxt < 100 and not _DIGITS.match(tokens[j + 1].lower):
                j += 1
                continue
        break
    if current is None and total == 0:
        return None
    value = total + (current or 0)
    written = " ".join(t.text for t in tokens[i:j])
    return Quantity(value, None, None, start, j, qual, written)
