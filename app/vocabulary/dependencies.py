"""The dependency that gives a list route its query model with every vocabulary term checked:
``f: Annotated[EventListQuery, known_terms(EventListQuery)]`` takes the parameters as
``Annotated[EventListQuery, Query()]`` would, then refuses (422) a value outside its
vocabulary, naming the nearest terms (``app.vocabulary.service``)."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.vocabulary import service

Q = TypeVar("Q", bound=BaseModel)


class KnownTerms(Generic[Q]):
    """Called by FastAPI with the request and the query model (its signature says which
    model, so the parameters and their OpenAPI description are the model's)."""

    def __init__(self, model: type[Q]) -> None:
        self.__signature__ = inspect.Signature(
            [
                inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
                inspect.Parameter(
                    "query", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[model, Query()]
                ),
            ]
        )

    async def __call__(self, *, request: Request, query: Q) -> Q:
        if service.given_terms(query):
            engine = request.app.state.engine
            known = service.cached_terms(engine)
            if known is None or not service.all_known(known, query):
                # The first terms, or a term to refuse: (re)read the vocabularies first.
                await run_in_threadpool(service.check_filters, engine, query)
        return query


def known_terms(model: type[Q]) -> Any:
    """``Depends`` on the query model ``model``, its terms checked."""
    return Depends(KnownTerms(model))
