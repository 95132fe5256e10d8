"""Names in a report resolved to records: actors within their country and kind, places inside
their parent, each found through its aliases (case, accents, Arabic article variants) or
created when new. The response says what was matched and what was created."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app import writer
from app.actors import repository as actor_repository
from app.core.errors import AmbiguousName, Unprocessable, ValidationProblem
from app.core.normalize import normalize_name
from app.places import repository as place_repository
from app.reports.repository import Vocabulary
from app.reports.schemas import ActorDescription, ById, PlaceDescription

Loc = list[str | int]


@dataclass
class StrictResolver:
    """Finds or creates the actors and places a report names, once each per report.

    Strict about ambiguity: a name that matches several records is refused (422
    ``ambiguous-name``, listing the candidates), since the client can say which one it
    meant. Dataset imports cannot be asked, and resolve by best match instead
    (``app.datasets.resolve.BestMatchResolver``).
    """

    session: Session
    vocab: Vocabulary
    actors: dict[int, dict[str, Any]] = field(default_factory=dict)
    places: dict[int, dict[str, Any]] = field(default_factory=dict)
    _actor_cache: dict[tuple[str, str | None, str | None], int] = field(default_factory=dict)
    _place_cache: dict[tuple[str, int | None, str | None], int] = field(default_factory=dict)

    def _note(self, book: dict[int, dict[str, Any]], id_: int, name: str, status: str) -> None:
        book.setdefault(id_, {"name": name, "id": id_, "status": status})

    # -- actors --------------------------------------------------------------------------
    def actor(self, ref: ById | ActorDescription, loc: Loc) -> int:
        if isinstance(ref, ById):
            live = actor_repository.live_actor(self.session, ref.id)
            if live is None:
                raise unprocessable(loc, f"no actor with id {ref.id}", "unknown_actor")
            # A merged actor's id keeps working: it stands for the survivor.
            self._note(self.actors, live.id, live.name, "matched")
            return live.id
        norm = normalize_name(ref.name)
        if not norm:
            raise unprocessable(
                [*loc, "name"], f"{ref.name!r} has no letters to match on", "empty_name"
            )
        if ref.kind is not None and ref.kind not in self.vocab["actor_kinds"]:
            raise unprocessable([*loc, "kind"], f"unknown actor kind {ref.kind!r}", "unknown_kind")
        cache_key = (norm, ref.country, ref.kind)
        actor_id = self._actor_cache.get(cache_key)
        if actor_id is None:
            # With the names each candidate has, when the report gives aliases to add: one
            # statement, not a second per actor matched.
            named = actor_repository.actor_candidates_with_names(
                self.session, norm, ref.country, ref.kind
            )
            candidates = [c for c, _ in named]
            if len(candidates) > 1:
                raise AmbiguousName(
                    f"The actor name {ref.name!r} matches {len(candidates)} actors; "
                    "refer to one by id or narrow it with country and kind.",
                    candidates=candidates,
                    errors=[
                        {
                            "loc": ["body", *loc],
                            "msg": "ambiguous actor name",
                            "type": "ambiguous_name",
                        }
                    ],
                )
            if candidates:
                actor_id = candidates[0]["id"]
                if ref.aliases:
                    writer.add_actor_aliases(self.session, actor_id, ref.aliases, list(named[0][1]))
                self._note(self.actors, actor_id, candidates[0]["name"], "matched")
            else:
                if ref.kind is None:
                    raise unprocessable(
                        [*loc, "kind"],
                        f"actor {ref.name!r} is new: its kind is required",
                        "kind_required",
                    )
                (actor_id,) = writer.create_actors(
                    self.session,
                    [
                        writer.NewActor(
                            name=ref.name, kind=ref.kind, country=ref.country, aliases=ref.aliases
                        )
                    ],
                )
                self._note(self.actors, actor_id, ref.name, "created")
            self._actor_cache[cache_key] = actor_id
        if ref.affiliations:
            existing = actor_repository.affiliations_of(self.session, actor_id)
            new: list[writer.NewAffiliation] = []
            for j, aff in enumerate(ref.affiliations):
                aff_loc: Loc = [*loc, "affiliations", j]
                related = self.actor(aff.actor, [*aff_loc, "actor"])
                if related == actor_id:
                    raise unprocessable(
                        aff_loc, "an actor cannot be affiliated with itself", "self_affiliation"
                    )
                if aff.since and aff.until and aff.until < aff.since:
                    raise unprocessable(aff_loc, "until is before since", "date_order")
                if (related, aff.relation) not in existing:
                    existing.add((related, aff.relation))
                    new.append(
                        writer.NewAffiliation(actor_id, related, aff.relation, aff.since, aff.until)
                    )
            writer.add_affiliations(self.session, new)
        return actor_id

    # -- places --------------------------------------------------------------------------
    def place(self, ref: ById | PlaceDescription, loc: Loc) -> int:
        if isinstance(ref, ById):
            row = place_repository.place_row(self.session, ref.id)
            if row is None:
                raise unprocessable(loc, f"no place with id {ref.id}", "unknown_place")
            self._note(self.places, row.id, row.name, "matched")
            return row.id
        norm = normalize_name(ref.name)
        if not norm:
            raise unprocessable(
                [*loc, "name"], f"{ref.name!r} has no letters to match on", "empty_name"
            )
        parent_id = self.place(ref.parent, [*loc, "parent"]) if ref.parent is not None else None
        cache_key = (norm, parent_id, ref.country if parent_id is None else None)
        if cache_key in self._place_cache:
            return self._place_cache[cache_key]
        place_id: int | None = None
        known_names: set[str] | None = None
        if ref.geonames_id is not None:
            place_id = place_repository.place_by_geonames(self.session, ref.geonames_id)
            if place_id is not None:
                row = place_repository.place_row(self.session, place_id)
                assert row is not None
                place_id = row.id  # the survivor, if it was merged
                self._note(self.places, place_id, row.name, "matched")
        if place_id is None:
            named = place_repository.place_candidates_with_names(
                self.session,
                norm,
                within=parent_id,
                country=ref.country if parent_id is None else None,
                kind=None,
            )
            candidates = [c for c, _ in named]
            if len(candidates) > 1:
                raise AmbiguousName(
                    f"The place name {ref.name!r} matches {len(candidates)} places; "
                    "refer to one by id or give its parent.",
                    candidates=candidates,
                    errors=[
                        {
                            "loc": ["body", *loc],
                            "msg": "ambiguous place name",
                            "type": "ambiguous_name",
                        }
                    ],
                )
            if candidates:
                place_id = candidates[0]["id"]
                known_names = named[0][1]
                self._note(self.places, place_id, candidates[0]["name"], "matched")
            else:
                place_id = self._create_place(ref, parent_id, loc)
        if ref.aliases:
            if known_names is None:  # found by its GeoNames id, or just created
                known_names = set(place_repository.place_alias_norms(self.session, place_id))
            writer.add_place_aliases(self.session, place_id, ref.aliases, list(known_names))
        self._place_cache[cache_key] = place_id
        return place_id

    def _create_place(self, ref: PlaceDescription, parent_id: int | None, loc: Loc) -> int:
        if ref.kind is None:
            raise unprocessable(
                [*loc, "kind"], f"place {ref.name!r} is new: its kind is required", "kind_required"
            )
        if ref.kind not in self.vocab["place_kinds"]:
            raise unprocessable([*loc, "kind"], f"unknown place kind {ref.kind!r}", "unknown_kind")
        country = ref.country
        if country is None and parent_id is not None:
            parent = place_repository.place_row(self.session, parent_id)
            country = parent.country if parent else None
        (place_id,) = writer.create_places(
            self.session,
            [
                writer.NewPlace(
                    name=ref.name,
                    kind=ref.kind,
                    country=country,
                    parent_id=parent_id,
                    latitude=ref.latitude,
                    longitude=ref.longitude,
                    geonames_id=ref.geonames_id,
                    aliases=ref.aliases,
                )
            ],
        )
        self._note(self.places, place_id, ref.name, "created")
        return place_id


def unprocessable(loc: Loc, msg: str, type_: str) -> Unprocessable:
    return ValidationProblem(
        f"{'.'.join(map(str, ['body', *loc]))}: {msg}",
        errors=[{"loc": ["body", *loc], "msg": msg, "type": type_}],
    )
