"""Demo data: a real Syria Direct article (18 April 2018, East Qalamoun) encoded as a report."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, select

from app.auth import service as auth_service
from app.core.outcomes import Outcome
from app.db.session import read_session
from app.models import Article
from app.reports import service
from app.writer.transaction import write_transaction

log = logging.getLogger(__name__)

DEMO_REPORT = Path(__file__).with_name("east_qalamoun_2018_04_18.json")


def load_demo(engine: Engine) -> Outcome:
    """Ingest the demo report through the same pipeline as POST /v1/reports."""
    report = service.parse_report(DEMO_REPORT.read_bytes())
    principal = write_transaction(
        engine, lambda session: auth_service.local_principal(session, "demo")
    )
    return service.ingest_report(engine, report, api_key_id=principal)


def load_demo_if_empty(engine: Engine) -> bool:
    with read_session(engine) as session:
        if session.execute(select(Article.id).limit(1)).first() is not None:
            return False
    outcome = load_demo(engine)
    log.info("loaded the demo report: %s", outcome.body["events"])
    return True
