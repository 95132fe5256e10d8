"""No 500 on any input: extreme dates, integers and nesting are answered with a problem
(4xx), never an error of the server. Property tests (hypothesis) over the query surface and
the report body; the schemathesis run (tests/system/fuzz) covers the rest of the OpenAPI."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reports.test_reports import small_report

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

dates = st.dates(min_value=date.min, max_value=date.max).map(date.isoformat)
# Integers of every size, written as the client would: far past 64 bits, negative, zero.
huge_ints = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 2**31, 2**63, 2**64, 10**23, -(2**63) - 1]),
).map(str)


def _no_server_error(response: Any) -> None:
    assert response.status_code < 500, (response.request.url, response.text[:500])


@EXAMPLES
@given(
    date_from=st.none() | dates,
    date_to=st.none() | dates,
    interval=st.none() | st.sampled_from(["day", "week", "month", "year"]),
    group_by=st.none() | st.sampled_from(["event_type", "country", "admin1", "actor"]),
)
def test_stats_take_any_dates(
    anon_client: TestClient,
    date_from: str | None,
    date_to: str | None,
    interval: str | None,
    group_by: str | None,
) -> None:
    params = {
        k: v
        for k, v in {
            "date_from": date_from,
            "date_to": date_to,
            "interval": interval,
            "group_by": group_by,
        }.items()
        if v is not None
    }
    _no_server_error(anon_client.get("/v1/stats/events", params=params))
    _no_server_error(anon_client.get("/v1/stats/places", params={**params, "level": "country"}))


@EXAMPLES
@given(
    date_from=st.none() | dates,
    date_to=st.none() | dates,
    number=huge_ints,
    name=st.sampled_from(
        ["fatalities_min", "fatalities_max", "limit", "place", "actor", "outlet", "geo_precision"]
    ),
)
def test_event_lists_take_any_dates_and_integers(
    anon_client: TestClient, date_from: str | None, date_to: str | None, number: str, name: str
) -> None:
    params = {name: number}
    if date_from:
        params["date_from"] = date_from
    if date_to:
        params["date_to"] = date_to
    _no_server_error(anon_client.get("/v1/events", params=params))
    _no_server_error(anon_client.get("/v1/events", params={**params, "format": "csv"}))


@EXAMPLES
@given(start=huge_ints.map(int), end=huge_ints.map(int), fatalities=huge_ints.map(int))
def test_reports_take_any_integers(
    client: TestClient, start: int, end: int, fatalities: int
) -> None:
    report = small_report(fatalities={"best": fatalities})
    report["quotes"][0].update(start=start, end=end)
    # Sent as text: the test client's JSON encoder would refuse integers past 64 bits.
    body = json.dumps(report)
    _no_server_error(
        client.post("/v1/reports", content=body, headers={"content-type": "application/json"})
    )


@EXAMPLES
@given(depth=st.integers(min_value=1, max_value=3000), kind=st.sampled_from(["[", "{"]))
def test_reports_take_any_nesting(client: TestClient, depth: int, kind: str) -> None:
    nested = "[" * depth + "]" * depth if kind == "[" else '{"a":' * depth + "1" + "}" * depth
    for body in (nested, '{"article":' + nested + "}", '{"events":[' + nested + "]}"):
        _no_server_error(
            client.post("/v1/reports", content=body, headers={"content-type": "application/json"})
        )


def test_a_deep_chain_of_place_parents_is_a_422(client: TestClient) -> None:
    # 990 parents deep, written out as text (json.dumps itself would recurse too deep).
    chain = "".join(f'{{"name":"p{n}","kind":"populated_place","parent":' for n in range(990))
    place = chain + '{"name":"Syria","kind":"country","country":"SY"}' + "}" * 990
    body = json.dumps(small_report(place={"name": "PLACE"}))
    body = body.replace('{"name": "PLACE"}', place)
    response = client.post(
        "/v1/reports", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
