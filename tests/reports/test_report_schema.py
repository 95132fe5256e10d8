"""The OpenAPI schema of POST /v1/reports says where quotes may be (issue 11: what JSON Schema
can state, it states): without a body every quote is of the title, without a title none is.
Each case is judged twice, by the published schema and by the server, and they agree."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from tests.reports.test_reports import small_report

TITLE = "Shelling in al-Bab"
BODY = "Shelling hit al-Bab on Monday, residents said. Two people died."


def _report(*, body: str | None, title: str | None, in_title: bool | None) -> dict[str, Any]:
    report = small_report(body=BODY)
    report["article"]["body"] = body
    report["article"]["title"] = title
    if body is None:
        del report["article"]["body"]  # absent, as a client would leave it
    quote: dict[str, Any] = {"key": "q1", "text": TITLE if in_title else "Two people died."}
    if in_title is not None:
        quote["in_title"] = in_title
    report["quotes"] = [quote]
    return report


CASES = [
    # (body, title, in_title, valid)
    (BODY, TITLE, None, True),
    (BODY, TITLE, False, True),
    (BODY, TITLE, True, True),
    (None, TITLE, True, True),
    (None, TITLE, None, False),  # a quote of a body there is not
    (None, TITLE, False, False),
    (BODY, None, True, False),  # a quote of a title there is not
    (BODY, None, None, True),
]


@pytest.fixture(scope="module")
def validator() -> Any:
    from app.config import Settings
    from app.main import create_app

    app = create_app(
        Settings(
            database_url="sqlite:///:memory:",
            environment="test",
            demo=False,
            migrate_on_start=False,
        )
    )
    document = copy.deepcopy(app.openapi())
    root = {"$ref": "#/components/schemas/ReportCreate", "components": document["components"]}
    return jsonschema_rs.validator_for(root)


@pytest.mark.parametrize(("body", "title", "in_title", "valid"), CASES)
def test_the_schema_and_the_server_agree_on_where_quotes_are(
    client: TestClient,
    validator: Any,
    body: str | None,
    title: str | None,
    in_title: bool | None,
    valid: bool,
) -> None:
    report = _report(body=body, title=title, in_title=in_title)
    assert validator.is_valid(report) == valid
    response = client.post("/v1/reports", json=report)
    assert response.status_code == (201 if valid else 422), response.text
