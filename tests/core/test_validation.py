"""FastAPI's own validation errors are located in the client's terms too: a route whose body
or query FastAPI validates (the app's routes read their bodies raw) gets no union tags or
member labels in its error locations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Discriminator, Tag

from app.http.problems import install_error_handlers
from tests.helpers import assert_problem


class Cat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["dog"]
    good: bool


def _kind(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else value.kind
    return f"a {kind}"


Pet = Annotated[Annotated[Cat, Tag("a cat")] | Annotated[Dog, Tag("a dog")], Discriminator(_kind)]


class Household(BaseModel):
    pets: list[Pet]


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int | Literal["any"] = "any"


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/households")
    def create(household: Household) -> dict[str, int]:
        return {"pets": len(household.pets)}

    @app.get("/households")
    def search(filters: Annotated[Filters, Query()]) -> dict[str, str]:
        return {"size": str(filters.size)}

    return app


def test_a_body_fastapi_validates_is_located_without_union_tags() -> None:
    client = TestClient(_app())
    body = {"pets": [{"kind": "dog", "good": True}, {"kind": "cat", "lives": "nine"}]}
    problem = assert_problem(
        client.post("/households", json=body), 422, type_suffix="validation-error"
    )
    assert problem["errors"] == [
        {
            "loc": ["body", "pets", 1, "lives"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    ]
    assert problem["detail"] == (
        "body.pets.1.lives: Input should be a valid integer, unable to parse string as an integer"
    )


def test_a_query_model_field_of_a_plain_union_is_located_without_member_labels() -> None:
    client = TestClient(_app())
    problem = assert_problem(client.get("/households", params={"size": "big"}), 422)
    assert [e["loc"] for e in problem["errors"]] == [["query", "size"], ["query", "size"]]
    assert assert_problem(client.get("/households", params={"colour": "red"}), 422)["errors"] == [
        {
            "loc": ["query", "colour"],
            "msg": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]
