"""Reads of places on the demo data: details and filters."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def test_place_detail_and_filters(client: TestClient, demo: dict[str, Any]) -> None:
    places = {p["name"]: p["id"] for p in demo["places"]}
    detail = client.get(f"/v1/places/{places['East Qalamoun']}").json()
    assert [a["name"] for a in detail["ancestors"]] == ["Syria", "Rif Dimashq"]
    assert [c["name"] for c in detail["children"]] == ["Jabal Sharqi"]
    # Events at Jabal Sharqi, al-Ruheibah and East Qalamoun itself.
    assert detail["event_count"] == 4
    inside = client.get("/v1/places", params={"within": places["Syria"]}).json()["data"]
    assert {p["name"] for p in inside} == {
        "Rif Dimashq",
        "East Qalamoun",
        "Jabal Sharqi",
        "al-Ruheibah",
        "Damascus",
    }
    by_alias = client.get("/v1/places", params={"name": "Dimashq"}).json()["data"]
    assert [p["name"] for p in by_alias] == ["Damascus"]
    ruheibah = client.get("/v1/places", params={"name": "Ruhaybah"}).json()["data"]
    assert [p["id"] for p in ruheibah] == [places["al-Ruheibah"]]
