"""A write's outcome: the status and body of its response, and whether it was replayed (an
``Idempotency-Key`` seen before answers with the stored response)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REPLAY_HEADER = "Idempotent-Replayed"


@dataclass
class Outcome:
    status: int
    body: Any
    replayed: bool = False
