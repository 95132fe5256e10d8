"""Finding or creating the places, actors, outlets and articles of dataset rows, a batch at a time.

Names are matched as the report pipeline matches them (``app.reports.resolve.StrictResolver``):
normalised names and aliases, places inside their parent, actors within their country and
kind. Unlike the report pipeline, a name matching several records is not an error here (a
dataset cannot be asked which one it meant): the best candidate is taken, as documented on
each method, so an import never stops on an ambiguous name.

What has been resolved is cached in memory across batches (countries by ISO code, places by
parent and name, actors by dataset id or by name, outlets by name), so the database is asked
only about names not seen before, once per batch for all of them. Articles are looked up per
batch instead: they seldom repeat beyond neighbouring rows, and a cache of every article
would grow with the file.

The caches follow the transactions: whatever a savepoint created is forgotten when it rolls
back (``Journal``), so a retried or bisected batch never refers to rows that are gone.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from app import writer
from app.core.normalize import normalize_url, normalized
from app.datasets import repository
from app.formats.records import (
    UNATTRIBUTED_OUTLET,
    ActorSpec,
    EventRecord,
    PlaceSpec,
    SourceSpec,
)

# Names repeat across rows by the thousand; normalising is the costliest step of a lookup.
# The writer's cache: the names resolved here are the ones it then stores.
norm = normalized


class Journal:
    """An undo log for the caches, one frame per open (nested) transaction."""

    def __init__(self) -> None:
        self._frames: list[list[Callable[[], Any]]] = []

    def begin(self) -> None:
        self._frames.append([])

    def commit(self) -> None:
        frame = self._frames.pop()
        if self._frames:
            self._frames[-1].extend(frame)

    def rollback(self) -> None:
        for undo in reversed(self._frames.pop()):
            undo()

    def put(self, mapping: dict[Any, Any], key: Hashable, value: Any) -> None:
        """Cache a new entry (never an overwrite: undoing removes it)."""
        mapping[key] = value
        if self._frames:
            self._frames[-1].append(partial(mapping.pop, key, None))

    def add(self, items: set[Any], key: Hashable) -> None:
        if key not in items:
            items.add(key)
            if self._frames:
                self._frames[-1].append(partial(items.discard, key))


@dataclass
class Resolved:
    """A record's references as ids: its place, its actors, its sources' articles."""

    place_id: int | None
    actors: list[writer.NewEventActor]
    article_ids: list[int]
    dimension_ids: list[int] = field(default_factory=list)


ActorKey = tuple[str, ...] | tuple[str, str | None, str | None, str]


def actor_key(spec: ActorSpec) -> ActorKey:
    if spec.external_id:
        return ("id", spec.external_id)
    return ("name", norm(spec.name), spec.country, spec.kind)


def article_identity(outlet_id: int, spec: SourceSpec) -> str:
    """The identity of a citation without URL or body: outlet, date and headline.

    The outlet id is part of the hashed text as well as of the index key, so two outlets'
    untitled, undated citations never share a hash either.
    """
    day = spec.published_date.isoformat() if spec.published_date else ""
    title = spec.headline if spec.outlet else spec.raw
    return hashlib.sha256(f"{outlet_id}|{day}|{title or ''}".encode()).hexdigest()


@dataclass
class BestMatchResolver:
    """Finds or creates what dataset rows name, a batch at a time, through caches kept across
    batches. Lenient about ambiguity: a name matching several records takes the best
    candidate, as documented on each method (a dataset cannot be asked which one it meant;
    reports can, and are refused instead: ``app.reports.resolve.StrictResolver``)."""

    dataset_id: int
    journal: Journal = field(default_factory=Journal)
    countries: dict[str, int] = field(default_factory=dict)
    places: dict[tuple[int, str], int] = field(default_factory=dict)
    # Places known to have coordinates, and (place id, normalised name) pairs known to exist.
    located: set[int] = field(default_factory=set)
    place_names: set[tuple[int, str]] = field(default_factory=set)
    actors: dict[ActorKey, int] = field(default_factory=dict)
    # (member actor id, coalition actor id) pairs known to be tied by 'member_of'.
    memberships: set[tuple[int, int]] = field(default_factory=set)
    outlets: dict[str, int] = field(default_factory=dict)
    # (scheme, code) -> dimension_code id; and the ids known to have a label.
    codes: dict[tuple[str, str], int] = field(default_factory=dict)
    labelled: set[int] = field(default_factory=set)

    def begin(self) -> None:
        self.journal.begin()

    def commit(self) -> None:
        self.journal.commit()

    def rollback(self) -> None:
        self.journal.rollback()

    def resolve(self, session: Session, records: Sequence[EventRecord]) -> list[Resolved]:
        place_ids = self._places(session, records)
        actors = self._actors(session, records)
        articles = self._articles(session, records)
        dimensions = self._dimensions(session, records)
        return [
            Resolved(place_id, event_actors, article_ids, dimension_ids)
            for place_id, event_actors, article_ids, dimension_ids in zip(
                place_ids, actors, articles, dimensions, strict=True
            )
        ]

    # -- dimension codes (issue 12) --------------------------------------------------------

    def _dimensions(self, session: Session, records: Sequence[EventRecord]) -> list[list[int]]:
        """Each record's codes as ``dimension_code`` ids. A code an open scheme does not have
        yet is added, with the label the row gives (a closed scheme's codes were checked
        before: ``loader.problem``); a known code without a label gets the row's."""
        labels: dict[tuple[str, str], str | None] = {}
        for record in records:
            for scheme, code, label in record.dimensions:
                key = (scheme, code)
                if labels.get(key) is None:
                    labels[key] = label
        missing = [key for key in labels if key not in self.codes]
        if missing:
            found = repository.dimension_codes(session, missing)
            for key, (code_id, label) in found.items():
                self.journal.put(self.codes, key, code_id)
                if label is not None:
                    self.journal.add(self.labelled, code_id)
            new = [key for key in missing if key not in found]
            ids = writer.create_dimension_codes(session, [(*key, labels[key]) for key in new])
            for key, code_id in zip(new, ids, strict=True):
                self.journal.put(self.codes, key, code_id)
                if labels[key] is not None:
                    self.journal.add(self.labelled, code_id)
        fill = {
            self.codes[key]: label
            for key, label in labels.items()
            if label is not None and self.codes[key] not in self.labelled
        }
        if fill:
            writer.label_dimension_codes(session, fill)
            for code_id in fill:
                self.journal.add(self.labelled, code_id)
        return [
            list(dict.fromkeys(self.codes[(scheme, code)] for scheme, code, _ in r.dimensions))
            for r in records
        ]

    # -- places --------------------------------------------------------------------------

    def _places(self, session: Session, records: Sequence[EventRecord]) -> list[int | None]:
        """Each record's deepest place, its chain found or created level by level.

        A country is found by its ISO code: the top-level place of kind 'country' in it, else
        a top-level place of the country with the country's name. Below, a place is found by
        name or alias anywhere inside the place found for its parent (as reports match);
        among several, the one of the same kind first, then a direct child, then one whose
        own name (not an alias) matches, then the oldest.
        """
        chains = [r.places for r in records]
        parents: list[int | None] = [None] * len(records)
        aliases: dict[int, list[str]] = defaultdict(list)
        coordinates: dict[int, tuple[float, float]] = {}
        depth = max((len(c) for c in chains), default=0)
        for level in range(depth):
            at_level = [(i, chain[level]) for i, chain in enumerate(chains) if len(chain) > level]
            if level == 0:
                ids = self._countries(session, [spec for _, spec in at_level])
            else:
                ids = self._children(
                    session,
                    [(parents[i], spec) for i, spec in at_level],  # type: ignore[misc]
                )
            for (i, spec), place_id in zip(at_level, ids, strict=True):
                parents[i] = place_id
                for name in spec.aliases:
                    if (place_id, norm(name)) not in self.place_names:
                        aliases[place_id].append(name)
                lat, lon = spec.latitude, spec.longitude
                if lat is not None and lon is not None and place_id not in self.located:
                    coordinates.setdefault(place_id, (lat, lon))
        for place_id, names in sorted(aliases.items()):
            writer.add_place_aliases(session, place_id, names, existing=())
            for name in names:
                self.journal.add(self.place_names, (place_id, norm(name)))
        writer.fill_place_coordinates(session, coordinates)
        for place_id in coordinates:
            self.journal.add(self.located, place_id)
        return parents

    def _learn_names(self, session: Session, place_ids: list[int]) -> None:
        for place_id, norms in repository.place_alias_norms(session, place_ids).items():
            for n in norms:
                self.journal.add(self.place_names, (place_id, n))

    def _create_places(self, session: Session, new: list[writer.NewPlace]) -> list[int]:
        ids = writer.create_places(session, new)
        for place_id, place in zip(ids, new, strict=True):
            for name in (place.name, *place.aliases):
                self.journal.add(self.place_names, (place_id, norm(name)))
            if place.latitude is not None:
                self.journal.add(self.located, place_id)
        return ids

    def _countries(self, session: Session, specs: list[PlaceSpec]) -> list[int]:
        first: dict[str, PlaceSpec] = {}
        for spec in specs:
            assert spec.country is not None  # checked before resolving
            if spec.country not in self.countries:
                first.setdefault(spec.country, spec)
        if first:
            by_country: dict[str, list[repository.TopLevelPlace]] = defaultdict(list)
            for row in repository.top_level_places(session, first):
                by_country[row["country"]].append(row)
            found: list[int] = []
            for code, spec in first.items():
                rows = by_country.get(code, [])
                match = next((r for r in rows if r["kind"] == "country"), None) or next(
                    (r for r in rows if r["name_norm"] == norm(spec.name)), None
                )
                if match is not None:
                    self.journal.put(self.countries, code, match["id"])
                    found.append(match["id"])
                    if match["located"]:
                        self.journal.add(self.located, match["id"])
            self._learn_names(session, found)
            new = [
                (code, _new_place(spec, None, [s for s in specs if s.country == code]))
                for code, spec in first.items()
                if code not in self.countries
            ]
            ids = self._create_places(session, [p for _, p in new])
            for (code, _), place_id in zip(new, ids, strict=True):
                self.journal.put(self.countries, code, place_id)
        return [self.countries[spec.country] for spec in specs]  # type: ignore[index]

    def _children(self, session: Session, items: list[tuple[int, PlaceSpec]]) -> list[int]:
        keys = [(parent, norm(spec.name)) for parent, spec in items]
        missing: dict[tuple[int, str], PlaceSpec] = {}
        for key, (_, spec) in zip(keys, items, strict=True):
            if key not in self.places:
                missing.setdefault(key, spec)
        if missing:
            candidates: dict[tuple[int, str], list[repository.PlaceWithin]] = defaultdict(list)
            for row in repository.places_named_within(
                session, {p for p, _ in missing}, {n for _, n in missing}
            ):
                candidates[(row["ancestor_id"], row["alias_norm"])].append(row)
            found: list[int] = []
            for key, spec in missing.items():
                rows = candidates.get(key)
                if not rows:
                    continue
                parent, name = key
                best = min(
                    rows,
                    key=lambda r: (
                        r["kind"] != spec.kind,
                        r["parent_id"] != parent,
                        r["name_norm"] != name,
                        r["id"],
                    ),
                )
                self.journal.put(self.places, key, best["id"])
                found.append(best["id"])
                if best["located"]:
                    self.journal.add(self.located, best["id"])
            self._learn_names(session, found)
            new_keys = [key for key in missing if key not in self.places]
            same_key: dict[tuple[int, str], list[PlaceSpec]] = defaultdict(list)
            for key, (_, spec) in zip(keys, items, strict=True):
                if key in missing:
                    same_key[key].append(spec)
            ids = self._create_places(
                session, [_new_place(missing[k], k[0], same_key[k]) for k in new_keys]
            )
            for key, place_id in zip(new_keys, ids, strict=True):
                self.journal.put(self.places, key, place_id)
        return [self.places[key] for key in keys]

    # -- actors --------------------------------------------------------------------------

    def _actors(
        self, session: Session, records: Sequence[EventRecord]
    ) -> list[list[writer.NewEventActor]]:
        """Each record's actors as ids.

        An actor with a dataset id (UCDP's side ids) is found by that id first; otherwise,
        and for actors without one (ACLED's), by normalised name or alias among actors of the
        same kind (and country, when the row says it), the one in the country the row implies
        first, then the oldest. One name, kind and country is one group whatever its ids (UCDP
        gives the "DPR" of Ukraine two side ids: both are one actor with both ids); a name
        match that stands for another id of the dataset in another country is a different
        group (the "UCK"s of Kosovo and of Macedonia), and a new actor is made.

        The groups of a coalition (``EventRecord.member_actors``) are actors of the event
        too, after the two sides, and each is linked to its coalition as 'member_of'.
        """
        missing: dict[ActorKey, ActorSpec] = {}
        for record in records:
            for spec in (*record.actors, *record.member_actors):
                key = actor_key(spec)
                if key not in self.actors:
                    missing.setdefault(key, spec)
        if missing:
            self._find_actors(session, missing)
        out: list[list[writer.NewEventActor]] = []
        memberships: dict[tuple[int, int], None] = {}
        for record in records:
            event_actors: dict[int, writer.NewEventActor] = {}
            for spec in (*record.actors, *record.member_actors):
                actor_id = self.actors[actor_key(spec)]
                # One row per actor and event: an actor named twice keeps its first side/role.
                event_actors.setdefault(
                    actor_id,
                    writer.NewEventActor(actor_id=actor_id, role=spec.role, side=spec.side),
                )
            for member in record.member_actors:
                coalition = next(a for a in record.actors if a.members and a.side == member.side)
                pair = (self.actors[actor_key(member)], self.actors[actor_key(coalition)])
                if pair[0] != pair[1] and pair not in self.memberships:
                    memberships[pair] = None
            out.append(list(event_actors.values()))
        if memberships:
            self._link_members(session, list(memberships))
        return out

    def _link_members(self, session: Session, pairs: list[tuple[int, int]]) -> None:
        """'member_of' ties (member id, coalition id) not yet known, found or made."""
        existing = repository.affiliations(session, pairs, "member_of")
        writer.add_affiliations(
            session,
            [
                writer.NewAffiliation(
                    actor_id=member, related_actor_id=coalition, relation="member_of"
                )
                for member, coalition in pairs
                if (member, coalition) not in existing
            ],
        )
        for pair in pairs:
            self.journal.add(self.memberships, pair)

    def _find_actors(self, session: Session, missing: dict[ActorKey, ActorSpec]) -> None:
        by_id = [spec.external_id for spec in missing.values() if spec.external_id]
        if by_id:
            for external_id, actor_id in repository.actors_by_external_id(
                session, self.dataset_id, by_id
            ).items():
                self.journal.put(self.actors, ("id", external_id), actor_id)
        unresolved = {k: s for k, s in missing.items() if k not in self.actors}
        if not unresolved:
            return
        by_name: dict[str, list[repository.NamedActor]] = defaultdict(list)
        for row in repository.actors_named(
            session, self.dataset_id, {norm(s.name) for s in unresolved.values()}
        ):
            by_name[row["alias_norm"]].append(row)
        links: list[tuple[int, int, str]] = []
        new: list[tuple[ActorKey, ActorSpec]] = []
        for key, spec in unresolved.items():
            home = spec.country or spec.implied_country
            match = next(
                (
                    r
                    for r in sorted(
                        by_name.get(norm(spec.name), []),
                        # The namesake in the country the row implies first, then the oldest.
                        key=lambda r: (r["country"] != home, r["id"]),
                    )
                    if r["kind"] == spec.kind
                    and (spec.country is None or r["country"] == spec.country)
                    # A side with an id of its own is one group with a namesake of the same
                    # kind in its country (UCDP gives one group two ids: two "DPR"s in
                    # Ukraine), not with one elsewhere (the "UCK" of Kosovo and Macedonia).
                    and not (spec.external_id and r["has_external_id"] and r["country"] != home)
                ),
                None,
            )
            if match is None:
                new.append((key, spec))
                continue
            self.journal.put(self.actors, key, match["id"])
            if spec.external_id:
                links.append((match["id"], self.dataset_id, spec.external_id))
        # One actor per group within the batch too: sides of one name, kind and country are
        # one actor whatever their ids; a group named without an id (a member of a joint
        # side) joins a side of its name and kind, in its country if there is one.
        groups: dict[tuple[str, str, str | None], list[tuple[ActorKey, ActorSpec]]] = defaultdict(
            list
        )
        for key, spec in new:
            if spec.external_id:
                groups[(norm(spec.name), spec.kind, spec.country or spec.implied_country)].append(
                    (key, spec)
                )
        nameless: list[tuple[ActorKey, ActorSpec]] = []
        for key, spec in new:
            if spec.external_id:
                continue
            home = spec.country or spec.implied_country
            candidates = [
                g
                for g in groups
                if g[:2] == (norm(spec.name), spec.kind)
                and (spec.country is None or g[2] == spec.country)
            ]
            if candidates:
                best = min(candidates, key=lambda g: (g[2] != home, g[2] or ""))
                groups[best].append((key, spec))
            else:
                nameless.append((key, spec))
        for key, spec in nameless:  # groups of their own, one per key
            groups[("", "", str(len(groups)))] = [(key, spec)]
        members = list(groups.values())
        firsts = [next((s for _, s in m if s.external_id), m[0][1]) for m in members]
        ids = writer.create_actors(
            session,
            [
                writer.NewActor(name=s.name, kind=s.kind, country=s.country or s.implied_country)
                for s in firsts
            ],
        )
        for group, actor_id in zip(members, ids, strict=True):
            for key, spec in group:
                self.journal.put(self.actors, key, actor_id)
                if spec.external_id:
                    links.append((actor_id, self.dataset_id, spec.external_id))
        writer.add_actor_external_ids(session, links)

    # -- outlets and articles ------------------------------------------------------------

    def _outlet_ids(self, session: Session, names: set[str]) -> None:
        missing: dict[str, str] = {}
        for name in names:
            n = norm(name)
            if n not in self.outlets:
                missing.setdefault(n, name)
        if not missing:
            return
        for n, outlet_id in repository.outlets_by_norm(session, missing).items():
            self.journal.put(self.outlets, n, outlet_id)
        new = [(n, name) for n, name in missing.items() if n not in self.outlets]
        ids = writer.create_outlets(session, [writer.NewOutlet(name=name) for _, name in new])
        for (n, _), outlet_id in zip(new, ids, strict=True):
            self.journal.put(self.outlets, n, outlet_id)

    def _articles(self, session: Session, records: Sequence[EventRecord]) -> list[list[int]]:
        """Each record's sources as article ids, found or created.

        An article is identified by its URL when it has one; otherwise by outlet, date and
        headline (``article_identity``), stored as its content hash. ACLED names only the
        outlet: its citations of one outlet are then one undated, untitled article of that
        outlet, shared by the events citing it.
        """
        self._outlet_ids(
            session,
            {s.outlet or UNATTRIBUTED_OUTLET for r in records for s in r.sources},
        )
        keyed: list[list[tuple[tuple[Any, ...], writer.NewArticle]]] = []
        for record in records:
            keys: list[tuple[tuple[Any, ...], writer.NewArticle]] = []
            for spec in record.sources:
                outlet_id = self.outlets[norm(spec.outlet or UNATTRIBUTED_OUTLET)]
                article = writer.NewArticle(
                    outlet_id=outlet_id,
                    url=spec.url,
                    title=spec.headline if spec.outlet else spec.raw,
                    published_date=spec.published_date,
                )
                if spec.url:
                    keys.append((("url", normalize_url(spec.url)), article))
                else:
                    article.identity_sha256 = article_identity(outlet_id, spec)
                    keys.append((("hash", outlet_id, article.identity_sha256), article))
            keyed.append(keys)
        wanted = {key: article for keys in keyed for key, article in keys}
        found: dict[tuple[Any, ...], int] = {}
        urls = [key[1] for key in wanted if key[0] == "url"]
        if urls:
            found.update(
                (("url", url), article_id)
                for url, article_id in repository.articles_by_url(session, urls).items()
            )
        hashes = [(key[1], key[2]) for key in wanted if key[0] == "hash"]
        if hashes:
            found.update(
                (("hash", *pair), article_id)
                for pair, article_id in repository.articles_by_identity(session, hashes).items()
            )
        new = [key for key in wanted if key not in found]
        ids = writer.create_articles(session, [wanted[key] for key in new])
        found.update(zip(new, ids, strict=True))
        return [list(dict.fromkeys(found[key] for key, _ in keys)) for keys in keyed]


def _new_place(
    spec: PlaceSpec, parent_id: int | None, same: Sequence[PlaceSpec]
) -> writer.NewPlace:
    """A new place from the first spec naming it; the aliases of every spec naming it in the
    batch, and the first coordinates any of them gives."""
    located = next((s for s in same if s.latitude is not None and s.longitude is not None), None)
    aliases = list(dict.fromkeys(a for s in same for a in s.aliases))
    return writer.NewPlace(
        name=spec.name,
        kind=spec.kind,
        country=spec.country,
        parent_id=parent_id,
        latitude=located.latitude if located else None,
        longitude=located.longitude if located else None,
        aliases=aliases,
    )
