"""A value that does not match its field's pattern is refused in words, saying what is
expected; the regular expression stays in the OpenAPI document only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem

NEAR = "near needs lat,lon,km: decimal degrees and kilometres, such as 33.8,36.75,25"
BBOX = (
    "bbox needs minlon,minlat,maxlon,maxlat: four decimal numbers of degrees, such as "
    "36.0,33.0,37.5,34.5"
)
EVENTS_COUNTRY = "country is an ISO 3166-1 alpha-2 code: two letters, such as SY"
COUNTRY = "a country is an ISO 3166-1 alpha-2 code: two capital letters, such as SY"
LANGUAGE = (
    "a language is a BCP 47 tag: two or three lower-case letters, then any subtags after "
    "hyphens, such as en, ar or pt-BR"
)
URL = "a URL is http:// or https:// and a host name, with no spaces"
NOT_BLANK = "needs a character other than spaces"
NAME = (
    "a name needs a character other than spaces, and no bidirectional control characters "
    "(U+202A to U+202E, U+2066 to U+2069)"
)


@pytest.mark.parametrize(
    "path, params, loc, msg",
    [
        ("/v1/events", {"near": "33.8,36.75"}, ["query", "near"], NEAR),
        ("/v1/events", {"near": "33.8 36.75 25"}, ["query", "near"], NEAR),
        ("/v1/events", {"bbox": "36,33,37"}, ["query", "bbox"], BBOX),
        ("/v1/events", {"country": "SYR"}, ["query", "country"], EVENTS_COUNTRY),
        ("/v1/stats/events", {"near": "north"}, ["query", "near"], NEAR),
        ("/v1/stats/places", {"bbox": "everywhere"}, ["query", "bbox"], BBOX),
        ("/v1/actors", {"country": "sy"}, ["query", "country"], COUNTRY),
        ("/v1/places", {"country": "Syria"}, ["query", "country"], COUNTRY),
        ("/v1/outlets", {"country": "S1"}, ["query", "country"], COUNTRY),
        ("/v1/events/1", {"reason": " "}, ["query", "reason"], NOT_BLANK),
    ],
)
def test_query_patterns_are_refused_in_words(
    client: TestClient, path: str, params: dict[str, str], loc: list[Any], msg: str
) -> None:
    method = "DELETE" if params.keys() == {"reason"} else "GET"
    response = client.request(method, path, params=params)
    body = assert_problem(response, 422, type_suffix="validation-error")
    assert body["errors"] == [{"loc": loc, "msg": msg, "type": "string_pattern_mismatch"}]
    assert body["detail"] == f"{'.'.join(loc)}: {msg}"


@pytest.mark.parametrize(
    "path, json, loc, msg",
    [
        ("/v1/outlets", {"name": "Wire", "language": "EN"}, ["body", "language"], LANGUAGE),
        ("/v1/outlets", {"name": "Wire", "url": "ftp://wire.example"}, ["body", "url"], URL),
        ("/v1/outlets", {"name": "Wire", "url": "https://wire example"}, ["body", "url"], URL),
        ("/v1/outlets", {"name": "Wire", "country": "sy"}, ["body", "country"], COUNTRY),
        ("/v1/actors", {"name": "\x1c", "kind": "rebel_group"}, ["body", "name"], NAME),
    ],
)
def test_body_patterns_are_refused_in_words(
    client: TestClient, path: str, json: dict[str, Any], loc: list[Any], msg: str
) -> None:
    body = assert_problem(client.post(path, json=json), 422, type_suffix="validation-error")
    assert body["errors"] == [{"loc": loc, "msg": msg, "type": "string_pattern_mismatch"}]


def test_a_report_names_the_field_and_says_the_words(client: TestClient) -> None:
    from tests.reports.test_reports import small_report

    report = small_report()
    report["article"]["language"] = "English"
    report["article"]["outlet"]["url"] = "syriadirect.org"
    body = assert_problem(client.post("/v1/reports", json=report), 422)
    assert body["errors"] == [
        {
            "loc": ["body", "article", "outlet", "url"],
            "msg": URL,
            "type": "string_pattern_mismatch",
        },
        {
            "loc": ["body", "article", "language"],
            "msg": LANGUAGE,
            "type": "string_pattern_mismatch",
        },
    ]


def test_an_api_key_name_of_blanks_only(client: TestClient, admin_key: str) -> None:
    response = client.post(
        "/v1/keys",
        json={"name": "\x1f", "scopes": ["read"]},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {"loc": ["body", "name"], "msg": NOT_BLANK, "type": "string_pattern_mismatch"}
    ]
