"""A dataset file's rows as records, parsed here or in a second process while the loader writes.

``RowStream`` is what ``ucdp.parse_rows`` and ``acled.parse_rows`` return: an iterator of
``EventRecord`` / ``RowError`` that reads and maps the file in this process, as a generator
would, until the loader calls ``offload``. From then on (for a text file, where the platform
can fork) a worker process parses the CSV, maps the rows and runs the loader's checks on
them, while this process resolves names and writes: the two halves of an import on two cores.
The loader offloads only when that pays (``loader._Run._consider_offload``).

How the work is shared, and why:

- This process still reads the file, by lines (``CHUNK`` lines per message), so whoever
  opened it keeps seeing its position (the CLI's progress bar counts the bytes read), lines
  are split as the file object splits them (rows keep their physical line numbers), and a
  file that stops being readable fails here, after the rows complete before the failure.
- At most ``IN_FLIGHT`` chunks are ever sent and not yet answered: the worker answers each
  chunk with one message (the records of the rows it completed), so memory stays flat
  whatever the file's size (~3 MB of GED text and its records), and the progress bar runs
  ahead of the rows written by at most that much.
- Records cross as ``WireEventRecord``s (tuple subclasses with the records' attributes: pickle
  rebuilds them in C, a frozen dataclass field by field in Python), without the row's values
  when the loader has the worker encode what the provenance stores (``provenance_json``).
- The worker ignores SIGINT (Ctrl-C reaches the whole process group: this process stops it),
  dies with this process (Linux ``PR_SET_PDEATHSIG``; elsewhere it finds its input closed or
  itself orphaned and exits), and is stopped by ``close``, which the loader calls however the
  import ends. If it dies, this process reports a failure to read the file rather than wait.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from itertools import islice
from operator import attrgetter, itemgetter
from typing import IO, Any, Final, cast

from app.formats.csvfile import RowSource, csv_rows, read_header, read_rows
from app.formats.records import ActorSpec, EventRecord, PlaceSpec, RowError, SourceSpec

# Lines per chunk sent to the worker (~500 GED rows), and chunks sent but not answered.
CHUNK: Final = 500
IN_FLIGHT: Final = 12
# Seconds between checks that the other process is still there while waiting for it.
_POLL: Final = 1.0

Result = EventRecord | RowError
# Maps one row (its line, its values by column) to a record or a RowError.
RowMapper = Callable[[int, Mapping[str, str]], Result]
# The loader's checks: why a record cannot be written (None: it can).
Check = Callable[[EventRecord], str | None]
# The loader's encoding of what a record's provenance stores (JSON text).
Encode = Callable[[EventRecord], str]


class Refused(RowError):
    """A record the loader's checks refused, found by the worker (``offload``).

    A RowError with the record's line, the check's reason and the record's id; the loader
    treats it as it treats a record it refuses itself (an id repeated from an earlier row is
    reported as that first).
    """

    __slots__ = ()


class RowStream(Iterator[Result]):
    """The records of a dataset file (or of an iterable of row dicts), in order."""

    def __init__(
        self,
        source: RowSource,
        required: Sequence[str],
        dataset: str,
        make_mapper: Callable[[], RowMapper],
    ) -> None:
        self._source = source
        self._required = required
        self._dataset = dataset
        self._make_mapper = make_mapper
        self._local: Iterator[Result] | None = None
        self._reader: Any = None  # the in-process csv.reader, for the line it has reached
        self._header: list[str] | None = None
        self._worker: _Worker | None = None
        self._buffer: list[Result] = []
        self._index = 0

    def __iter__(self) -> RowStream:
        return self

    def __next__(self) -> Result:
        if self._index < len(self._buffer):
            item = self._buffer[self._index]
            self._index += 1
            return item
        if self._worker is not None:
            self._buffer = self._worker.fetch()  # StopIteration at the end
            self._index = 1
            return self._buffer[0]
        if self._local is None:
            self._local = self._read_here()
        return next(self._local)

    def _read_here(self) -> Iterator[Result]:
        mapper = self._make_mapper()
        if not hasattr(self._source, "read"):
            for line, row in read_rows(self._source, self._required, self._dataset):
                yield RowError(line, row) if isinstance(row, str) else mapper(line, row)
            return
        self._reader = csv.reader(cast(IO[str], self._source))
        self._header = read_header(self._reader, self._required, self._dataset)
        for line, row in csv_rows(self._reader, self._header, 0):
            yield RowError(line, row) if isinstance(row, str) else mapper(line, row)

    def offload(self, check: Check, *, provenance: Encode | None = None) -> bool:
        """Parse the rest of the file in a worker process that also runs ``check`` on each
        record, sending a ``Refused`` for a record it fails, and sends the records on as
        ``WireEventRecord``s, with ``provenance(record)`` as their ``provenance_json`` if
        given. False (nothing changes) when the rows do not come from a text file, the stream
        has not started or has ended, or the platform cannot fork."""
        if (
            self._worker is not None
            or self._reader is None
            or self._header is None
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
            return False
        self._worker = _Worker(
            cast(IO[str], self._source),
            self._make_mapper,
            check,
            provenance,
            self._header,
            self._reader.line_num,
        )
        self._local = None
        return True

    def close(self) -> None:
        """Stop the worker, if there is one (the file itself is the caller's to close)."""
        if self._worker is not None:
            self._worker.stop()
        if self._local is not None:
            cast(Any, self._local).close()


# -- this process's side ---------------------------------------------------------------------


class _Worker:
    """The worker process and the two queues to it, seen from this process."""

    def __init__(
        self,
        stream: IO[str],
        make_mapper: Callable[[], RowMapper],
        check: Check,
        provenance: Encode | None,
        header: list[str],
        offset: int,
    ) -> None:
        self._stream = stream
        context = multiprocessing.get_context("fork")
        self._inbox: Any = context.Queue()
        self._outbox: Any = context.Queue()
        self._sent = 0  # chunks (and the end marker) not yet answered
        self._finished = False  # the end marker has been sent
        self._failure: BaseException | None = None  # reading the file failed
        self._process = context.Process(
            target=_work,
            args=(
                self._inbox,
                self._outbox,
                make_mapper,
                check,
                provenance,
                header,
                offset,
                os.getpid(),
            ),
            name="conflictdb-parse",
            daemon=True,
        )
        # Objects existing now are not the child's to collect (nor to touch: database
        # connections among them); frozen, its collector never scans them.
        gc.freeze()
        try:
            self._process.start()
        finally:
            gc.unfreeze()
        # Only the worker writes to the outbox: with this end closed, a worker that dies
        # mid-message is an end of file here, not a read that waits forever.
        cast(Any, self._outbox)._writer.close()
        self._stopper = weakref.finalize(self, _stop, self._process, self._inbox, self._outbox)

    def fetch(self) -> list[Result]:
        """The next non-empty list of results; StopIteration after the last."""
        while True:
            self._send()
            if self._sent == 0:
                self.stop()
                if self._failure is not None:
                    raise self._failure
                raise StopIteration
            kind, payload = self._receive()
            self._sent -= 1
            if kind == "failed":
                self.stop()
                raise payload
            # "rows" answers a chunk; "end", the last message, answers the end marker.
            results: list[Result] = pickle.loads(payload)
            if results:
                return results

    def _send(self) -> None:
        """Keep IN_FLIGHT chunks with the worker (the file is read here, on demand)."""
        while not self._finished and self._sent < IN_FLIGHT:
            lines: list[str] = []
            append = lines.append
            try:
                for line in islice(self._stream, CHUNK):
                    append(line)
            except Exception as exc:  # not UTF-8, an I/O error: deliver what came before
                self._failure = exc
            if lines:
                self._inbox.put(lines)
                self._sent += 1
            if self._failure is not None or len(lines) < CHUNK:
                # The end of the file, or of what can be read of it (None).
                self._inbox.put(None if self._failure is not None else [])
                self._sent += 1
                self._finished = True

    def _receive(self) -> tuple[str, Any]:
        while True:
            try:
                return cast(tuple[str, Any], self._outbox.get(timeout=_POLL))
            except queue.Empty:
                if self._process.exitcode is None:
                    continue  # still at work
            except (EOFError, OSError):
                # Gone before or in mid-message (its end of the pipe closed with it): an
                # empty read is an EOFError, a message cut short an OSError.
                pass
            raise RuntimeError(
                f"the process parsing the file stopped (exit code {self._process.exitcode})"
            )

    def stop(self) -> None:
        self._stopper()


def _stop(process: Any, inbox: Any, outbox: Any) -> None:
    if process.exitcode is None:
        process.terminate()
        process.join(5)
        if process.exitcode is None:
            process.kill()
    process.join()
    # Never wait at exit for chunks nobody will read.
    inbox.cancel_join_thread()
    inbox.close()
    outbox.close()
    process.close()


# -- the worker process ----------------------------------------------------------------------


def _work(
    inbox: Any,
    outbox: Any,
    make_mapper: Callable[[], RowMapper],
    check: Check,
    provenance: Encode | None,
    header: list[str],
    offset: int,
    parent: int,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    inbox._writer.close()  # only the parent writes: its death is then an end of file here
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        return
    results: list[Any] = []
    try:
        mapper = make_mapper()
        wire = _Wire(provenance)
        lines = _Lines(inbox, outbox, results, wire, parent)
        with contextlib.suppress(_ReadFailed):
            for line, row in csv_rows(csv.reader(lines), header, offset):
                if isinstance(row, str):
                    results.append(RowError(line, row))
                    continue
                result = mapper(line, row)
                if isinstance(result, EventRecord):
                    problem = check(result)
                    if problem is None:
                        results.append(wire.record(result))
                        continue
                    result = Refused(line, problem, result.external_id)
                results.append(result)
        outbox.put(("end", _dumps(results)))
    except BaseException as exc:  # sent on, to be raised where the rows are read
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        outbox.put(("failed", exc))
    outbox.close()
    outbox.join_thread()


class _ReadFailed(Exception):
    """The parent could not read the file on: the rows completed before are all there is."""


class _Lines(Iterable[str]):
    """The lines the parent sends, a chunk at a time; before taking each chunk after the
    first, answers the one before with the results completed meanwhile."""

    def __init__(
        self, inbox: Any, outbox: Any, results: list[Any], wire: _Wire, parent: int
    ) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._results = results
        self._wire = wire
        self._parent = parent
        self._taken = False

    def _take(self) -> list[str] | None:
        if self._taken:  # answer the chunk before
            self._outbox.put(("rows", _dumps(self._results)))
            self._results.clear()
            self._wire.clear()
        while True:
            try:
                chunk: list[str] | None = self._inbox.get(timeout=_POLL)
                break
            except queue.Empty:
                if os.getppid() != self._parent:  # orphaned
                    os._exit(1)
            except EOFError:  # the parent is gone
                os._exit(1)
        self._taken = True
        return chunk

    def __iter__(self) -> Iterator[str]:
        while True:
            chunk = self._take()
            if chunk is None:  # not a partial row at the end, as if the file ended there
                raise _ReadFailed
            if not chunk:
                return
            yield from chunk


# -- records on the wire ---------------------------------------------------------------------


class _WireRecord(tuple[Any, ...]):
    """A record as a tuple, its dataclass's fields (and properties) readable as attributes.

    Records cross to this process as these, not as the parser's frozen dataclasses: pickle
    rebuilds a tuple subclass in C, where a frozen dataclass is rebuilt field by field in
    Python (measured: 4x the cost of unpickling, a tenth of the loader's time per row). The
    loader reads records by attribute only, so either kind serves it. A subclass names its
    dataclass (``of=``) and any fields it adds (``extra=``).
    """

    __slots__ = ()

    def __init_subclass__(cls, *, of: type, extra: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = [f.name for f in fields(of)] + list(extra)
        for i, name in enumerate(names):
            setattr(cls, name, property(itemgetter(i)))
        for name, value in vars(of).items():
            if isinstance(value, property):
                setattr(cls, name, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}{tuple.__repr__(self)}"


# ``provenance_json``: what ``event_provenance.original`` will store, encoded by the worker
# (``offload``'s ``provenance``), its ``original`` then left out (None).
class WireEventRecord(_WireRecord, of=EventRecord, extra=("provenance_json",)):
    __slots__ = ()


class WirePlaceSpec(_WireRecord, of=PlaceSpec):
    __slots__ = ()


class WireActorSpec(_WireRecord, of=ActorSpec):
    __slots__ = ()


class WireSourceSpec(_WireRecord, of=SourceSpec):
    __slots__ = ()


_EVENT_FIELDS: Final = [f.name for f in fields(EventRecord)]
_event_values = attrgetter(*_EVENT_FIELDS)
_PLACES, _ACTORS, _SOURCES, _MEMBERS, _ORIGINAL = (
    _EVENT_FIELDS.index(n) for n in ("places", "actors", "sources", "member_actors", "original")
)
_SPECS: Final = {
    cls: (wire, attrgetter(*[f.name for f in fields(cls)]))
    for cls, wire in (
        (PlaceSpec, WirePlaceSpec),
        (ActorSpec, WireActorSpec),
        (SourceSpec, WireSourceSpec),
    )
}


class _Wire:
    """Converts records to their wire form; a spec shared by several records (the parser
    caches place chains and actors) is converted once per message, and pickled once."""

    def __init__(self, provenance: Encode | None) -> None:
        self._provenance = provenance
        # id(spec) -> (spec, its wire form): the spec is kept so its id is not reused.
        self._specs: dict[int, tuple[Any, tuple[Any, ...]]] = {}

    def clear(self) -> None:
        self._specs.clear()

    def _spec(self, spec: Any) -> tuple[Any, ...]:
        known = self._specs.get(id(spec))
        if known is not None:
            return known[1]
        wire, values = _SPECS[type(spec)]
        wired = wire(values(spec))
        self._specs[id(spec)] = (spec, wired)
        return wired

    def record(self, record: EventRecord) -> tuple[Any, ...]:
        values = list(_event_values(record))
        spec = self._spec
        values[_PLACES] = tuple([spec(p) for p in record.places])
        values[_ACTORS] = tuple([spec(a) for a in record.actors])
        values[_SOURCES] = tuple([spec(s) for s in record.sources])
        if record.member_actors:
            values[_MEMBERS] = tuple([spec(a) for a in record.member_actors])
        if self._provenance is None:
            values.append(None)
        else:
            values[_ORIGINAL] = None
            values.append(self._provenance(record))
        return WireEventRecord(values)


def _dumps(results: list[Any]) -> bytes:
    return pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
