"""A table of hostile and malformed requests, and the exact answer each gets, on both databases.

Every row states the status and problem type a client sees. Whatever the row, the answer is
never a 500, never carries a traceback, and a refused request writes nothing. The same table is
rendered into docs/proof.md by ``python -m tests.system.test_bad_inputs``.
"""

from __future__ import annotations

import functools
import itertools
import json
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, select

from app.config import Settings
from app.core.errors import PROBLEM_BASE
from app.db.session import read_session
from app.main import create_app
from app.models import Outlet
from app.reports.schemas import MAX_ACTORS_PER_EVENT, MAX_EVENTS, MAX_QUOTES
from tests.conftest import BACKENDS, PG_TEMPLATE, PostgresServer, demo_report, make_key
from tests.helpers import PROBLEM, row_counts

WRITE, ADMIN, NO_KEY = "write", "admin", "none"
BODY_LIMIT: int = Settings.model_fields["max_body_bytes"].default


_ARTICLE_NUMBERS = itertools.count(1)


def report(**changes: Any) -> dict[str, Any]:
    """A valid report for an article of its own, with changes applied.

    ``changes`` maps a dotted path (``article.title``, ``events.0.fatalities.best``) to the
    value to put there.
    """
    doc: dict[str, Any] = {
        "article": {
            "url": f"https://example.org/bad-inputs/{next(_ARTICLE_NUMBERS)}",
            "title": "Shelling in al-Bab",
            "published_date": "2018-04-17",
            "outlet": {"name": "Example News", "url": "https://example.org"},
            "body": "Shelling hit al-Bab on Monday, residents said. Two people died.",
        },
        "quotes": [{"key": "q1", "text": "Two people died."}],
        "events": [
            {
                "key": "e1",
                "event_type": "Explosions/Remote violence",
                "sub_event_type": "Shelling/artillery/missile attack",
                "date_start": "2018-04-16",
                "place": {
                    "name": "al-Bab",
                    "kind": "populated_place",
                    "parent": {"name": "Syria", "kind": "country", "country": "SY"},
                },
                "fatalities": {"best": 2},
                "actors": [
                    {
                        "actor": {
                            "name": "Military Forces of Syria",
                            "kind": "state_forces",
                            "country": "SY",
                        },
                        "side": "a",
                    }
                ],
                "quotes": ["q1"],
            }
        ],
    }
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return doc


def draft(**changes: Any) -> dict[str, Any]:
    """A POST /v1/drafts body, with ``changes``."""
    return {
        "text": "Shelling killed three people in al-Bab on Sunday, residents said.",
        "published_date": "2018-04-18",
        "outlet": "Example Wire",
        **changes,
    }


def raw(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def nested(depth: int) -> bytes:
    return b'{"article": ' + b"[" * depth + b"]" * depth + b"}"


def many_quotes(n: int) -> dict[str, Any]:
    body = " ".join(f"w{i}." for i in range(n))
    return report(
        **{
            "article.body": body,
            "quotes": [{"key": f"q{i}", "text": f"w{i}."} for i in range(n)],
            "events.0.quotes": [],
        }
    )


def many_events(n: int) -> dict[str, Any]:
    event = report()["events"][0]
    return report(events=[{**event, "key": f"e{i}"} for i in range(n)])


@dataclass
class Row:
    """One hostile request and the answer it must get."""

    label: str
    method: str
    path: str
    status: int
    type: str | None  # the problem type's last segment; None for a success
    json: Any = None
    content: bytes | None = None
    params: Any = None
    headers: dict[str, str | bytes] = field(default_factory=dict)
    auth: str = WRITE
    bug: str | None = None  # a known app bug: the row is xfail(strict=True) until it is fixed
    bug_on: tuple[str, ...] = tuple(BACKENDS)  # the databases showing the bug
    stored: Callable[[Engine], None] | None = None  # for a 2xx write: what must now be stored
    allow: set[str] | None = None  # for a 405: the methods its Allow header must list


def _overlong(field_path: str, limit: int, prefix: str = "") -> Row:
    return Row(
        f"{field_path} one past its max length ({limit:,})",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{field_path: prefix + "x" * (limit + 1 - len(prefix))}),
    )


SQLI = "x' OR '1'='1'; DROP TABLE event; --"
EVENT_TYPES = ["Riots", "Battles", "Protests"]  # short: 3,000 of them fit in a URL
# The longest query value the test client sends (httpx caps a URL component at 64 KiB); a
# real server's request-line limit (h11: 16 KiB by default) refuses longer ones before the app.
LONG_QUERY = "a" * 60_000

ROWS: list[Row] = [
    # -- the body as a whole --------------------------------------------------------------
    Row(
        "JSON sent as text/plain",
        "POST",
        "/v1/reports",
        415,
        "unsupported-media-type",
        content=raw(report()),
        headers={"content-type": "text/plain"},
    ),
    Row(
        "form-encoded body",
        "POST",
        "/v1/reports",
        415,
        "unsupported-media-type",
        content=b"article=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    Row("empty body", "POST", "/v1/reports", 422, "validation-error", content=b""),
    Row("JSON null", "POST", "/v1/reports", 422, "validation-error", content=b"null"),
    Row("JSON array, not an object", "POST", "/v1/reports", 422, "validation-error", json=[]),
    Row("JSON string", "POST", "/v1/reports", 422, "validation-error", json="report"),
    Row("truncated JSON", "POST", "/v1/reports", 400, "malformed-json", content=b'{"article": '),
    Row(
        "a trailing comma",
        "POST",
        "/v1/reports",
        400,
        "malformed-json",
        content=raw(report())[:-1] + b", }",
    ),
    Row(
        "single-quoted JSON in an edit",
        "PATCH",
        "/v1/events/1",
        400,
        "malformed-json",
        content=b"{'fatalities_best': 3}",
        headers={"If-Match": '"event-1-v1"'},
    ),
    Row(
        "JSON nested 10,000 levels deep",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=nested(10_000),
    ),
    Row(
        "invalid UTF-8 in the body",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=raw(report()).replace(b"Shelling in al-Bab", b"Shelling \xff\xfe al-Bab"),
    ),
    Row(
        "UTF-16 encoded body",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=json.dumps(report()).encode("utf-16"),
    ),
    Row(
        "duplicate keys in a JSON object (last one wins, as in JSON.parse)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=raw(report()).replace(b'"best": 2', b'"best": 2, "best": -1'),
    ),
    Row(
        f"body past the {BODY_LIMIT:,}-byte limit",
        "POST",
        "/v1/reports",
        413,
        "payload-too-large",
        content=b" " * (BODY_LIMIT + 1),
    ),
    Row(
        "Content-Length claiming more than the limit",
        "POST",
        "/v1/reports",
        413,
        "payload-too-large",
        content=raw(report()),
        headers={"content-length": str(BODY_LIMIT + 1)},
    ),
    # -- fields the client may not set, and unknown ones -----------------------------------
    Row(
        "unknown top-level field",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json={**report(), "id": 7},
    ),
    Row(
        "internal field (article.id)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"article.id": 1}),
    ),
    Row(
        "internal field (event status)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.status": "retracted"}),
    ),
    # -- numbers ----------------------------------------------------------------------------
    Row(
        "true as a number",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.fatalities.best": True}),
    ),
    Row(
        "a number as a string",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.fatalities.best": "2"}),
    ),
    Row(
        "2.0 for an integer (JSON Schema's `integer` includes it)",
        "POST",
        "/v1/reports",
        201,
        None,
        content=raw(report()).replace(b'"best": 2', b'"best": 2.0'),
    ),
    Row(
        "a float for an integer",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.fatalities.best": 2.5}),
    ),
    Row(
        "1e400 (overflows a double)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=raw(report()).replace(b'"best": 2', b'"best": 1e400'),
    ),
    Row(
        "1e400 as a latitude",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=raw(
            report(**{"events.0.place.latitude": 1.5, "events.0.place.longitude": 2.5})
        ).replace(b"1.5", b"1e400"),
    ),
    Row(
        "NaN as a measure",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=raw(report(**{"events.0.measures": [{"kind": "shells", "value": 1.5}]})).replace(
            b"1.5", b"NaN"
        ),
    ),
    Row(
        "2**63 as an id",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"article.outlet": {"id": 2**63}}),
    ),
    Row(
        "10**400 as an id",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=raw(report(**{"article.outlet": {"id": 1}})).replace(
            b'{"id": 1}', b'{"id": 1' + b"0" * 400 + b"}"
        ),
    ),
    Row(
        "negative fatalities",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.fatalities.best": -1}),
    ),
    # -- dates ------------------------------------------------------------------------------
    Row(
        "0 as a date",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.date_start": 0}),
    ),
    Row(
        '"0" as a date',
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"article.published_date": "0"}),
    ),
    Row(
        "a datetime for a date",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.date_start": "2018-04-16T00:00:00"}),
    ),
    Row(
        "February 30th",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.date_start": "2018-02-30"}),
    ),
    Row(
        "datetime without an offset (key expiry)",
        "POST",
        "/v1/keys",
        422,
        "validation-error",
        json={"name": "k", "scopes": ["read"], "expires_at": "2099-01-01T00:00:00"},
        auth=ADMIN,
    ),
    Row(
        "0 as a datetime (key expiry)",
        "POST",
        "/v1/keys",
        422,
        "validation-error",
        json={"name": "k", "scopes": ["read"], "expires_at": 0},
        auth=ADMIN,
    ),
    Row(
        "0 as a date in a query",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"date_from": "0"},
    ),
    Row(
        "0 as a date in a query (articles)",
        "GET",
        "/v1/articles",
        422,
        "validation-error",
        params={"published_to": "0"},
    ),
    Row(
        "date_from after date_to",
        "GET",
        "/v1/stats/events",
        422,
        "validation-error",
        params={"date_from": "2018-05-01", "date_to": "2018-04-30"},
    ),
    # -- filter values no row could match, and values missing their format -------------------
    Row(
        "an event type outside the vocabulary",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"event_type": "Battle"},
    ),
    Row(
        "an actor kind outside the vocabulary",
        "GET",
        "/v1/actors",
        422,
        "validation-error",
        params={"kind": "rebels"},
    ),
    Row(
        "a country code that does not exist",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"country": "XX", "format": "csv"},
    ),
    Row(
        "a country code that does not exist, in a body",
        "POST",
        "/v1/outlets",
        422,
        "validation-error",
        json={"name": "Wire", "country": "XX"},
    ),
    Row(
        "near without its distance",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"near": "33.8,36.75"},
    ),
    # -- strings the databases cannot store alike --------------------------------------------
    Row(
        "NUL in a title",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"article.title": "Shelling\x00"}),
    ),
    Row(
        "NUL in a name",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.place.name": "al-\x00Bab"}),
    ),
    Row(
        "lone surrogate in a title",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=raw(report()).replace(b"Shelling in al-Bab", b"Shelling \\ud800 al-Bab"),
    ),
    Row(
        "lone surrogate in a quote",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        content=raw(report()).replace(b"Two people died.", b"Two people died\\udfff"),
    ),
    Row(
        "NUL in an API key's name",
        "POST",
        "/v1/keys",
        422,
        "validation-error",
        json={"name": "importer\x00", "scopes": ["read"]},
        auth=ADMIN,
    ),
    Row(
        "lone surrogate in an API key's name",
        "POST",
        "/v1/keys",
        422,
        "validation-error",
        content=b'{"name": "importer\\ud800", "scopes": ["read"]}',
        headers={"content-type": "application/json"},
        auth=ADMIN,
    ),
    Row(
        "a name of spaces only",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.place.name": "   "}),
    ),
    Row(
        "U+0085 (next line) in a URL",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"article.url": "http://\u0085example.org/"}),
    ),
    # -- every max_length, one past it -------------------------------------------------------
    _overlong("article.title", 2000),
    _overlong("article.dateline", 200),
    _overlong("article.byline", 500),
    _overlong("article.body", 1_000_000),
    _overlong("article.url", 2048, prefix="https://example.org/"),
    _overlong("article.outlet.name", 300),
    _overlong("events.0.place.name", 300),
    _overlong("events.0.summary", 20_000),
    _overlong("events.0.external_id", 200),
    _overlong("events.0.key", 100),
    _overlong("quotes.0.key", 100),
    Row(
        "quote text one past its max length (100,000)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"quotes.0.text": "x" * 100_001}),
    ),
    Row(
        "speaker role one past its max length (300)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"quotes.0.speaker": {"name": "A", "role": "x" * 301}}),
    ),
    Row(
        "measure qualifier one past its max length (100)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.measures": [{"kind": "shells", "qualifier": "x" * 101}]}),
    ),
    Row(
        "API key name one past its column's length (200)",
        "POST",
        "/v1/keys",
        422,
        "validation-error",
        json={"name": "x" * 201, "scopes": ["read"]},
        auth=ADMIN,
    ),
    Row(
        "API key name one past its max length (300)",
        "POST",
        "/v1/keys",
        422,
        "validation-error",
        json={"name": "x" * 301, "scopes": ["read"]},
        auth=ADMIN,
    ),
    Row(
        "measure kind one past its column's length (200)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.measures": [{"kind": "k" * 201}]}),
    ),
    Row(
        "a 38-character language tag (RFC 5646 buffers, and the columns, hold 35)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"article.language": "en-" + "-".join(["abcdefgh"] * 4)}),
    ),
    Row(
        "a 38-character outlet language tag",
        "POST",
        "/v1/outlets",
        422,
        "validation-error",
        json={"name": "Long Tag News", "language": "en-" + "-".join(["abcdefgh"] * 4)},
    ),
    Row(
        "a 300-character host name in an outlet URL (DNS allows 253)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(
            **{"article.outlet": {"name": "Long Host", "url": f"https://{'a' * 300}.org/"}}
        ),
    ),
    # Normalised forms can outgrow the input ("ß" case-folds to "ss"; U+FDFA decomposes to 18
    # characters; "é" percent-encodes to 6): what would not fit its key column is refused.
    Row(
        "a 200-character name of 'ß' (case-folds to 400 characters)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.place.name": "\u00df" * 200}),
    ),
    Row(
        "a 20-character name of U+FDFA (decomposes to 360 characters)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.actors.0.actor.name": "\ufdfa" * 20}),
    ),
    Row(
        "a URL whose query has 1,000 'é' (percent-encodes to 6,000 characters)",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"article.url": "https://example.org/x?q=" + "\u00e9" * 1000}),
    ),
    # -- array limits -------------------------------------------------------------------------
    Row(
        f"{MAX_QUOTES + 1} quotes",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=many_quotes(MAX_QUOTES + 1),
    ),
    Row(
        f"{MAX_EVENTS + 1} events",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=many_events(MAX_EVENTS + 1),
    ),
    Row(
        f"{MAX_ACTORS_PER_EVENT + 1} actors on one event",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(
            **{
                "events.0.actors": [
                    {"actor": {"name": f"Group {i}", "kind": "rebel_group"}}
                    for i in range(MAX_ACTORS_PER_EVENT + 1)
                ]
            }
        ),
    ),
    Row(
        "51 aliases on one actor",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(**{"events.0.actors.0.actor.aliases": [f"alias {i}" for i in range(51)]}),
    ),
    # -- ids in paths ---------------------------------------------------------------------------
    *[
        Row(
            f"{shown} as an id in a path",
            "GET",
            f"/v1/{resource}/{segment}",
            422,
            "validation-error",
        )
        for resource in ("events", "articles", "quotes", "outlets", "actors", "places")
        for segment, shown in (("0", "0"), ("-1", "-1"), (str(2**63), "2**63"))
    ],
    Row("a word as an id in a path", "GET", "/v1/events/abc", 422, "validation-error"),
    *[
        Row(
            f"{segment!r} as an id in a path",
            "GET",
            f"/v1/events/{segment}",
            422,
            "validation-error",
        )
        for segment in ("1.0", "+1", "01", "1_0")
    ],
    Row("1e3 as an id in a path", "GET", "/v1/events/1e3", 422, "validation-error"),
    Row("an unknown id", "GET", "/v1/events/2147483647", 404, "not-found"),
    Row("0 as a key id", "DELETE", "/v1/keys/0", 422, "validation-error", auth=ADMIN),
    Row("path traversal in an id", "GET", "/v1/events/..%2F..%2Fetc%2Fpasswd", 404, "not-found"),
    Row("encoded dot segments in an id", "GET", "/v1/events/%2e%2e", 422, "validation-error"),
    Row("NUL in a path", "GET", "/v1/events/1%00", 422, "validation-error"),
    # -- query parameters ------------------------------------------------------------------------
    Row(
        "unknown query parameter on a list",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"evil": "1"},
    ),
    Row(
        "unknown query parameter on a detail",
        "GET",
        "/v1/events/1",
        422,
        "validation-error",
        params={"expand": "all"},
    ),
    Row(
        "unknown query parameter on the vocabulary",
        "GET",
        "/v1/vocabulary",
        422,
        "validation-error",
        params={"x": "1"},
    ),
    Row("limit 0", "GET", "/v1/events", 422, "validation-error", params={"limit": "0"}),
    Row(
        "limit past the page limit",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"limit": "1001"},
    ),
    Row("limit 2**63", "GET", "/v1/events", 422, "validation-error", params={"limit": str(2**63)}),
    Row("limit true", "GET", "/v1/events", 422, "validation-error", params={"limit": "true"}),
    Row(
        "forged cursor",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"cursor": "eyJ4IjoxfQ"},
    ),
    Row("SQL in a cursor", "GET", "/v1/events", 422, "validation-error", params={"cursor": SQLI}),
    Row(
        "SQL as a sort key",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"sort": "id; DROP TABLE event"},
    ),
    # Issue 12: reproducible reads out of range.
    Row(
        "as_of: a version that does not exist yet",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"as_of": str(2**40)},
    ),
    Row(
        "as_of: a time before the first write",
        "GET",
        "/v1/stats/events",
        422,
        "validation-error",
        params={"as_of": "1970-01-01T00:00:00Z"},
    ),
    Row("as_of: SQL", "GET", "/v1/events/1", 422, "validation-error", params={"as_of": SQLI}),
    Row(
        "diff with from after to",
        "GET",
        "/v1/events/diff",
        422,
        "validation-error",
        params={"from": "2", "to": "1"},
    ),
    Row("SQL in a name filter", "GET", "/v1/actors", 200, None, params={"name": SQLI}),
    # Refused as a term outside the vocabulary, before any SQL (the name filter's row above
    # still takes such text to the database).
    Row(
        "SQL in an event-type filter",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        params={"event_type": SQLI},
    ),
    Row(
        "SQL in a country filter",
        "GET",
        "/v1/places",
        422,
        "validation-error",
        params={"country": SQLI},
    ),
    Row(
        "60,000-character name filter",
        "GET",
        "/v1/actors",
        422,
        "validation-error",
        params={"name": LONG_QUERY},
    ),
    Row(
        "3,000 repeated event_type parameters",
        "GET",
        "/v1/events",
        200,
        None,
        # Known types (unknown ones are refused before any SQL), in a country without events:
        # the 3,000 values reach the database, and nothing matches.
        params=[("event_type", EVENT_TYPES[i % len(EVENT_TYPES)]) for i in range(3_000)]
        + [("country", "FR")],
    ),
    *[
        Row(
            f"NUL in the {name!r} query parameter of {path}",
            "GET",
            path,
            422,
            "validation-error",
            params={name: "a\x00b"},
        )
        for path, name in (
            ("/v1/outlets", "kind"),
            ("/v1/outlets", "name"),
            ("/v1/actors", "name"),
            ("/v1/actors", "kind"),
            ("/v1/places", "name"),
            ("/v1/places", "kind"),
            ("/v1/events", "event_type"),
        )
    ],
    Row("NUL in a cursor", "GET", "/v1/events", 422, "validation-error", params={"cursor": "\x00"}),
    # Starlette decodes undecodable query bytes to U+FFFD, which is storable and matches
    # nothing: a harmless empty page rather than a 422.
    Row(
        "invalid UTF-8 in a query parameter (read as U+FFFD)",
        "GET",
        "/v1/actors?name=%FF%FE",
        200,
        None,
    ),
    Row(
        "lone surrogate, as UTF-8 bytes, in a query parameter (read as U+FFFD)",
        "GET",
        "/v1/actors?name=%ED%A0%80",
        200,
        None,
    ),
    # -- a write whose text looks like SQL is stored as text ----------------------------------
    Row(
        "SQL in names and text of a report",
        "POST",
        "/v1/reports",
        201,
        None,
        json=report(
            **{
                "article.url": "https://example.org/news/1'--",
                "article.title": SQLI,
                "article.outlet.name": "Robert'); DROP TABLE article;--",
                "events.0.place.name": SQLI,
                "events.0.summary": "'; DELETE FROM event WHERE '1'='1",
            }
        ),
        stored=lambda engine: _assert_stored(
            engine, Outlet.name, "Robert'); DROP TABLE article;--"
        ),
    ),
    # -- credentials -----------------------------------------------------------------------------
    Row(
        "no key on a write", "POST", "/v1/reports", 401, "unauthorized", json=report(), auth=NO_KEY
    ),
    Row(
        "Basic credentials",
        "POST",
        "/v1/reports",
        401,
        "unauthorized",
        json=report(),
        auth=NO_KEY,
        headers={"authorization": "Basic dXNlcjpwYXNz"},
    ),
    Row(
        "Bearer without a key",
        "POST",
        "/v1/reports",
        401,
        "unauthorized",
        json=report(),
        auth=NO_KEY,
        headers={"authorization": "Bearer "},
    ),
    Row(
        "an unknown key",
        "POST",
        "/v1/reports",
        401,
        "unauthorized",
        json=report(),
        auth=NO_KEY,
        headers={"authorization": "Bearer cdb_00000000_" + "A" * 32},
    ),
    Row(
        "SQL as a key",
        "POST",
        "/v1/reports",
        401,
        "unauthorized",
        json=report(),
        auth=NO_KEY,
        headers={"authorization": f"Bearer {SQLI}"},
    ),
    Row(
        "an unknown X-API-Key",
        "POST",
        "/v1/reports",
        401,
        "unauthorized",
        json=report(),
        auth=NO_KEY,
        headers={"x-api-key": "nope"},
    ),
    Row(
        "a 100,000-character key",
        "GET",
        "/v1/events",
        401,
        "unauthorized",
        auth=NO_KEY,
        headers={"authorization": "Bearer " + "k" * 100_000},
    ),
    Row(
        "a write key on key management",
        "POST",
        "/v1/keys",
        403,
        "forbidden",
        json={"name": "k", "scopes": ["admin"]},
    ),
    Row(
        "a key in the query string",
        "GET",
        "/v1/events",
        422,
        "validation-error",
        auth=NO_KEY,
        params={"api_key": "cdb_00000000_x"},
    ),
    Row(
        "a key with non-ASCII bytes",
        "GET",
        "/v1/events",
        401,
        "unauthorized",
        auth=NO_KEY,
        headers={"authorization": "Bearer cl\u00e9".encode("latin-1")},
    ),
    # -- Idempotency-Key ------------------------------------------------------------------------
    Row(
        "an empty Idempotency-Key",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(),
        headers={"idempotency-key": ""},
    ),
    Row(
        "a 256-character Idempotency-Key",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(),
        headers={"idempotency-key": "k" * 256},
    ),
    Row(
        "an Idempotency-Key with spaces and non-ASCII",
        "POST",
        "/v1/reports",
        422,
        "validation-error",
        json=report(),
        headers={"idempotency-key": "a b \u00e9".encode("latin-1")},
    ),
    Row(
        "SQL as an Idempotency-Key",
        "POST",
        "/v1/reports",
        201,
        None,
        json=report(),
        headers={"idempotency-key": "x'OR'1'='1';DROP-TABLE-idempotency_key;--"},
    ),
    # -- edits: If-Match -------------------------------------------------------------------------
    Row(
        "PATCH without If-Match",
        "PATCH",
        "/v1/events/1",
        428,
        "precondition-required",
        json={"summary": "x"},
    ),
    Row(
        "PATCH with an empty If-Match",
        "PATCH",
        "/v1/events/1",
        428,
        "precondition-required",
        json={"summary": "x"},
        headers={"if-match": ""},
    ),
    Row(
        "PATCH with If-Match: * (the resource's own ETag is required)",
        "PATCH",
        "/v1/events/1",
        428,
        "precondition-required",
        json={"summary": "x"},
        headers={"if-match": "*"},
    ),
    Row(
        "PATCH with a stale If-Match",
        "PATCH",
        "/v1/events/1",
        412,
        "precondition-failed",
        json={"summary": "x"},
        headers={"if-match": '"event-1-v0"'},
    ),
    # This route validates the content before the precondition (RFC 9110 13.2.1 allows
    # either order; POST /v1/actors/{id}/aliases answers 412 first).
    Row(
        "PATCH with an unknown field and a stale If-Match",
        "PATCH",
        "/v1/events/1",
        422,
        "validation-error",
        json={"status": "retracted"},
        headers={"if-match": '"x"'},
    ),
    Row(
        "PATCH with a JSON array",
        "PATCH",
        "/v1/events/1",
        422,
        "validation-error",
        json=[],
        headers={"if-match": '"event-1-v1"'},
    ),
    Row(
        "PATCH with SQL as the If-Match (not an entity tag)",
        "PATCH",
        "/v1/events/1",
        422,
        "validation-error",
        json={"summary": "x"},
        headers={"if-match": SQLI},
    ),
    # -- drafts (POST /v1/drafts: reads only, so a refusal and an answer both write nothing) ----
    Row(
        "a draft of an empty text",
        "POST",
        "/v1/drafts",
        422,
        "validation-error",
        json=draft(text=""),
    ),
    Row(
        "a draft of whitespace only",
        "POST",
        "/v1/drafts",
        422,
        "validation-error",
        json=draft(text=" \n\t\u00a0 "),
    ),
    Row(
        f"a draft text past the {BODY_LIMIT:,}-byte body limit",
        "POST",
        "/v1/drafts",
        413,
        "payload-too-large",
        json=draft(text="x" * BODY_LIMIT),
    ),
    Row(
        "a draft published on 30 February",
        "POST",
        "/v1/drafts",
        422,
        "validation-error",
        json=draft(published_date="2018-02-30"),
    ),
    Row(
        "a draft published 'last Sunday' (not a date)",
        "POST",
        "/v1/drafts",
        422,
        "validation-error",
        json=draft(published_date="last Sunday"),
    ),
    Row(
        "a draft whose outlet has no name",
        "POST",
        "/v1/drafts",
        422,
        "validation-error",
        json=draft(outlet="  "),
    ),
    Row(
        "a draft whose outlet id does not exist",
        "POST",
        "/v1/drafts",
        422,
        "validation-error",
        json=draft(outlet={"id": 999_999}),
    ),
    Row(
        "a draft without a key",
        "POST",
        "/v1/drafts",
        401,
        "unauthorized",
        json=draft(),
        auth=NO_KEY,
    ),
    # -- methods ----------------------------------------------------------------------------------
    Row("PUT on a collection", "PUT", "/v1/events", 405, "method-not-allowed", json={}),
    Row(
        "PUT on an event: Allow lists every method of the path",
        "PUT",
        "/v1/events/1",
        405,
        "method-not-allowed",
        json={},
        allow={"GET", "PATCH", "DELETE"},
    ),
    Row("DELETE on reports", "DELETE", "/v1/reports", 405, "method-not-allowed"),
    *(
        Row(
            f"{method} on the diff (a path that also fits /v1/events/{{id}}): Allow names GET",
            method,
            "/v1/events/diff",
            405,
            "method-not-allowed",
            allow={"GET"},
        )
        for method in ("PATCH", "DELETE", "PUT", "POST")
    ),
    Row("an unknown path", "GET", "/v1/../../etc/passwd", 404, "not-found"),
    # -- issue 12: dataset codes, coarse dates, names where ids are asked, dashboards' stats
    *(
        Row(label, "GET", path, 422, "validation-error", params=params)
        for label, path, params in [
            ("a dataset scheme that does not exist", "/v1/events", {"dimension": "ucdp.x:1"}),
            ("a code outside its scheme", "/v1/events", {"dimension": "ucdp.type_of_violence:9"}),
            ("a dimension without its scheme", "/v1/events", {"dimension": "2"}),
            ("an interaction code that does not exist", "/v1/events", {"interaction": "99"}),
            ("a date precision that does not exist", "/v1/events", {"date_precision": "decade"}),
            ("an actor name nobody has", "/v1/events", {"actor": "Nobody At All"}),
            ("1,001 ids", "/v1/events", {"id": ",".join(map(str, range(1, 1002)))}),
            ("a scheme unknown to group_by", "/v1/stats/events", {"group_by": "acled.x"}),
            ("spread without an interval", "/v1/stats/events", {"spread": "true"}),
            ("a sort by a metric not asked for", "/v1/stats/events", {"sort": "-deaths_a"}),
            ("SQL as a sort of stats", "/v1/stats/events", {"sort": SQLI}),
            (
                "a dimension code outside its scheme on the feed",
                "/v1/changes",
                {"dimension": "acled.civilian_targeting:maybe"},
            ),
        ]
    ),
]


@dataclass
class Served:
    client: TestClient  # sends the write key unless a row says otherwise
    engine: Engine
    admin_key: str


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One database per backend for the whole table, holding the demo report.

    Shared rather than fresh per row (which would add minutes to the suite): every row checks
    that it wrote nothing, and the few rows that do write use an article URL of their own.
    """
    drop: Callable[[], None] | None = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("bad-inputs") / "bad-inputs.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        request.getfixturevalue("pg_template")
        name = f"bad_inputs_{uuid.uuid4().hex[:12]}"
        url = server.create(name, template=PG_TEMPLATE)
        drop = functools.partial(server.drop, name)
    try:
        settings = Settings(
            database_url=url,
            environment="test",
            demo=False,
            migrate_on_start=False,
            rate_limit_per_minute=0,
        )
        write_key = make_key(url, ["write"], name="bad-inputs-write")
        admin_key = make_key(url, ["admin"], name="bad-inputs-admin")
        app = create_app(settings)
        with TestClient(app, headers={"Authorization": f"Bearer {write_key}"}) as client:
            assert client.post("/v1/reports", json=demo_report()).status_code == 201
            yield Served(client, app.state.engine, admin_key)
    finally:
        if drop is not None:
            drop()


def _send(served: Served, row: Row) -> Response:
    client = served.client
    # As bytes: some rows send header values that are not ASCII.
    headers = {
        name.encode(): value if isinstance(value, bytes) else value.encode()
        for name, value in row.headers.items()
    }
    if row.content is not None:
        # Raw bodies are JSON unless the row says otherwise.
        headers.setdefault(b"content-type", b"application/json")
    if row.auth == ADMIN:
        headers[b"authorization"] = f"Bearer {served.admin_key}".encode()
    elif row.auth == NO_KEY:
        client = TestClient(client.app)  # the same app, without the default key
    return client.request(
        row.method,
        row.path,
        json=row.json,
        content=row.content,
        params=row.params,
        headers=headers,
    )


def _param(row: Row) -> Any:
    return pytest.param(row, id=row.label)


@pytest.mark.slow
@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_bad_input(row: Row, served: Served, request: pytest.FixtureRequest) -> None:
    if row.bug and request.node.callspec.params["served"] in row.bug_on:
        request.applymarker(pytest.mark.xfail(reason=row.bug, strict=True))
    engine = served.engine
    before = row_counts(engine)
    response = _send(served, row)

    assert response.status_code != 500, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert response.status_code == row.status, response.text[:1000]
    if row.type is None:
        _assert_success(row, response, engine, before)
        return
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem = response.json()
    assert problem["type"] == PROBLEM_BASE + row.type, problem
    assert problem["status"] == row.status
    if row.allow is not None:
        assert set(response.headers["allow"].replace(" ", "").split(",")) == row.allow
    # A refused request writes nothing.
    assert row_counts(engine) == before


def _assert_success(row: Row, response: Any, engine: Engine, before: dict[str, int]) -> None:
    after = row_counts(engine)
    if row.method == "GET":
        assert response.json()["data"] == []
        assert after == before
        return
    # A write that looks like SQL is stored as text: nothing else is touched.
    assert all(after[t] >= n for t, n in before.items()), (before, after)
    if row.stored is not None:
        row.stored(engine)


def _assert_stored(engine: Engine, column: Any, value: str) -> None:
    with read_session(engine) as session:
        assert session.execute(select(column).where(column == value)).first() is not None


def render_markdown() -> str:
    """The table as Markdown, for docs/proof.md."""
    lines = [
        "| Input | Request | Status | Problem type |",
        "|---|---|---|---|",
    ]
    for row in ROWS:
        problem = f"`{row.type}`" if row.type else "—"
        status = str(row.status)
        if row.bug:
            status += " (open bug)"
        lines.append(f"| {row.label} | `{row.method} {row.path}` | {status} | {problem} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_markdown() + "\n")
