"""Reading dataset rows with their line numbers, and the value parsers both importers share.

Rows are streamed from the file object (memory stays flat whatever the file's size). A row's
line is the physical line it starts on, header = line 1, so a message points at the right
place even after quoted fields that span several lines.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import IO, Any, cast

RowSource = IO[str] | Iterable[Mapping[str, str]]


class LayoutError(ValueError):
    """The file is not in the dataset's layout (required columns are missing): nothing can load."""


class Reject(Exception):
    """Raised while mapping a row that cannot be imported; becomes a RowError with this reason."""


def read_rows(
    source: RowSource, required: Sequence[str], dataset: str
) -> Iterator[tuple[int, Mapping[str, str] | str]]:
    """(line, row) for every data row; ``row`` is a reason string when the row is malformed.

    ``source`` is a text file object (opened with ``newline=""``), or an iterable of dicts, whose
    lines are then counted as one per row after a header line.
    """
    if hasattr(source, "read"):
        yield from _read_csv(cast(IO[str], source), required, dataset)
        return
    first = True
    for index, row in enumerate(source):
        if first:
            _check_columns(list(row), required, dataset)
            first = False
        yield index + 2, row


def _check_columns(header: Sequence[str], required: Sequence[str], dataset: str) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise LayoutError(
            f"not a {dataset} file: the header lacks the column(s) {', '.join(missing)}"
        )


def _read_csv(
    stream: IO[str], required: Sequence[str], dataset: str
) -> Iterator[tuple[int, Mapping[str, str] | str]]:
    reader = csv.reader(stream)
    header = read_header(reader, required, dataset)
    yield from csv_rows(reader, header, 0)


def read_header(reader: Any, required: Sequence[str], dataset: str) -> list[str]:
    """The header row of a ``csv.reader``, checked: LayoutError if it is not the dataset's."""
    header = next(reader, None)
    if header is None:
        raise LayoutError(f"not a {dataset} file: it is empty")
    header = [name.strip() for name in header]
    if header:
        header[0] = header[0].lstrip("\ufeff")  # a byte-order mark from spreadsheet exports
    _check_columns(header, required, dataset)
    return header


def csv_rows(
    reader: Any, header: Sequence[str], offset: int
) -> Iterator[tuple[int, Mapping[str, str] | str]]:
    """(line, row) for the rows a ``csv.reader`` reads after the header; its lines are
    numbered from ``offset`` (the lines before the first one it reads)."""
    width = len(header)
    end = offset + reader.line_num
    while True:
        start = end + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = offset + reader.line_num
            yield start, f"unreadable CSV: {exc}"
            continue
        end = offset + reader.line_num
        if not values:
            continue  # a blank line
        if len(values) != width:
            yield start, f"expected {width} fields, found {len(values)}"
            continue
        yield start, dict(zip(header, values, strict=True))


def parse_date(value: str, column: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    text = value.strip()
    # GED's own CSV downloads write "1989-01-01 00:00:00.000": the time is always midnight.
    if len(text) > 10 and text[10] in " T":
        text = text[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Reject(f"{column} {value!r} is not a date (YYYY-MM-DD)") from None


def parse_count(value: str, column: str, *, required: bool = False) -> int | None:
    """A non-negative whole number ("12", and "12.0" as spreadsheets write it); empty -> None."""
    try:
        number = int(value)  # the common case first: int() allows surrounding spaces
    except ValueError:
        text = value.strip()
        if not text:
            if required:
                raise Reject(f"{column} is empty") from None
            return None
        try:
            real = float(text)
        except ValueError:
            raise Reject(f"{column} {value!r} is not a whole number") from None
        if not real.is_integer():
            raise Reject(f"{column} {value!r} is not a whole number") from None
        number = int(real)
    if number < 0:
        raise Reject(f"{column} is negative ({value.strip()})")
    return number


def parse_coordinates(latitude: str, longitude: str) -> tuple[float | None, float | None]:
    lat_text, lon_text = latitude.strip(), longitude.strip()
    if not lat_text and not lon_text:
        return None, None
    if not lat_text or not lon_text:
        raise Reject("latitude and longitude must be given together")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise Reject(f"coordinates {latitude!r}, {longitude!r} are not numbers") from None
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise Reject(f"latitude {lat_text} is outside -90..90")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise Reject(f"longitude {lon_text} is outside -180..180")
    return lat, lon


ROWS_PER_CHUNK = 200

# What a spreadsheet reads as the start of a formula (OWASP's CSV injection advice): a text
# cell beginning with one of these is written with a leading apostrophe, which spreadsheets
# show as text and which ``restore`` takes off again on import.
FORMULA_STARTS = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _after_apostrophes(value: str) -> str:
    """The first character after the value's leading apostrophes ("" if none)."""
    return value.lstrip("'")[:1]


def neutralise(value: str) -> str:
    """The text as a cell no spreadsheet executes. A plain number (a longitude of -12.5) is
    left as it is: it is no formula. Text whose apostrophes are followed by one of the
    characters (``'=x``, rare) gets one more apostrophe too, so ``restore`` gives it back."""
    first = _after_apostrophes(value)
    if not first or first not in FORMULA_STARTS:
        return value
    return value if _NUMBER.fullmatch(value) else "'" + value


def restore(value: str) -> str:
    """A cell read back: the apostrophe ``neutralise`` added taken off, only where what
    follows it starts a formula (a name that truly begins with an apostrophe, ``'Ain Issa``,
    keeps it)."""
    if value[:1] == "'" and _after_apostrophes(value) in FORMULA_STARTS:
        return value[1:]
    return value


def write_rows(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text (RFC 4180, CRLF) of the rows, every text cell ``neutralise``d (numbers are
    written as they are), in chunks of ``ROWS_PER_CHUNK`` rows: large enough that writing is
    cheap, small enough to stream."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for n, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell) if isinstance(cell, str) else cell for cell in row])
        if n % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
