"""The draft assistant, measured: against 200 GED headlines labelled by hand
(tests/data/ged-headlines-labelled.csv), and for speed on a 1,000-word article.

    .venv/bin/python -m bench.drafts            # both, markdown on stdout
    .venv/bin/python -m bench.drafts --misses   # and every headline it gets wrong

Accuracy runs on an empty database, so every place comes from the bundled gazetteer or the
text (the GED sample's own places are not in it). Each headline cell is drafted as a text of
its own, one headline a line (GED joins a row's source headlines with ';'), published on the
row's date_start. Read from each draft:

- the figure: the best fatalities estimate of the first event (in text order) that has one;
- the place: the first event's place, or the first place the draft lists when no event has one.

Targets (issue 14): the labelled figure exactly on >= 85% of the headlines that state one; no
figure on >= 90% of those that state none; a place within 50 km of the labelled one (or of the
same name), or inside the row's adm_1 (the place or one of its proposed ancestors is named as
GED's adm_1), on >= 80% of those that name a place. Agreement with GED's best is information.

Speed: the median of 20 drafts of a 1,000-word article (the seed article, then GED headlines
as further paragraphs, other headlines each run, so no two timed texts are the same) on a database holding the demo and the GED sample (about 1,000 events,
their places and actors), after one untimed draft that builds the bundled gazetteer (timed
apart: once per process). Beside it, in the same run, the peer: storing that draft through the
report pipeline in-process (service.ingest_report), as a ratio.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from app.core.normalize import normalize_name
from app.db import migrate
from app.db.session import create_db_engine
from app.drafts import gazetteer, service
from app.drafts.places import km_between
from app.drafts.schemas import DraftCreate
from app.reports import service as report_service

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "ged-headlines-labelled.csv"
GED = ROOT / "tests" / "data" / "ucdp-ged-sample-1000.csv"
SEED = ROOT / "tests" / "data" / "drafts" / "syria-direct-2018-04-18-east-qalamoun.txt"
_TYPE_WORDS = (
    "province",
    "governorate",
    "state",
    "district",
    "region",
    "oblast",
    "department",
    "prefecture",
    "municipality",
    "county",
    "division",
)


def _strip_type(name: str) -> str:
    words = normalize_name(name).split()
    return " ".join(w for w in words if w not in _TYPE_WORDS)


def same_name(a: str, b: str) -> bool:
    x, y = _strip_type(a), _strip_type(b)
    return bool(x and y) and (x == y or fuzz.ratio(x, y) >= 85 or fuzz.token_set_ratio(x, y) >= 90)


def _chain(ref: dict[str, Any] | None) -> list[dict[str, Any]]:
    chain = []
    while ref:
        chain.append(ref)
        ref = ref.get("parent")
    return chain


def proposed_place(draft: dict[str, Any]) -> dict[str, Any] | None:
    for event in draft["events"]:
        if event.get("place"):
            return dict(event["place"])
    places = draft.get("places") or []
    return dict(places[0]) if places else None


def proposed_figure(draft: dict[str, Any]) -> int | None:
    for event in draft["events"]:
        best = (event.get("fatalities") or {}).get("best")
        if best is not None:
            return int(best)
    return None


def place_ok(place: dict[str, Any] | None, label: dict[str, str], adm1: str) -> tuple[bool, str]:
    if place is None:
        return False, "no place proposed"
    chain = _chain(place)
    if any(
        same_name(n, label["place"]) for n in [place.get("name", ""), *place.get("aliases", [])]
    ):
        return True, "same name"
    if label["latitude"] and place.get("latitude") is not None:
        km = km_between(
            (float(label["latitude"]), float(label["longitude"])),
            (place["latitude"], place["longitude"]),
        )
        if km <= 50:
            return True, f"{km:.0f} km"
    if adm1 and any(same_name(p.get("name", ""), adm1) for p in chain):
        return True, "inside adm_1"
    return False, f"proposed {place.get('name')!r}"


def accuracy(misses: bool) -> dict[str, Any]:
    ged = {row["id"]: row for row in csv.DictReader(GED.open(encoding="utf-8"))}
    labels = list(csv.DictReader(LABELS.open(encoding="utf-8")))
    tmp = tempfile.mkdtemp(prefix="bench-drafts-")
    engine = create_db_engine(f"sqlite:///{tmp}/drafts.sqlite3")
    migrate.upgrade(engine)
    tallies: dict[str, dict[str, list[bool]]] = {
        scope: {"figure": [], "no_figure": [], "place": [], "ged_best": [], "vague_range": []}
        for scope in ("all", "en")
    }
    lines: list[str] = []
    try:
        for label in labels:
            row = ged[label["id"]]
            text = "\n".join(part.strip() for part in label["headline"].split(";") if part.strip())
            if not text:
                continue
            request = DraftCreate.model_validate(
                {
                    "text": text,
                    "published_date": row["date_start"],
                    "outlet": "UCDP GED source",
                }
            )
            body = service.draft(engine, request).body
            scopes = ["all"] + (["en"] if label["language"] == "en" else [])
            figure = proposed_figure(body)
            deaths = label["deaths"]
            for scope in scopes:
                t = tallies[scope]
                if deaths.isdigit():
                    t["figure"].append(figure == int(deaths))
                elif deaths.startswith("~"):
                    first = next(
                        (e.get("fatalities") for e in body["events"] if e.get("fatalities")), None
                    )
                    t["vague_range"].append(bool(first and first.get("low") and first.get("high")))
                else:
                    t["no_figure"].append(figure is None)
                if figure is not None and row["best"]:
                    t["ged_best"].append(figure == int(row["best"]))
            if (deaths.isdigit() and figure != int(deaths)) or (not deaths and figure is not None):
                lines.append(
                    f"figure {label['id']}: labelled {deaths or '-'}, drafted {figure}: {text[:100]!r}"
                )
            if label["place"]:
                ok, why = place_ok(proposed_place(body), label, row["adm_1"])
                for scope in scopes:
                    tallies[scope]["place"].append(ok)
                if not ok:
                    lines.append(
                        f"place {label['id']}: labelled {label['place']!r} ({row['adm_1']}), {why}: {text[:80]!r}"
                    )
    finally:
        engine.dispose()
    if misses:
        print("\n".join(lines), file=sys.stderr)
    return tallies


def _pct(values: list[bool]) -> str:
    return (
        f"{100 * sum(values) / len(values):.1f}% ({sum(values)}/{len(values)})" if values else "-"
    )


def article_of(words: int, skip: int = 0) -> str:
    """The seed article, then English GED headlines from the ``skip``-th on as paragraphs, up
    to ``words`` words: each timed run drafts a text of its own (the word-key cache a process
    keeps sees the headlines' words for the first time)."""
    text = SEED.read_text(encoding="utf-8")
    english = [
        r["headline"].split(";")[0].strip()
        for r in csv.DictReader(LABELS.open(encoding="utf-8"))
        if r["language"] == "en"
    ]
    extra = english[skip:] + english[:skip]
    paragraphs = [text]
    count = len(text.split())
    for headline in extra:
        if count >= words:
            break
        sentence = headline.rstrip(".") + "."
        paragraphs.append(sentence)
        count += len(sentence.split())
    return "\n\n".join(paragraphs)


def speed(runs: int) -> dict[str, float]:
    tmp = tempfile.mkdtemp(prefix="bench-drafts-speed-")
    url = f"sqlite:///{tmp}/speed.sqlite3"
    env = {"DATABASE_URL": url, "CONFLICTDB_ENVIRONMENT": "test", "PATH": "/usr/bin:/bin"}
    cli = str(Path(sys.executable).with_name("conflictdb"))
    subprocess.run([cli, "load-demo"], env=env, check=True, capture_output=True)
    subprocess.run(
        [cli, "import", "ucdp", str(GED), "--version", "23.1"],
        env=env,
        check=True,
        capture_output=True,
    )
    engine = create_db_engine(url)

    def request_of(text: str) -> DraftCreate:
        return DraftCreate.model_validate(
            {"text": text, "published_date": "2018-04-18", "outlet": "Syria Direct"}
        )

    started, started_cpu = time.perf_counter(), time.process_time()
    gazetteer.get()
    cold = time.perf_counter() - started
    cold_cpu = time.process_time() - started_cpu
    service.draft(engine, request_of(article_of(1000)))  # a first draft, untimed
    timings, cpu, stores, words = [], [], [], []
    for n in range(runs):
        text = article_of(1000, skip=7 * (n + 1))
        words.append(len(text.split()))
        request = request_of(text)
        t0, c0 = time.perf_counter(), time.process_time()
        result = service.draft(engine, request)
        timings.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        report = result.report.model_copy(
            update={
                "article": result.report.article.model_copy(
                    update={"url": f"https://bench.example.org/{n}"}
                )
            }
        )
        t1 = time.perf_counter()
        report_service.ingest_report(engine, report)
        stores.append(time.perf_counter() - t1)
    engine.dispose()
    return {
        "words": statistics.median(words),
        "gazetteer_s": cold,
        "gazetteer_cpu_s": cold_cpu,
        "draft_ms": 1000 * statistics.median(timings),
        "draft_p90_ms": 1000 * sorted(timings)[int(0.9 * (len(timings) - 1))],
        "draft_cpu_ms": 1000 * statistics.median(cpu),
        "load": os.getloadavg()[0],
        "store_ms": 1000 * statistics.median(stores),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--misses", action="store_true", help="list what it gets wrong (stderr)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument(
        "--skip-accuracy", action="store_true", help="speed only (the gazetteer build is timed)"
    )
    args = parser.parse_args()
    if not args.skip_accuracy:
        tallies = accuracy(args.misses)
        print(f"## Drafts against {LABELS.name} ({date.today()})\n")
        print("| measure | target | all 200 | English only |")
        print("|---|---|---|---|")
        rows = [
            ("figure exact (headlines stating one)", ">= 85%", "figure"),
            ("no figure (headlines stating none)", ">= 90%", "no_figure"),
            ("place within 50 km / same / inside adm_1", ">= 80%", "place"),
            ("vague quantity drafted as a range", "-", "vague_range"),
            ("drafted figure = GED best (information)", "-", "ged_best"),
        ]
        for title, target, key in rows:
            all_, en = _pct(tallies["all"][key]), _pct(tallies["en"][key])
            print(f"| {title} | {target} | {all_} | {en} |")
    if not args.skip_speed:
        s = speed(args.runs)
        print(
            f"\n## Speed: a {s['words']:,.0f}-word article, median of {args.runs}\n\n"
            f"| draft (median) | draft (p90) | draft CPU time (median) | storing it (peer, median) "
            f"| ratio | gazetteer build (once a process) | load average |\n"
            f"|---|---|---|---|---|---|---|\n"
            f"| {s['draft_ms']:.0f} ms | {s['draft_p90_ms']:.0f} ms | {s['draft_cpu_ms']:.0f} ms "
            f"| {s['store_ms']:.0f} ms | {s['draft_ms'] / s['store_ms']:.1f}x "
            f"| {s['gazetteer_s']:.1f} s ({s['gazetteer_cpu_s']:.1f} s CPU) | {s['load']:.1f} |"
        )


if __name__ == "__main__":
    main()
