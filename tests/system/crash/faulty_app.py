"""Deliberately broken servers: the negative controls that prove the crash test catches bugs.

Each factory patches the write path inside the server process, then builds the real app:

- ``create_row_by_row_app``: every statement of a write commits on its own (a report is
  written as a sequence of small transactions), so a kill leaves half a report behind;
- ``create_ack_before_commit_app``: the response is sent while the commit is still to come,
  so a kill loses a report the client was told is stored.

Both sleep inside the window they open, so a kill at a random moment lands in it reliably.
Nothing here is imported by the app; it exists for tests/system/crash only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.orm import Session

from app.db import dialect
from app.main import create_app
from app.writer import transaction
from app.writer.transaction import WriteSession

STATEMENT_PAUSE = 0.01  # row by row: between one statement's commit and the next statement
COMMIT_DELAY = 1.0  # ack before commit: from the response to the commit


class _CommitEachStatement(WriteSession):
    """A session that commits after every INSERT, UPDATE or DELETE."""

    _committing = False

    def commit(self) -> None:
        # The writer's derived-state step (app/derived/hooks.py) writes inside the commit itself:
        # those statements belong to the commit under way, not to a commit of their own.
        self._committing = True
        try:
            super().commit()
        finally:
            self._committing = False

    def connection(self, *args: Any, **kwargs: Any) -> Any:
        # The writer also runs prebuilt Core statements on the session's connection
        # (app.db.bulk, the repositories): those commit one by one too.
        if self._committing:
            return super().connection(*args, **kwargs)
        return _CommittingConnection(self, lambda: super(_CommitEachStatement, self).connection())

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._after(statement, super().execute(statement, *args, **kwargs))

    def _after(self, statement: Any, result: Any) -> Any:
        if self._committing or not getattr(statement, "is_dml", False):
            return result
        # RETURNING rows must be read before the commit releases the connection.
        try:
            frozen = result.freeze()
        except (ResourceClosedError, NotImplementedError):  # a statement without rows
            frozen = None
        self.commit()
        time.sleep(STATEMENT_PAUSE)
        return frozen() if frozen is not None else result


class _CommittingConnection:
    """The session's connection, as the writer sees it in the row-by-row app: a write statement
    run on it commits at once, as one run through the session does."""

    def __init__(self, session: _CommitEachStatement, real: Any) -> None:
        self._session = session
        self._real = real  # the session's current connection (a new one after each commit)

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._session._after(statement, self._real().execute(statement, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)


@contextmanager
def _row_by_row_session(
    engine: Engine, *, connection: Connection | None = None
) -> Iterator[Session]:
    write_engine = engine.execution_options(**{dialect.WRITE_OPTION: True})
    with _CommitEachStatement(write_engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def _commit_later_session(
    engine: Engine, *, connection: Connection | None = None
) -> Iterator[Session]:
    write_engine = engine.execution_options(**{dialect.WRITE_OPTION: True})
    session = WriteSession(write_engine, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        session.rollback()
        session.close()
        raise

    def commit_later() -> None:
        time.sleep(COMMIT_DELAY)
        try:
            session.commit()
        finally:
            session.close()

    # The caller returns (and the response goes out) while this thread still waits.
    threading.Thread(target=commit_later, daemon=True).start()


def create_row_by_row_app() -> FastAPI:
    # The report's transaction is the one write_transaction opens: patch the name it calls.
    transaction.write_session = _row_by_row_session
    return create_app()


def create_ack_before_commit_app() -> FastAPI:
    transaction.write_session = _commit_later_session
    return create_app()
