"""Content negotiation (app/http/negotiation.py): format=, then Accept (RFC 9110 12.5.1)."""

from __future__ import annotations

import pytest

from app.http.negotiation import NotAcceptable, negotiate

EVENTS = {"json": "application/json", "csv": "text/csv", "geojson": "application/geo+json"}
PLACES = {"geojson": "application/geo+json", "csv": "text/csv"}


@pytest.mark.parametrize(
    ("accept", "types", "expected"),
    [
        (None, PLACES, "geojson"),
        ("*/*", PLACES, "geojson"),
        ("text/csv", PLACES, "csv"),
        # GeoJSON is JSON (RFC 6839's +json): what fetch() and most clients ask for.
        ("application/json", PLACES, "geojson"),
        ("application/json, text/csv;q=0.5", PLACES, "geojson"),
        ("application/json;q=0.2, text/csv", PLACES, "csv"),
        # Where plain JSON is offered, application/json means it, not GeoJSON.
        ("application/json", EVENTS, "json"),
        ("application/geo+json", EVENTS, "geojson"),
        ("application/*", EVENTS, "json"),
    ],
)
def test_accept_picks_the_format(accept: str | None, types: dict[str, str], expected: str) -> None:
    assert negotiate(None, accept, types) == expected


def test_format_wins_over_accept() -> None:
    assert negotiate("csv", "application/json", PLACES) == "csv"


@pytest.mark.parametrize("accept", ["image/png", "application/xml", "text/*;q=0, image/*"])
def test_nothing_acceptable_is_a_406_naming_the_formats(accept: str) -> None:
    with pytest.raises(NotAcceptable) as refused:
        negotiate(None, accept, PLACES)
    assert "application/geo+json or text/csv" in str(refused.value.detail)
