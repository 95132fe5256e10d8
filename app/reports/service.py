"""The report pipeline: validate the document, resolve actors and places, dedupe, write.

Everything runs in one write transaction: the report is written whole, or a problem response
is returned and nothing is. An identical re-post replays the stored response; a different
report for the same article is a 409.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import writer
from app.config import Settings
from app.core import bodies
from app.core.errors import (
    ArticleConflict,
    Conflict,
    ValidationProblem,
)
from app.core.normalize import normalize_name, normalize_url, sha256_text
from app.core.outcomes import Outcome
from app.db import dialect
from app.idempotency import service as idempotency
from app.reports import repository
from app.reports.resolve import Loc, StrictResolver, unprocessable
from app.reports.schemas import (
    LATER_DEFAULTS,
    ActorDescription,
    ById,
    Deaths,
    EventReferenceIn,
    Fatalities,
    MeasureIn,
    NewEventIn,
    OutletDescription,
    PlaceDescription,
    ReportCreate,
)


def parse_report(raw: bytes) -> ReportCreate:
    """Validate the JSON document strictly (JSON mode: ISO dates, no coercion of types)."""
    return bodies.validate_json(ReportCreate, raw)


def payload_sha256(report: ReportCreate) -> str:
    """Hash of the canonical JSON: the same report, however its keys are ordered or spaced.

    Fields the document gained later are left out while at their default
    (``schemas.LATER_DEFAULTS``), so a report stored before them hashes as it did then."""
    document = report.model_dump(mode="json")
    for quote in document["quotes"]:
        _drop_defaults(quote, LATER_DEFAULTS["quote"])
        if quote.get("speaker") is not None:
            _drop_defaults(quote["speaker"], LATER_DEFAULTS["speaker"])
    for event in document["events"]:
        if "event_type" not in event:
            _drop_defaults(event, LATER_DEFAULTS["reference"])
        if "fatalities" in event:
            _drop_defaults(event["fatalities"], LATER_DEFAULTS["fatalities"])
        _drop_defaults(event, LATER_DEFAULTS["event"])
    canonical = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _drop_defaults(document: dict[str, Any], defaults: dict[str, Any]) -> None:
    for name, default in defaults.items():
        if name in document and document[name] == default:
            del document[name]


@dataclass(frozen=True)
class ReportLimits:
    """A budget for each report (settings ``CONFLICTDB_REPORT_MAX_*``), so one report cannot
    hold the write lock for seconds or make pages of megabytes: the actors, places, aliases and
    affiliations it describes, counted across nesting; how deep a chain of place parents may go;
    and the characters of all its quotes together."""

    max_entities: int = 500
    max_place_depth: int = 12
    max_quote_chars: int = 200_000


def ingest_report(
    engine: Engine,
    report: ReportCreate,
    *,
    api_key_id: int | None = None,
    idem: idempotency.IdempotencyRequest | None = None,
    limits: ReportLimits = ReportLimits(),
) -> Outcome:
    """Write the report in one transaction (committed on return); retried on lost races."""
    check_budget(report, limits)
    spans = check_document(report)
    digest = payload_sha256(report)
    return idempotency.run(
        engine, idem, lambda session: _write_report(session, report, digest, spans, api_key_id)
    )


def write_report(
    session: Session,
    report: ReportCreate,
    *,
    api_key_id: int | None,
    limits: ReportLimits = ReportLimits(),
) -> Outcome:
    """The report written in the caller's transaction (``conflictdb import reports --strict``
    puts a whole file in one); the caller commits."""
    check_budget(report, limits)
    return _write_report(
        session, report, payload_sha256(report), check_document(report), api_key_id
    )


class OverBudget(ValidationProblem):
    slug, title = "report-over-budget", "The report is over a limit"


def limits_of(settings: Settings) -> ReportLimits:
    return ReportLimits(
        max_entities=settings.report_max_entities,
        max_place_depth=settings.report_max_place_depth,
        max_quote_chars=settings.report_max_quote_chars,
    )


def check_budget(report: ReportCreate, limits: ReportLimits) -> None:
    """A 422 naming the limit the report is over (``ReportLimits``), before anything is read."""
    entities = 0
    deepest = 0
    stack: list[tuple[object, int]] = [(report, 0)]
    # Walked with a stack, not recursion: the body's nesting is bounded (app.core.bodies), but
    # a walk that cannot overflow needs no bound to be safe.
    while stack:
        node, place_depth = stack.pop()
        if isinstance(node, ActorDescription):
            entities += 1 + len(node.aliases) + len(node.affiliations)
        elif isinstance(node, PlaceDescription):
            entities += 1 + len(node.aliases)
            place_depth += 1
            deepest = max(deepest, place_depth)
        if isinstance(node, BaseModel):
            stack += ((getattr(node, name), place_depth) for name in type(node).model_fields)
        elif isinstance(node, list):
            stack += ((item, place_depth) for item in node)
    problems = []
    if entities > limits.max_entities:
        problems.append(
            f"it describes {entities} actors, places, aliases and affiliations; at most "
            f"{limits.max_entities} are taken (CONFLICTDB_REPORT_MAX_ENTITIES)"
        )
    if deepest > limits.max_place_depth:
        problems.append(
            f"a place's chain of parents is {deepest} deep; at most {limits.max_place_depth} "
            "(CONFLICTDB_REPORT_MAX_PLACE_DEPTH)"
        )
    quote_chars = sum(len(q.text) for q in report.quotes)
    if quote_chars > limits.max_quote_chars:
        problems.append(
            f"its quotes hold {quote_chars} characters together; at most "
            f"{limits.max_quote_chars} (CONFLICTDB_REPORT_MAX_QUOTE_CHARS)"
        )
    if problems:
        raise OverBudget(
            "The report is over a limit: " + "; ".join(problems) + ".",
            errors=[{"loc": ["body"], "msg": p, "type": "report_budget"} for p in problems],
        )


def check_document(report: ReportCreate) -> dict[str, tuple[int, int]]:
    """Checks that need no database: keys, references between parts, quote offsets.

    Returns each quote key's (start, end) in code points.
    """
    errors: list[dict[str, Any]] = []

    def err(loc: Loc, msg: str, type_: str) -> None:
        errors.append({"loc": ["body", *loc], "msg": msg, "type": type_})

    body, title = report.article.body, report.article.title
    spans: dict[str, tuple[int, int]] = {}
    for i, q in enumerate(report.quotes):
        loc: Loc = ["quotes", i]
        if q.key in spans:
            err([*loc, "key"], f"duplicate quote key {q.key!r}", "duplicate_key")
            continue
        text = title if q.in_title else body
        where = "title" if q.in_title else "body"
        if text is None:
            if q.in_title:
                err(
                    loc,
                    f"quote {q.key!r}: the article has no title to quote from",
                    "quote_without_title",
                )
            else:
                err(
                    loc,
                    f"quote {q.key!r}: the article has no body to quote from (a quote of its "
                    'title says "in_title": true)',
                    "quote_without_body",
                )
            continue
        if (q.start is None) != (q.end is None):
            err(loc, f"quote {q.key!r}: give both start and end, or neither", "quote_offsets")
            continue
        if q.start is not None and q.end is not None:
            if text[q.start : q.end] != q.text:
                err(
                    loc,
                    f"quote {q.key!r}: the {where} at [{q.start}:{q.end}] is not the quote text "
                    "(offsets count Unicode code points)",
                    "quote_mismatch",
                )
                continue
            spans[q.key] = (q.start, q.end)
        else:
            first = text.find(q.text)
            if first < 0:
                err(
                    loc,
                    f"quote {q.key!r}: the text does not occur in the {where}",
                    "quote_not_found",
                )
                continue
            if text.find(q.text, first + 1) >= 0:
                err(
                    loc,
                    f"quote {q.key!r}: the text occurs more than once in the {where}; give "
                    "start and end",
                    "quote_ambiguous",
                )
                continue
            spans[q.key] = (first, first + len(q.text))
    in_title = {q.key: q.in_title for q in report.quotes}
    seen_spans: dict[tuple[bool, int, int], str] = {}
    for key, (start, end) in spans.items():
        span = (in_title[key], start, end)
        if span in seen_spans:
            err(
                ["quotes"],
                f"quotes {seen_spans[span]!r} and {key!r} are the same span",
                "duplicate_quote",
            )
        seen_spans[span] = key

    quote_keys = {q.key for q in report.quotes}
    event_keys: set[str] = set()
    external_ids: set[str] = set()
    referenced: set[tuple[str, object]] = set()
    for i, ev in enumerate(report.events):
        loc = ["events", i]
        if ev.key is not None:
            if ev.key in event_keys:
                err([*loc, "key"], f"duplicate event key {ev.key!r}", "duplicate_key")
            event_keys.add(ev.key)
        for j, qk in enumerate(ev.quotes):
            if qk not in quote_keys:
                err(
                    [*loc, "quotes", j], f"no quote with key {qk!r} in this report", "unknown_quote"
                )
        if not ev.quotes:
            # The evidence rule: every event a report adds to is backed by its words.
            err(
                [*loc, "quotes"],
                f"{_event_name(ev)} cites no quote: every event a report creates or adds "
                "evidence to must cite at least one quote of the report (a quote of the title "
                'for an article without a body: "in_title": true)',
                "no_evidence",
            )
        for name in ("fatalities", "deaths"):
            figures: Fatalities | Deaths = getattr(ev, name)
            if figures.quote is not None and figures.quote not in quote_keys:
                err([*loc, name, "quote"], f"no quote with key {figures.quote!r}", "unknown_quote")
        for j, m in enumerate(ev.measures):
            if m.quote is not None and m.quote not in quote_keys:
                err(
                    [*loc, "measures", j, "quote"],
                    f"no quote with key {m.quote!r}",
                    "unknown_quote",
                )
        if isinstance(ev, EventReferenceIn):
            ident = ("id", ev.id) if ev.id is not None else ("external_id", ev.external_id)
            if ident in referenced:
                err(
                    loc, f"event {ident[0]}={ident[1]!r} is referenced twice", "duplicate_reference"
                )
            referenced.add(ident)
            continue
        if ev.external_id is not None:
            if ev.external_id in external_ids:
                err(
                    [*loc, "external_id"],
                    f"duplicate external_id {ev.external_id!r}",
                    "duplicate_key",
                )
            external_ids.add(ev.external_id)
    if errors:
        raise ValidationProblem(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5]),
            errors=errors,
        )
    return spans


def _event_name(ev: NewEventIn | EventReferenceIn) -> str:
    """How a message names an event of the report: its key, else its id or external id."""
    if ev.key is not None:
        return f"event {ev.key!r}"
    if isinstance(ev, EventReferenceIn) and ev.id is not None:
        return f"the reference to event {ev.id}"
    assert isinstance(ev, EventReferenceIn)
    return f"the reference to event external_id={ev.external_id!r}"


def _resolve_outlet(
    session: Session, ref: ById | OutletDescription, vocab: repository.Vocabulary
) -> int:
    loc: Loc = ["article", "outlet"]
    if isinstance(ref, ById):
        if not repository.outlet_exists(session, ref.id):
            raise unprocessable(loc, f"no outlet with id {ref.id}", "unknown_outlet")
        return ref.id
    norm = normalize_name(ref.name)
    if not norm:
        raise unprocessable(
            [*loc, "name"], f"{ref.name!r} has no letters to match on", "empty_name"
        )
    outlet_id = repository.outlet_by_norm(session, norm)
    if outlet_id is not None:
        return outlet_id
    if ref.kind is not None and ref.kind not in vocab["outlet_kinds"]:
        raise unprocessable([*loc, "kind"], f"unknown outlet kind {ref.kind!r}", "unknown_kind")
    (outlet_id,) = writer.create_outlets(
        session,
        [
            writer.NewOutlet(
                name=ref.name,
                url=ref.url,
                country=ref.country,
                language=ref.language,
                kind=ref.kind,
            )
        ],
    )
    return outlet_id


def _existing_article(session: Session, report: ReportCreate, outlet_id: int) -> int | None:
    article = report.article
    if article.url:
        return repository.article_by_url(session, normalize_url(article.url))
    if article.body:
        return repository.article_by_content(session, outlet_id, sha256_text(article.body))
    return None  # neither URL nor body: always a new article


def _write_report(
    session: Session,
    report: ReportCreate,
    digest: str,
    spans: dict[str, tuple[int, int]],
    api_key_id: int | None,
) -> Outcome:
    # First thing in the transaction, lock every actor name the report describes, all at once
    # and in one global order, so
    # racing reports cannot both create an actor (PostgreSQL) nor deadlock on each other's
    # names (locks taken as resolution reaches them, in report order, did).
    dialect.lock_names(session, "actor", _described_actors(report))
    vocab = _vocabulary(session)
    outlet_id = _resolve_outlet(session, report.article.outlet, vocab)

    existing = _existing_article(session, report, outlet_id)
    if existing is not None:
        stored = repository.report_for_article(session, existing)
        if stored is not None and stored.payload_sha256 == digest:
            return Outcome(200, stored.response)
        raise ArticleConflict(
            f"Article {existing} already exists with a different report; "
            "add evidence to its events from another article, or edit it.",
            article_id=existing,
        )

    _check_vocabulary(report, vocab)
    resolver = StrictResolver(session, vocab)

    speaks_for: dict[str, int | None] = {}
    for i, q in enumerate(report.quotes):
        speaks_for[q.key] = (
            resolver.actor(q.speaks_for, ["quotes", i, "speaks_for"]) if q.speaks_for else None
        )

    a = report.article
    article_id = writer.create_article(
        session,
        writer.NewArticle(
            outlet_id=outlet_id,
            url=a.url,
            title=a.title,
            published_date=a.published_date,
            dateline=a.dateline,
            byline=a.byline,
            language=a.language,
            body=a.body,
        ),
    )
    quote_ids = dict(
        zip(
            [q.key for q in report.quotes],
            writer.create_quotes(
                session,
                [
                    writer.NewQuote(
                        article_id=article_id,
                        text=q.text,
                        start=spans[q.key][0],
                        end=spans[q.key][1],
                        speaker_name=q.speaker.name if q.speaker else None,
                        speaker_role=q.speaker.role if q.speaker else None,
                        speaks_for_actor_id=speaks_for[q.key],
                        in_title=q.in_title,
                        speaker_protected=bool(q.speaker and q.speaker.protected),
                    )
                    for q in report.quotes
                ],
            ),
            strict=True,
        )
    )

    new_events: list[tuple[str, writer.NewEvent]] = []
    evidence: list[tuple[str | None, int, writer.NewSource]] = []
    claims: list[tuple[int, writer.NewClaim]] = []
    for i, ev in enumerate(report.events):
        loc: Loc = ["events", i]
        source = writer.NewSource(article_id, [quote_ids[k] for k in ev.quotes])
        if isinstance(ev, EventReferenceIn):
            if ev.id is not None:
                event_id = repository.event_by_id(session, ev.id)
                if event_id is None:
                    raise unprocessable([*loc, "id"], f"no event with id {ev.id}", "unknown_event")
            else:
                assert ev.external_id is not None
                event_id = repository.event_by_external_id(session, ev.external_id)
                if event_id is None:
                    raise unprocessable(
                        [*loc, "external_id"],
                        f"no event with external_id {ev.external_id!r}",
                        "unknown_event",
                    )
            evidence.append((ev.key, event_id, source))
            claims += ((event_id, c) for c in _claims_of(ev, article_id, quote_ids))
            continue
        new_events.append((ev.key, _new_event(session, resolver, ev, loc, source, quote_ids)))

    for i, actor_ref in enumerate(report.actors):
        resolver.actor(actor_ref, ["actors", i])
    for i, place_ref in enumerate(report.places):
        resolver.place(place_ref, ["places", i])

    event_ids = writer.create_events(session, [e for _, e in new_events], api_key_id=api_key_id)
    writer.add_sources(
        session,
        [(event_id, src) for _, event_id, src in evidence],
        claims=claims,
        api_key_id=api_key_id,
    )
    # Answer in the order the client listed its events.
    ids_by_key = {key: eid for (key, _), eid in zip(new_events, event_ids, strict=True)}
    ids_by_key.update({key: eid for key, eid, _ in evidence if key is not None})
    events_out = {ev.key: ids_by_key[ev.key] for ev in report.events if ev.key is not None}

    body = {
        "article": {"id": article_id},
        "quotes": quote_ids,
        "events": events_out,
        "actors": list(resolver.actors.values()),
        "places": list(resolver.places.values()),
    }
    writer.record_report(session, article_id, digest, body)
    writer.audit(
        session,
        "report.create",
        api_key_id=api_key_id,
        entity="article",
        entity_id=article_id,
        detail={"events": sorted(set(events_out.values())), "quotes": len(quote_ids)},
    )
    return Outcome(201, body)


def _described_actors(report: ReportCreate) -> set[tuple[str, str]]:
    """(normalised name, country) of every actor described by name anywhere in the report."""
    found: set[tuple[str, str]] = set()
    # Walked with a stack (as check_budget walks), not recursion: one set, no set per node.
    stack: list[object] = [report]
    while stack:
        node = stack.pop()
        if isinstance(node, BaseModel):
            if isinstance(node, ActorDescription):
                found.add((normalize_name(node.name), node.country or ""))
            for name in type(node).model_fields:
                value = getattr(node, name)
                if isinstance(value, BaseModel | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(item for item in node if isinstance(item, BaseModel | list))
    return found


# The ACLED vocabularies are seeded by migrations and no route changes them: read once per
# database (by URL) and process, not on every report (five queries a report, before).
_VOCABULARIES: dict[str, repository.Vocabulary] = {}


def _vocabulary(session: Session) -> repository.Vocabulary:
    key = str(session.get_bind().engine.url)
    vocab = _VOCABULARIES.get(key)
    if vocab is None:
        vocab = _VOCABULARIES[key] = repository.vocabulary(session)
    return vocab


def _check_vocabulary(report: ReportCreate, vocab: repository.Vocabulary) -> None:
    errors = []
    for i, ev in enumerate(report.events):
        if not isinstance(ev, NewEventIn):
            continue
        subs = vocab["event_types"].get(ev.event_type)
        if subs is None:
            errors.append(
                {
                    "loc": ["body", "events", i, "event_type"],
                    "msg": f"unknown event type {ev.event_type!r}",
                    "type": "unknown_event_type",
                }
            )
        elif ev.sub_event_type is not None and ev.sub_event_type not in subs:
            errors.append(
                {
                    "loc": ["body", "events", i, "sub_event_type"],
                    "msg": f"{ev.sub_event_type!r} is not a sub-type of {ev.event_type!r}",
                    "type": "unknown_sub_event_type",
                }
            )
    if errors:
        raise ValidationProblem(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
            + " (see GET /v1/vocabulary)",
            errors=errors,
        )


def _new_event(
    session: Session,
    resolver: StrictResolver,
    ev: NewEventIn,
    loc: Loc,
    source: writer.NewSource,
    quote_ids: dict[str, int],
) -> writer.NewEvent:
    if ev.external_id is not None:
        existing = repository.event_by_external_id(session, ev.external_id)
        if existing is not None:
            raise Conflict(
                f"An event with external_id {ev.external_id!r} exists (id {existing}); "
                'to add this article as evidence, refer to it as {"external_id": ...}.',
                event_id=existing,
            )
    place_id = resolver.place(ev.place, [*loc, "place"]) if ev.place is not None else None
    actors: dict[int, writer.NewEventActor] = {}
    for j, ea in enumerate(ev.actors):
        actor_id = resolver.actor(ea.actor, [*loc, "actors", j, "actor"])
        if actor_id in actors:
            raise unprocessable(
                [*loc, "actors", j], "this actor is already listed for the event", "duplicate_actor"
            )
        actors[actor_id] = writer.NewEventActor(actor_id=actor_id, role=ea.role, side=ea.side)
    figures = {name: value for name, value, _ in _figures(ev.fatalities, ev.deaths)}
    return writer.NewEvent(
        event_type=ev.event_type,
        sub_event_type=ev.sub_event_type,
        external_id=ev.external_id,
        date_start=ev.date_start,
        date_end=ev.date_end or ev.date_start,
        date_precision=ev.date_precision,
        place_id=place_id,
        geo_precision=ev.geo_precision,
        summary=ev.summary,
        fatalities_low=figures.get("fatalities_low"),
        fatalities_best=figures.get("fatalities_best"),
        fatalities_high=figures.get("fatalities_high"),
        deaths_a=figures.get("deaths_a"),
        deaths_b=figures.get("deaths_b"),
        deaths_civilians=figures.get("deaths_civilians"),
        deaths_unknown=figures.get("deaths_unknown"),
        figure_quote_ids={
            name: quote_ids[quote] for name, _, quote in _figures(ev.fatalities, ev.deaths) if quote
        },
        actors=list(actors.values()),
        measures=[
            writer.NewMeasure(
                kind=m.kind,
                value=m.value,
                qualifier=m.qualifier,
                quote_id=quote_ids[m.quote] if m.quote else None,
            )
            for m in ev.measures
        ],
        sources=[source],
    )


def _figures(fatalities: Fatalities, deaths: Deaths) -> list[tuple[str, int | None, str | None]]:
    """(event field, value, quote key) of each figure a report's event gives."""
    return [
        ("fatalities_low", fatalities.low, fatalities.quote),
        ("fatalities_best", fatalities.best, fatalities.quote),
        ("fatalities_high", fatalities.high, fatalities.quote),
        ("deaths_a", deaths.side_a, deaths.quote),
        ("deaths_b", deaths.side_b, deaths.quote),
        ("deaths_civilians", deaths.civilians, deaths.quote),
        ("deaths_unknown", deaths.unknown, deaths.quote),
    ]


def _claims_of(
    ev: EventReferenceIn, article_id: int, quote_ids: dict[str, int]
) -> list[writer.NewClaim]:
    """The claims an article makes about an existing event it reports."""
    out = [
        writer.NewClaim(
            field=name,
            value=value,
            article_id=article_id,
            quote_id=quote_ids[quote] if quote else None,
        )
        for name, value, quote in _figures(ev.fatalities, ev.deaths)
        if value is not None
    ]
    out += [_measure_claim(m, article_id, quote_ids) for m in ev.measures]
    return out


def _measure_claim(m: MeasureIn, article_id: int, quote_ids: dict[str, int]) -> writer.NewClaim:
    return writer.NewClaim(
        field=writer.MEASURE,
        value=m.value,
        kind=m.kind,
        qualifier=m.qualifier,
        article_id=article_id,
        quote_id=quote_ids[m.quote] if m.quote else None,
    )
