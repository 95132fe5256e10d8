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


def test_vocabulary_serves_each_dataset_scheme_with_its_codes(client: TestClient) -> None:
    """Issue 12: every coded field of GED and ACLED is a scheme with its codes (the closed
    ones seeded, open ones empty until an import), and ACLED's interaction codes."""
    vocab = client.get("/v1/vocabulary").json()
    schemes = {s["name"]: s for s in vocab["dimensions"]}
    assert {
        "ucdp.type_of_violence",
        "ucdp.conflict",
        "ucdp.dyad",
        "ucdp.where_prec",
        "ucdp.date_prec",
        "ucdp.event_clarity",
        "ucdp.number_of_sources",
        "acled.disorder_type",
        "acled.inter1",
        "acled.inter2",
        "acled.interaction",
        "acled.civilian_targeting",
        "acled.tags",
        "acled.admin1",
        "acled.admin2",
        "acled.admin3",
        "acled.iso",
        "acled.region",
        "acled.source_scale",
    } <= set(schemes)
    violence = schemes["ucdp.type_of_violence"]
    assert (violence["dataset"], violence["column"], violence["closed"]) == (
        "ucdp-ged",
        "type_of_violence",
        True,
    )
    assert [c["code"] for c in violence["codes"]] == ["1", "2", "3"]
    assert [c["code"] for c in schemes["ucdp.where_prec"]["codes"]] == [str(n) for n in range(1, 8)]
    assert schemes["acled.tags"]["multiple"] and not schemes["acled.tags"]["closed"]
    interactions = {t["name"]: t["description"] for t in vocab["interactions"]}
    assert interactions["12"] == "State forces versus rebel groups"
    assert interactions["10"] == "State forces only"
