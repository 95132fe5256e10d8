"""A Python client for conflictdb, for ingestion scripts and notebooks.

Importable with httpx2 and pydantic alone (pandas too for the frames; the ``client`` and
``pandas`` extras name them, and ``pip install --no-deps conflictdb`` leaves the server's
dependencies out): nothing here imports FastAPI or SQLAlchemy, and the results are the
server's own response models.

    from app.client import Client
    with Client("http://127.0.0.1:8000", api_key=KEY) as api:
        summary = api.post_reports(reports)
"""

from app.changes.shapes import ChangeRead
from app.client.client import ChangeFeed, Client, ReportResult, Summary
from app.client.errors import (
    ApiError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    FieldProblem,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    Unavailable,
    Unprocessable,
)
from app.drafts.schemas import DraftRead
from app.events.shapes import EventRead
from app.reports.schemas import ReportCreate, ReportCreated

__all__ = [
    "ApiError",
    "BadRequest",
    "ChangeFeed",
    "ChangeRead",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "DraftRead",
    "EventRead",
    "FieldProblem",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "ReportCreate",
    "ReportCreated",
    "ReportResult",
    "Summary",
    "Unauthorized",
    "Unavailable",
    "Unprocessable",
]
