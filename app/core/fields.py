"""Shared field types of request bodies and query parameters: ids, names, country and
language codes, URLs, ISO dates, text that both databases can store, and the strict base
model of bodies. Each says in the OpenAPI schema what it enforces. A pattern is declared with
the words a refused client reads (``Pattern``); a field whose values are names in a
controlled vocabulary is marked (``Term``) for ``app.vocabulary`` to check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from app.core.normalize import normalize_name, normalize_url

# Every pattern a request value is held to, with the words a client is refused in.
PATTERN_WORDS: Final[dict[str, str]] = {}


@dataclass(frozen=True)
class Pattern:
    """A regular expression a string must match, and what a client whose value does not is
    told instead of the expression: ``Annotated[str, Pattern(r"^[A-Z]{2}$", "a country is
    ...")]``, after the string's other constraints (the words are for the pattern alone).

    The expression stays in the JSON Schema, for the OpenAPI document's readers and the
    fuzzer; the refusal keeps pydantic's type, ``string_pattern_mismatch``.
    """

    regex: str
    says: str

    def __post_init__(self) -> None:
        PATTERN_WORDS[self.regex] = self.says

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        if schema.get("type") == "str":
            return core_schema.no_info_wrap_validator_function(
                self._in_words, {**schema, "pattern": self.regex}
            )
        # A string already through validators of its own (``Text``): the pattern is a step
        # after them, and the schema documents it as for a plain string.
        matching = core_schema.no_info_wrap_validator_function(
            self._in_words, core_schema.str_schema(pattern=self.regex)
        )
        return core_schema.chain_schema(
            [schema, matching], metadata={"pydantic_js_updates": {"pattern": self.regex}}
        )

    def _in_words(self, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if any(e["type"] == "string_pattern_mismatch" for e in exc.errors()):
                raise PydanticCustomError("string_pattern_mismatch", self.says) from None
            raise


@dataclass(frozen=True)
class Term:
    """Marks a query field whose values are names in a controlled vocabulary, one of the
    lookup tables GET /v1/vocabulary lists: ``Annotated[str | None, ACTOR_KIND]``. A value
    not in it is refused (422) naming the nearest names, by ``app.vocabulary.service``, which
    reads the vocabulary from the database."""

    vocabulary: str  # the lookup table
    noun: str  # what the message calls one
    error: str  # the error's type


EVENT_TYPE = Term("event_type", "event type", "unknown_event_type")
SUB_EVENT_TYPE = Term("sub_event_type", "sub-event type", "unknown_sub_event_type")
ACTOR_KIND = Term("actor_kind", "actor kind", "unknown_kind")
PLACE_KIND = Term("place_kind", "place kind", "unknown_kind")
OUTLET_KIND = Term("outlet_kind", "outlet kind", "unknown_kind")
DATE_PRECISION = Term("date_precision", "date precision", "unknown_date_precision")
INTERACTION = Term("interaction_code", "interaction code", "unknown_interaction")


# One scan in C, not a Python loop over the characters of every string of every body.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(value: str) -> str:
    # PostgreSQL cannot store NUL and UTF-8 cannot encode lone surrogates: refuse both up
    # front so the two databases behave the same.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    if not value.isascii() and _SURROGATE.search(value):
        raise ValueError("lone surrogate code points are not allowed")
    return value


def _normal_form_fits(value: str) -> str:
    # Normalisation can lengthen a name ("ß" -> "ss", ligatures decompose); the key column
    # holds 300 characters, so refuse what would not fit rather than fail in the database.
    if len(normalize_name(value)) > 300:
        raise ValueError("the name's normalised form is longer than 300 characters")
    return value


def _url_fits(value: str) -> str:
    host = urlsplit(value).hostname or ""
    if len(host) > 253:
        raise ValueError("the host name is longer than 253 characters")
    if len(normalize_url(value)) > 2048:
        raise ValueError("the normalised URL is longer than 2048 characters")
    return value


# The ISO 3166-1 alpha-2 codes that exist (pycountry's), and XK: Kosovo has no ISO code, and
# the EU's and IMF's user-assigned one is what the dataset importers write for it
# (app/formats/countries.py). A country a filter refuses cannot be written either.
def _country_codes() -> frozenset[str]:
    try:
        import pycountry
    except ImportError:
        # Only where app.client runs with httpx and pydantic alone (the server depends on
        # pycountry): the pattern still holds, and the server checks that the code exists.
        return frozenset()
    return frozenset(country.alpha_2 for country in pycountry.countries) | {"XK"}


COUNTRY_CODES: Final[frozenset[str]] = _country_codes()


def existing_country(value: str) -> str:
    if COUNTRY_CODES and value not in COUNTRY_CODES:
        raise PydanticCustomError(
            "unknown_country", "'{code}' is not an ISO 3166-1 alpha-2 country code", {"code": value}
        )
    return value


def dates_in_order(end: date | None, info: ValidationInfo, start: str) -> date | None:
    """The validator of a range's end (``date_to``): an end before the start (``date_from``)
    is a range nothing is in, refused rather than answered with nothing."""
    begin = info.data.get(start)
    if end is not None and begin is not None and end < begin:
        raise PydanticCustomError(
            "date_order",
            "{end_name} {end} is before {start_name} {start}",
            {
                "end_name": info.field_name,
                "end": str(end),
                "start_name": start,
                "start": str(begin),
            },
        )
    return end


def _iso_date_only(value: object) -> object:
    # Pydantic reads a string of digits as a Unix timestamp; a date here is YYYY-MM-DD.
    if isinstance(value, str):
        if not _ISO_DATE.match(value):
            raise ValueError("dates are written YYYY-MM-DD")
        # Parsed here: after a before-validator the strict date check sees a Python str.
        return date.fromisoformat(value)
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Whitespace spelled out, code point by code point: `\s` means Unicode's White_Space to the
# validator (Rust's regex) but ECMA-262's set to OpenAPI readers, and they differ (U+0085,
# U+FEFF). Listed: what Python's str.isspace() calls space, a superset of what strip removes.
_WS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# The pattern says in the schema what stripping then min_length enforce: not blank (Python
# and the validator disagree on some blanks, U+001C-U+001F: the pattern refuses them).
NOT_BLANK = Pattern(f"[^{_WS}]", "needs a character other than spaces")
# The bidirectional embedding, override and isolate controls: in a name they can make it
# display as another (an actor called "\u202egnippilles" reads as "sellipping"). Article
# bodies and quotes keep them verbatim: they are the source's words.
_BIDI = "\u202a-\u202e\u2066-\u2069"
NAME_TEXT = Pattern(
    f"^[^{_BIDI}]*[^{_WS}{_BIDI}][^{_BIDI}]*$",
    "a name needs a character other than spaces, and no bidirectional control characters "
    "(U+202A to U+202E, U+2066 to U+2069)",
)
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
# Text both databases can store: no NUL (said in the schema too, so a client or a fuzzer
# reading it knows), and no lone surrogate (which JSON Schema cannot say).
NO_NUL = Pattern("^[^\x00]*$", "text cannot hold NUL characters (U+0000)")
Text = Annotated[str, AfterValidator(_storable), NO_NUL]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    NAME_TEXT,
    AfterValidator(_storable),
    AfterValidator(_normal_form_fits),
]


def _has_name_characters(value: str) -> str:
    if not normalize_name(value):
        raise ValueError("a name prefix needs a letter or a digit")
    return value


# The beginning of a name as typed into an autocomplete (``name_prefix=`` of the actors,
# places and outlets lists): spaces kept, since a trailing one ends a word.
NamePrefix = Annotated[
    str,
    StringConstraints(min_length=1, max_length=300),
    AfterValidator(_storable),
    AfterValidator(_has_name_characters),
]
Key = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_storable)]
Country = Annotated[
    str,
    Pattern(
        r"^[A-Z]{2}$", "a country is an ISO 3166-1 alpha-2 code: two capital letters, such as SY"
    ),
    AfterValidator(existing_country),
]
Language = Annotated[
    str,
    StringConstraints(max_length=35),
    Pattern(
        r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        "a language is a BCP 47 tag: two or three lower-case letters, then any subtags after "
        "hyphens, such as en, ar or pt-BR",
    ),
]
Url = Annotated[
    str,
    StringConstraints(max_length=2048),
    Pattern(
        f"^(?i:https?)://[^{_WS}/$.?#][^{_WS}]*$",
        "a URL is http:// or https:// and a host name, with no spaces",
    ),
    AfterValidator(_storable),
    AfterValidator(_url_fits),
]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Strict(BaseModel):
    """Body models: unknown fields are refused and types are not coerced (`true` is no number)."""

    model_config = ConfigDict(extra="forbid", strict=True)
