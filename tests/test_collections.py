"""What every collection answers alike: 404 for an unknown id, 422 for an unknown parameter or a forged cursor."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem


@pytest.mark.parametrize("path", ["articles", "quotes", "outlets", "actors", "places"])
def test_unknown_ids_and_parameters(client: TestClient, path: str) -> None:
    assert_problem(client.get(f"/v1/{path}/424242"), 404, type_suffix="not-found")
    assert_problem(client.get(f"/v1/{path}", params={"nope": "1"}), 422)
    assert_problem(client.get(f"/v1/{path}", params={"cursor": "%%%"}), 422)
