"""A news text cut into what the extractors read: paragraphs, sentences and word tokens, each
with its span (code-point offsets into the text), and a guess at the text's language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Final


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


@dataclass
class Sentence:
    index: int
    start: int
    end: int
    text: str
    paragraph: int
    tokens: list[Token]


# Words with their hyphens and apostrophes ("al-Ruheibah", "rebels’"), numbers with their
# separators ("136,000", "19/7/2012"), and any other character alone.
_TOKEN = re.compile(r"\d+(?:[.,/:]\d+)*(?:st|nd|rd|th)?|#?\w+(?:[-‐‑'’]\w+)*|\S", re.UNICODE)
_ABBREVIATIONS: Final = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "gen",
        "lt",
        "col",
        "maj",
        "capt",
        "sgt",
        "st",
        "no",
        "vs",
        "etc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.n",
        "e.g",
        "i.e",
        "approx",
        "gov",
        "sen",
        "rep",
        "brig",
        "cpl",
        "pte",
    ]
)
_CLOSERS = "\"'”’»)]"


def tokenize(text: str, offset: int = 0) -> list[Token]:
    return [Token(m.group(), m.start() + offset, m.end() + offset) for m in _TOKEN.finditer(text)]


def split_sentences(text: str) -> list[Sentence]:
    """Sentences: a line break always ends one (paragraphs, and headlines one a line); within
    a line, a full stop, question or exclamation mark does, with its closing quote, before a
    space and a capital or an opening quote, unless it ends an abbreviation ("Gen.")."""
    sentences: list[Sentence] = []
    paragraph = 0
    for line in re.finditer(r"[^\n]+", text):
        chunk = line.group()
        if not chunk.strip():
            continue
        if line.start() > 0 and "\n\n" in text[max(0, line.start() - 3) : line.start()]:
            paragraph += 1
        begin = 0
        for m in re.finditer(r"[.!?]+[" + re.escape(_CLOSERS) + r"]*(?=\s+[\"“‘'(A-Z0-9])", chunk):
            before = re.search(r"(\S+)$", chunk[: m.start()])
            word = before.group(1).lower().strip(".") if before else ""
            if m.group().startswith(".") and (
                word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())
            ):
                continue
            _add(sentences, chunk, begin, m.end(), line.start(), paragraph)
            begin = m.end()
        _add(sentences, chunk, begin, len(chunk), line.start(), paragraph)
    return sentences


def _add(out: list[Sentence], chunk: str, begin: int, end: int, base: int, paragraph: int) -> None:
    piece = chunk[begin:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    start = base + begin + lead
    out.append(
        Sentence(
            index=len(out),
            start=start,
            end=start + len(stripped),
            text=stripped,
            paragraph=paragraph,
            tokens=tokenize(stripped, start),
        )
    )


# Function words of the languages news in the test corpus comes in: the most frequent tell
# the language of a text of a few words already.
_FUNCTION_WORDS: Final[dict[str, frozenset[str]]] = {
    "en": frozenset(
        [
            "the",
            "of",
            "and",
            "in",
            "to",
            "a",
            "is",
            "was",
            "were",
            "are",
            "said",
            "on",
            "by",
            "for",
            "with",
            "from",
            "at",
            "as",
            "that",
            "has",
            "have",
            "been",
            "after",
            "killed",
            "their",
            "they",
            "this",
            "it",
            "who",
            "which",
            "an",
            "or",
            "not",
            "but",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "des",
            "du",
            "de",
            "et",
            "une",
            "un",
            "est",
            "dans",
            "pour",
            "sur",
            "par",
            "au",
            "aux",
            "à",
            "qui",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "del",
            "de",
            "y",
            "en",
            "por",
            "con",
            "para",
            "una",
            "un",
            "es",
            "que",
            "se",
            "al",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "do",
            "da",
            "dos",
            "das",
            "de",
            "e",
            "em",
            "no",
            "na",
            "por",
            "com",
            "para",
            "um",
            "uma",
            "é",
            "que",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "im",
            "den",
            "dem",
            "von",
            "mit",
            "zu",
            "ein",
            "eine",
            "nicht",
            "auf",
        ]
    ),
}


@dataclass
class Language:
    code: str  # an ISO 639-1 code, or "und" when the words tell nothing
    english: bool
    why: str


def detect_language(text: str) -> Language:
    letters = [ch for ch in text if ch.isalpha()]
    if letters:
        latin = sum(1 for ch in letters if ch < "\u0250" or "\u1e00" <= ch <= "\u1eff")
        if latin < 0.5 * len(letters):
            return Language("und", False, "most letters are not in the Latin script")
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", text)]
    scores = {
        lang: sum(1 for w in words if w in vocabulary)
        for lang, vocabulary in _FUNCTION_WORDS.items()
    }
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    if scores[best] == 0:
        return Language("und", True, "no function words to tell the language by: read as English")
    if best == "en" or scores["en"] >= scores[best]:
        return Language("en", True, f"{scores['en']} English function words")
    return Language(
        best,
        False,
        f"{scores[best]} function words of '{best}' against {scores['en']} of English",
    )


class Text:
    """The text and its sentences, read once."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def sentences(self) -> list[Sentence]:
        return split_sentences(self.text)

    def sentence_at(self, offset: int) -> Sentence | None:
        for sentence in self.sentences:
            if sentence.start <= offset < sentence.end:
                return sentence
        return None
