"""The commit step of every write transaction, and the listeners that run it.

``register`` attaches them to the write session class (``app.writer.transaction``, where write
sessions are made). Just before a transaction that wrote data commits, ``finish`` runs (a
``before_commit`` listener, so no caller can skip it):

1. it advances ``data_version`` — taking that row's lock, held until the commit, so writers
   pass this point one at a time and versions are handed out in commit order;
2. it derives the centroids of places whose located subtree changed, and the interaction of
   the changed events (``points``, ``interaction``: issue 12);
3. it reconciles the monthly rollups of the changed events (old contribution out, new in);
4. it rewrites their full-text documents;
5. it appends one ``event_change`` row per changed event under the new version;
6. it records the history of what changed under the new version (``history``: as_of reads).

Because step 1 serialises the rest, two writers never race on a rollup row, and a reader
that sees version v sees every change numbered below v: the change feed cannot skip one.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, event, select, text, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from app.core import context
from app.db.base import utcnow
from app.db.bulk import DRIVER_WRITES, insert_rows
from app.derived import history, interaction, points, rollups, search
from app.derived.marks import NOT_DATA, STATE, State, events_changed, mark_dirty, places_moved
from app.derived.version import current_version
from app.models import DataVersion, Event, EventChange, EventRollup, EventRollupMember, Place

# The data version a transaction commits (or, writing no data, saw), for its request's answer.
COMMITTING = "conflictdb_committing_version"


def register(session_class: type[Session]) -> None:
    """Keep the derived state in every transaction of sessions of ``session_class``."""
    event.listen(session_class, "do_orm_execute", _note_data_writes)
    event.listen(session_class, "before_commit", _before_commit)
    event.listen(session_class, "after_commit", _after_commit)
    event.listen(session_class, "after_transaction_end", _after_transaction_end)


def _note_data_writes(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    target = getattr(state.statement, "table", None)
    if getattr(target, "name", None) not in NOT_DATA:
        mark_dirty(state.session)


def _before_commit(session: Session) -> None:
    state = session.info.pop(STATE, None)
    # Rows the bulk-insert engine wrote straight through the driver: no statement saw them.
    driver_writes = session.info.pop(DRIVER_WRITES, set())
    if driver_writes - NOT_DATA:
        state = state or State()
        state.dirty = True
    if state is not None and state.dirty:
        session.info[COMMITTING] = finish(session, state)
        return
    current = context.current()
    if current is not None and current.writes and current.data_version is None:
        # A write request that changed no data (a report already stored, a replayed
        # Idempotency-Key): its answer reflects what it read, at least this version, so a
        # client reading on with it sees the data it was told about.
        session.info[COMMITTING] = current_version(session)


def _after_commit(session: Session) -> None:
    # Only now is the version durable: the answer may name it (Data-Version).
    version = session.info.pop(COMMITTING, None)
    if version is not None:
        context.note_version(version)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended (committed after ``finish``, or rolled back): forget
    # its marks. A savepoint rolled back keeps them; ``finish`` then finds what is left.
    if transaction.parent is None:
        session.info.pop(STATE, None)
        session.info.pop(DRIVER_WRITES, None)
        session.info.pop(COMMITTING, None)


def finish(session: Session, state: State) -> int:
    """Advance the data version and bring the derived state of the marked events up to date."""
    now = utcnow()
    version = session.connection().execute(_ADVANCE, {"now": now}).scalar_one()
    summaries: dict[int, str | None] = {}
    if state.places or state.located:
        points.reconcile(session, state.places, state.located)
    if state.events:
        ids = sorted(state.events)
        interaction.reconcile(session, [i for i in ids if i not in state.interaction_known])
        # One read of the events serves their statuses, contributions and summaries.
        rows = rollups.events(session, ids)
        statuses = {r.id: r.status for r in rows}
        summaries = {r.id: r.summary for r in rows}
        rollups.reconcile(
            session,
            ids,
            {i for i, action in state.events.items() if action == "created"},
            [r for r in rows if r.status == "active"],
        )
        insert_rows(
            session,
            EventChange,
            [
                {
                    "version": version,
                    "event_id": event_id,
                    "action": _action(state.events[event_id], statuses[event_id]),
                    "changed_at": now,
                }
                for event_id in ids
                if event_id in statuses  # created, then rolled back to a savepoint
            ],
        )
    if state.reindex:
        ids = sorted(state.reindex)
        # Events created in this transaction have no document to drop yet.
        stale = [i for i in ids if state.events.get(i) != "created"]
        # Those whose text the writer handed over are not read back (unless rolled back to a
        # savepoint since: then they are not among the events read above).
        known = {
            i: parts
            for i, parts in state.search_texts.items()
            if i in state.reindex and i in summaries
        }
        docs = search.documents(session, [i for i in ids if i not in known], summaries=summaries)
        docs.update(search.document_of(known))
        search.replace(session, stale, docs)
    # Last, once every derived column is up to date: the history as_of reads (issue 12).
    history.record(
        session,
        version,
        now,
        state.events,
        state.places | state.located,
        created={i for i, action in state.events.items() if action == "created"},
    )
    return int(version)


# Built once, run as Core on the session's connection: every write's commit runs it.
_ADVANCE = (
    update(DataVersion)
    .where(DataVersion.id == 1)
    .values(version=DataVersion.version + 1, changed_at=bindparam("now"))
    .returning(DataVersion.version)
)


def _action(marked: str, status: str) -> str:
    if marked == "created":
        return "created"
    return "retracted" if status == "retracted" else "updated"


def rebuild(session: Session) -> int:
    """Derive everything again from the stored events (``conflictdb db rebuild-derived``);
    the number of events.

    The rollups and the search index are emptied, then every event is marked changed: at
    commit ``finish`` advances the data version, rebuilds their rollups and search documents,
    and appends to the change feed 'created' for an event the feed never had, 'updated' or
    'retracted' (by status) for the others, so a copy kept in sync re-reads every event once.
    The feed's history is kept.
    """
    session.execute(delete(EventRollup))
    session.execute(delete(EventRollupMember))
    # All of it, documents of events deleted by hand included (FTS5 has no foreign key).
    session.execute(text("DELETE FROM event_search"))
    ids = list(session.scalars(select(Event.id).order_by(Event.id)))
    places_moved(session, session.scalars(select(Place.id)))
    fed = set(session.scalars(select(EventChange.event_id).distinct()))
    events_changed(session, [i for i in ids if i not in fed], "created")
    events_changed(session, [i for i in ids if i in fed], "updated")
    return len(ids)
