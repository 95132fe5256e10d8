"""Names refuse bidirectional control characters (a name that displays as another); article
bodies and quotes keep them, verbatim: they are the source's words."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem
from tests.reports.test_reports import small_report

CONTROLS = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]


@pytest.mark.parametrize("control", CONTROLS)
def test_names_refuse_bidi_controls(client: TestClient, control: str) -> None:
    name = f"Brigade {control}edalgirB"
    for report in (
        small_report(actors=[{"actor": {"name": name, "kind": "rebel_group"}, "side": "a"}]),
        small_report(place={"name": name, "kind": "populated_place"}),
        small_report(outlet={"name": name}),
    ):
        body = assert_problem(client.post("/v1/reports", json=report), 422)
        assert "bidirectional control" in body["detail"]
    speaker = small_report()
    speaker["quotes"][0]["speaker"] = {"name": name}
    assert_problem(client.post("/v1/reports", json=speaker), 422)


def test_bodies_and_quotes_keep_them(client: TestClient) -> None:
    text = "\u202bقال المتحدث\u202c: Two people died."
    report = small_report(body=f"Shelling hit al-Bab. {text}")
    report["quotes"][0]["text"] = text
    response = client.post("/v1/reports", json=report)
    assert response.status_code == 201, response.text
    quote_id = response.json()["quotes"]["q1"]
    assert client.get(f"/v1/quotes/{quote_id}").json()["text"] == text
