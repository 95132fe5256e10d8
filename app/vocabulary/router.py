"""HTTP routes for the vocabularies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.core.errors import problem_responses
from app.core.pagination import NoQuery
from app.db.session import ReadSessionDep
from app.vocabulary import repository
from app.vocabulary.schemas import VocabularyRead

router = APIRouter(prefix="/v1/vocabulary", tags=["vocabulary"])


@router.get(
    "",
    response_model=VocabularyRead,
    summary="Get the controlled vocabularies",
    description=(
        "Every controlled list in one response: event types with their sub-types, actor kinds "
        "(with ACLED's actor type codes), place and outlet kinds, date precisions, event roles, "
        "affiliation relations, event statuses, ACLED's interaction codes, and each dataset's "
        "coded fields (`dimensions`: UCDP's type of violence, conflicts and dyads, ACLED's "
        "disorder types, tags ...) with their codes. Other resources and filters use the "
        "`name`s (and `scheme:code` for `dimension=`)."
    ),
    responses=problem_responses(422, 503),
)
def get_vocabulary(session: ReadSessionDep, _: Annotated[NoQuery, Query()]) -> dict[str, Any]:
    return repository.get_vocabulary(session)
