"""Reads that need data at least as fresh as a version: on a replica that has not caught up,
the read is run again on the primary (``app.http.routing``) instead of answering older data
than the client has already seen (a cursor or ``since`` from a fresher database)."""

from __future__ import annotations

from app.core import context
from app.core.errors import ServiceUnavailable


class StaleReplica(ServiceUnavailable):
    """Seen by a client only if the primary is unreachable too: the retry answers otherwise."""

    slug, title = "stale-replica", "The replica is behind the data the request needs"


def on_replica() -> bool:
    current = context.current()
    return current is not None and not getattr(current.read_target, "is_primary", True)


def require_version(needed: int, have: int) -> None:
    """The read has data at ``have`` and needs ``needed``: fine, or, on a replica that is
    behind, ``StaleReplica`` (503), which sends the request to the primary."""
    if needed <= have or not on_replica():
        return
    current = context.current()
    assert current is not None
    current.retry_on_primary = True
    raise StaleReplica(
        f"The replica answering holds data version {have}; the request needs {needed}.",
        headers={"Retry-After": "1"},
    )
