"""Property tests: quote offsets are Unicode code points, whatever the text."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import ValidationProblem
from app.reports import service

# Text with astral characters (emoji, CJK extension B), combining marks and RTL scripts.
ALPHABET = st.characters(
    codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="\x00"
) | st.sampled_from(["🔥", "🇸", "🇾", "𠜎", "e", "\u0301", "ش", " "])


@st.composite
def body_and_span(draw: st.DrawFn) -> tuple[str, int, int]:
    body = draw(st.text(ALPHABET, min_size=1, max_size=80))
    start = draw(st.integers(0, len(body) - 1))
    end = draw(st.integers(start + 1, len(body)))
    return body, start, end


def report(body: str, quote: dict[str, Any]) -> dict[str, Any]:
    return {"article": {"outlet": {"name": "Prop"}, "body": body}, "quotes": [quote | {"key": "q"}]}


@given(body_and_span())
def test_exact_offsets_are_accepted_and_shifted_ones_refused(case: tuple[str, int, int]) -> None:
    body, start, end = case
    text = body[start:end]
    parsed = service.parse_report(
        json.dumps(report(body, {"text": text, "start": start, "end": end})).encode()
    )
    assert service.check_document(parsed) == {"q": (start, end)}
    if end < len(body) and body[start + 1 : end + 1] != text:
        shifted = service.parse_report(
            json.dumps(report(body, {"text": text, "start": start + 1, "end": end + 1})).encode()
        )
        with pytest.raises(ValidationProblem):
            service.check_document(shifted)


@given(body_and_span())
def test_offsets_are_found_when_the_text_is_unique(case: tuple[str, int, int]) -> None:
    body, start, end = case
    text = body[start:end]
    parsed = service.parse_report(json.dumps(report(body, {"text": text})).encode())
    if body.count(text) == 1 and body.find(text, body.find(text) + 1) < 0:
        found = service.check_document(parsed)["q"]
        assert body[found[0] : found[1]] == text
    else:
        with pytest.raises(ValidationProblem):
            service.check_document(parsed)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=body_and_span())
def test_stored_quotes_slice_the_stored_body(
    client: TestClient, case: tuple[str, int, int]
) -> None:
    body, start, end = case
    text = body[start:end]
    # The database outlives the examples: give each its own article.
    doc = report(body, {"text": text, "start": start, "end": end})
    doc["article"]["url"] = f"https://prop.example/{uuid.uuid4()}"
    response = client.post("/v1/reports", json=doc)
    assert response.status_code in (200, 201), response.text
    quote = client.get(f"/v1/quotes/{response.json()['quotes']['q']}").json()
    article = client.get(f"/v1/articles/{quote['article']['id']}").json()
    assert article["body"] == body
    assert article["body"][quote["start"] : quote["end"]] == quote["text"] == text
