"""NDJSON (JSON Lines): one JSON value a line, UTF-8.

Written for the events list's streamed format (``GET /v1/events?format=ndjson`` and
``conflictdb export --format ndjson`` write the same lines: each event exactly as in the JSON
list, ``fields`` and ``include`` applied); read for ``conflictdb import reports`` (one report
document a line).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any, Final

import orjson

MEDIA_TYPE: Final = "application/x-ndjson"
# Datetimes as pydantic writes them (UTC as `Z`), so a line is the JSON list's row.
JSON_OPTIONS: Final = orjson.OPT_UTC_Z


def lines(values: Iterable[Any]) -> bytes:
    """The values, one JSON line each."""
    return b"".join(orjson.dumps(value, option=JSON_OPTIONS) + b"\n" for value in values)


def read_lines(file: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, text) of each line that is not blank; the text stays undecoded, for the
    reader to parse and to refuse with its line number."""
    for number, line in enumerate(file, start=1):
        if line.strip():
            yield number, line
