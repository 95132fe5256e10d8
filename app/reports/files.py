"""Report documents from a JSON Lines file, one a line, through the report pipeline.

Each line is what ``POST /v1/reports`` takes, and goes through the same code
(``app.reports.service``: validation, name resolution, one transaction per report, identical
re-posts answered without writing), as the recorded local principal. A line that fails is
reported with its line number and the problem's words; the other lines load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from app.core.errors import ProblemError
from app.formats.records import RowError
from app.reports import service as ingest_service
from app.writer.transaction import write_session

MAX_LISTED = 10_000


@dataclass
class ReportsSummary:
    lines: int = 0
    created: int = 0
    # Identical to a report already stored: answered from it, nothing written.
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    rejected_count: int = 0
    # --strict found bad lines: nothing was written.
    aborted: bool = False

    def reject(self, error: RowError) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_LISTED:
            self.rejected.append(error)


def import_reports(
    engine: Engine,
    lines: Iterable[bytes],
    *,
    principal_id: int | None,
    progress: Callable[[int], None] | None = None,
    strict: bool = False,
    limits: ingest_service.ReportLimits = ingest_service.ReportLimits(),
) -> ReportsSummary:
    """Ingest each non-blank line as one report; blank lines are skipped (and counted).

    ``strict``: all or nothing. Every report goes into one transaction, each in a savepoint
    so every bad line is still found and listed; if any is bad, nothing is written.
    """
    if strict:
        return _import_strict(
            engine, lines, principal_id=principal_id, progress=progress, limits=limits
        )
    summary = ReportsSummary()
    for number, raw in enumerate(lines, start=1):
        summary.lines = number
        if raw.strip():
            try:
                report = ingest_service.parse_report(raw)
                outcome = ingest_service.ingest_report(
                    engine, report, api_key_id=principal_id, limits=limits
                )
            except ProblemError as exc:
                summary.reject(RowError(number, _problem_words(exc)))
            else:
                if outcome.status == 201:
                    summary.created += 1
                else:
                    summary.unchanged += 1
        if progress is not None:
            progress(number)
    return summary


def _import_strict(
    engine: Engine,
    lines: Iterable[bytes],
    *,
    principal_id: int | None,
    progress: Callable[[int], None] | None,
    limits: ingest_service.ReportLimits,
) -> ReportsSummary:
    summary = ReportsSummary()
    # One transaction for the whole file, its lines read as it goes: not write_transaction,
    # which would run it again from the start, and the file's lines are read once.
    with write_session(engine) as session:
        for number, raw in enumerate(lines, start=1):
            summary.lines = number
            if raw.strip():
                try:
                    with session.begin_nested():
                        report = ingest_service.parse_report(raw)
                        outcome = ingest_service.write_report(
                            session, report, api_key_id=principal_id, limits=limits
                        )
                except ProblemError as exc:
                    summary.reject(RowError(number, _problem_words(exc)))
                else:
                    if outcome.status == 201:
                        summary.created += 1
                    else:
                        summary.unchanged += 1
            if progress is not None:
                progress(number)
        if summary.rejected_count:
            session.rollback()
            summary.created = summary.unchanged = 0
            summary.aborted = True
    return summary


def _problem_words(exc: ProblemError) -> str:
    detail = exc.detail or exc.title
    return (
        f"{exc.status} {exc.title}: {detail}" if detail != exc.title else f"{exc.status} {detail}"
    )
