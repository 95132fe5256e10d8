"""GET /v1/vocabulary."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_vocabulary(client: TestClient) -> None:
    vocab = client.get("/v1/vocabulary").json()
    battles = next(t for t in vocab["event_types"] if t["name"] == "Battles")
    assert {s["name"] for s in battles["sub_event_types"]} == {
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    }
    kinds = {k["name"]: k["acled_inter"] for k in vocab["actor_kinds"]}
    assert kinds["state_forces"] == 1 and kinds["person"] is None and kinds["coalition"] is None
