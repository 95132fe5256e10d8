"""Closed-loop load from a few threads, and the figures it yields (throughput, p50, p99).

Each thread owns one worker (and so one connection) and runs one operation after another, as a
pool of clients with keep-alive would. A worker's call returns the latency of every request it
made, so one read "operation" (a page and the page after it) counts as two requests.
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)
# Returns cumulative CPU seconds by process name; sampled when a measured phase starts and ends.
Probe = Callable[[], dict[str, float]]


class Worker(Protocol[T_contra]):
    def __call__(self, item: T_contra, /) -> Sequence[float]:
        """Do one operation; return the latency in seconds of each request it made."""

    def close(self) -> None: ...


@dataclass
class Result:
    name: str
    unit: str
    concurrency: int
    seconds: float
    latencies: list[float]
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "name": self.name,
            "unit": self.unit,
            "concurrency": self.concurrency,
            "count": self.count,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "p50_ms": _ms(percentile(ordered, 0.50)),
            "p90_ms": _ms(percentile(ordered, 0.90)),
            "p99_ms": _ms(percentile(ordered, 0.99)),
            "max_ms": _ms(ordered[-1] if ordered else math.nan),
            # CPU per operation, by process: where the time goes when the CPUs are shared.
            "cpu_ms_per_op": {
                k: round(v * 1000 / self.count, 3) for k, v in self.cpu_seconds.items()
            }
            if self.count
            else {},
            # Cores kept busy by processes outside the benchmark during the phase.
            "other_cores": round(self.cpu_seconds["other"] / self.seconds, 3)
            if "other" in self.cpu_seconds and self.seconds > 0
            else None,
        }


def _ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 2)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values: the smallest value with q of them at or below."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class _Threads(Generic[T]):
    """Runs ``concurrency`` workers until ``next_item`` says stop; the first error stops all."""

    def __init__(
        self,
        make_worker: Callable[[int], Worker[T]],
        concurrency: int,
        next_item: Callable[[int], tuple[bool, T | None]],
    ) -> None:
        self.make_worker = make_worker
        self.concurrency = concurrency
        self.next_item = next_item
        self.abort = threading.Event()
        self.latencies: list[list[float]] = [[] for _ in range(concurrency)]
        self.errors: list[BaseException] = []

    def _run(self, n: int, ready: threading.Barrier) -> None:
        worker: Worker[T] | None = None
        try:
            worker = self.make_worker(n)
            ready.wait()
            mine = self.latencies[n]
            while not self.abort.is_set():
                more, item = self.next_item(n)
                if not more:
                    break
                mine.extend(worker(item))  # type: ignore[arg-type]
        except BaseException as exc:  # reported by run(); the other threads stop too
            self.errors.append(exc)
            self.abort.set()
            ready.abort()
        finally:
            if worker is not None:
                worker.close()

    def run(
        self, on_start: Callable[[], None] = lambda: None, probe: Probe | None = None
    ) -> tuple[float, list[float], dict[str, float]]:
        # Connections are opened before the clock starts: the barrier releases every thread
        # at once, and start-up cost (connect, first import) stays out of the figures.
        ready = threading.Barrier(self.concurrency + 1)
        threads = [
            threading.Thread(target=self._run, args=(n, ready), name=f"bench-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for t in threads:
            t.start()
        # A worker that fails to start breaks the barrier; its error is raised after the join.
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait()
        before = probe() if probe else {}
        on_start()
        started = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        after = probe() if probe else {}
        if self.errors:
            raise self.errors[0]
        cpu = {k: after[k] - before[k] for k in before if k in after}
        return elapsed, [x for per_thread in self.latencies for x in per_thread], cpu


def run_each(
    name: str,
    unit: str,
    items: Iterable[T],
    make_worker: Callable[[int], Worker[T]],
    concurrency: int,
    probe: Probe | None = None,
) -> Result:
    """Every item once, spread over ``concurrency`` threads in order."""
    iterator = iter(items)
    lock = threading.Lock()

    def next_item(_thread: int) -> tuple[bool, T | None]:
        with lock:
            for item in iterator:
                return True, item
            return False, None

    seconds, latencies, cpu = _Threads(make_worker, concurrency, next_item).run(probe=probe)
    return Result(name, unit, concurrency, seconds, latencies, cpu)


def run_for(
    name: str,
    unit: str,
    duration: float,
    warmup: float,
    make_worker: Callable[[int], Worker[random.Random]],
    concurrency: int,
    seed: int,
    probe: Probe | None = None,
) -> Result:
    """Operations for ``duration`` seconds after ``warmup`` seconds whose figures are dropped.

    Each thread draws its operations from its own seeded RNG, so runs repeat the same mix.
    """
    for phase_seconds, keep in ((warmup, False), (duration, True)):
        if phase_seconds <= 0:
            continue
        rngs = [random.Random(f"{seed}:{name}:{keep}:{n}") for n in range(concurrency)]
        deadline = [math.inf]  # set when the barrier releases the threads

        def next_item(
            thread: int, rngs: list[random.Random] = rngs, deadline: list[float] = deadline
        ) -> tuple[bool, random.Random | None]:
            if time.perf_counter() >= deadline[0]:
                return False, None
            return True, rngs[thread]

        def start(deadline: list[float] = deadline, seconds: float = phase_seconds) -> None:
            deadline[0] = time.perf_counter() + seconds

        threads = _Threads(make_worker, concurrency, next_item)
        elapsed, latencies, cpu = threads.run(on_start=start, probe=probe if keep else None)
        if keep:
            return Result(name, unit, concurrency, elapsed, latencies, cpu)
    raise ValueError("duration must be positive")
