"""Upgrading a database that holds data: from every earlier revision to head, on both databases.

For each revision r below head, a fresh database walks the chain from base to r; at each
revision on the way it receives the data that revision made possible, written in plain SQL
over the tables as reflected at that revision (never today's ORM models: they describe
head). Then it is upgraded to head, and:

- every row written is still there, with the values written;
- the derived state (rollups, search documents, change feed) is what the app derives from
  the data (``tests/derived_check.py``), and what this file's own spec says it is;
- the app reads it (lists, details, search, the change feed, API keys), and writes on top of it.

A new revision adds its entry to ``SEEDS``: the data it makes possible, or ``None`` and why.

Last, data written by today's app is taken below 0005 and back up: the revision's frozen
derivation must give exactly the rollups and search documents the writer kept.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, MetaData, Table, bindparam, text

from app.config import Settings
from app.db import migrate
from app.db.session import create_db_engine
from app.main import create_app
from tests.conftest import make_key
from tests.datasets.test_loader import ged_rows, import_ged
from tests.derived_check import assert_derived_consistent
from tests.writer.helpers import etag_of


def _chain() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


REVISIONS = _chain()

# Rollup members as this file specifies them: (month, country, admin1 place key or None,
# event type, sub-event type, fatalities best, low, high).
Member = tuple[date, str, str | None, str, str, int, int, int]


def _at(day: int, hour: int = 9, micro: int = 0) -> datetime:
    return datetime(2018, 4, day, hour, 30, 15, micro, tzinfo=UTC)


def _day(value: date | str) -> date:
    """A date as read by plain SQL (SQLite stores ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _norm(value: Any) -> Any:
    """Timestamps compared in UTC, as both databases give them back (SQLite: naive UTC)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


@dataclass
class Stored:
    """What the walk wrote: rows by table and primary key (the values written), named ids,
    and each event's date, status and expected rollup member (None when not active)."""

    rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    ids: dict[str, int] = field(default_factory=dict)
    events: dict[str, tuple[date, str]] = field(default_factory=dict)
    members: dict[str, Member | None] = field(default_factory=dict)
    search_docs: dict[str, str] = field(default_factory=dict)


class Seeding:
    """Plain-SQL writes at one revision, over the tables as they are at that revision."""

    def __init__(self, conn: Connection, stored: Stored) -> None:
        self.conn = conn
        self.stored = stored
        self._tables: dict[str, Table] = {}

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    def table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = Table(name, MetaData(), autoload_with=self.conn)
        return self._tables[name]

    def insert(self, table_name: str, key: str | None = None, /, **values: Any) -> Any:
        table = self.table(table_name)
        pk = tuple(
            self.conn.execute(table.insert().values(**values).returning(*table.primary_key)).one()
        )
        self.stored.rows[table_name][pk] = {
            **values,
            **{c.name: v for c, v in zip(table.primary_key, pk, strict=True)},
        }
        if key is not None:
            (self.stored.ids[key],) = pk
        return pk[0] if len(pk) == 1 else pk

    def update(self, table_name: str, pk: tuple[Any, ...], /, **values: Any) -> None:
        table = self.table(table_name)
        where = [c == v for c, v in zip(table.primary_key, pk, strict=True)]
        assert self.conn.execute(table.update().where(*where).values(**values)).rowcount == 1
        self.stored.rows[table_name].setdefault(pk, {}).update(values)

    def id(self, name: str) -> int:
        return self.stored.ids[name]

    def place(self, name: str, key: str, kind: str, parent: str | None, **values: Any) -> int:
        """A place with its closure rows and its primary name as an alias, as the app writes."""
        parent_id = self.id(parent) if parent else None
        name_norm = values.pop("name_norm")
        depth = 0
        if parent_id is not None:
            depth = (
                1
                + self.conn.execute(
                    text("SELECT depth FROM place WHERE id = :id"), {"id": parent_id}
                ).scalar_one()
            )
        place_id = self.insert(
            "place",
            key,
            name=name,
            name_norm=name_norm,
            kind=kind,
            parent_id=parent_id,
            depth=depth,
            created_at=_at(1),
            updated_at=_at(1),
            **values,
        )
        self.insert("place_ancestor", ancestor_id=place_id, place_id=place_id, depth=0)
        if parent_id is not None:
            for ancestor_id, up in self.conn.execute(
                text("SELECT ancestor_id, depth FROM place_ancestor WHERE place_id = :p"),
                {"p": parent_id},
            ).all():
                self.insert(
                    "place_ancestor", ancestor_id=ancestor_id, place_id=place_id, depth=up + 1
                )
        self.insert("place_alias", place_id=place_id, name=name, name_norm=name_norm)
        return int(place_id)

    def event(self, key: str, member: Member | None, **values: Any) -> int:
        values.setdefault("date_end", values["date_start"])
        values.setdefault("date_precision", "day")
        values.setdefault("status", "active")
        values.setdefault("created_at", _at(19))
        values.setdefault("updated_at", _at(19))
        event_id = int(self.insert("event", key, **values))
        self.stored.events[key] = (values["date_start"], values["status"])
        self.stored.members[key] = member
        return event_id

    def quote(self, key: str, article: str, body: str, text_: str, **values: Any) -> int:
        start = body.index(text_)
        return int(
            self.insert(
                "quote",
                key,
                article_id=self.id(article),
                text=text_,
                start_offset=start,
                end_offset=start + len(text_),
                created_at=_at(19),
                updated_at=_at(19),
                **values,
            )
        )


# -- what each revision made possible --------------------------------------------------------

BODY_1 = (
    "Rebels in East Qalamoun agreed on Wednesday to hand over their heavy weapons. "
    '"We will not leave our homes without guarantees," said Muhammad al-Ḥaddād, a local '
    "commander. Clashes on the outskirts of al-Ruhaybah killed at least five fighters."
)
BODY_2 = "Les bus sont arrivés à Jayroud. L'évacuation des combattants a commencé à l'aube."
ADMIN_KEY = "cdb_0123abcd_" + "k" * 32
REVOKED_KEY = "cdb_89abcdef_" + "r" * 32


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def seed_0001(s: Seeding) -> None:
    """The relational core: outlets, articles with bodies, quotes, a place hierarchy with its
    closure, actors with aliases and affiliations, events with actors, sources, measures."""
    s.insert(
        "outlet",
        "syria_direct",
        name="Syria Direct",
        name_norm="syria direct",
        url="https://syriadirect.org",
        domain="syriadirect.org",
        country="SY",
        language="en",
        kind="local",
        created_at=_at(1),
        updated_at=_at(1),
    )
    s.insert(
        "outlet",
        "enab",
        name="Enab Baladi",
        name_norm="enab baladi",
        kind="national",
        created_at=_at(1),
        updated_at=_at(1),
    )
    s.place("Syria", "syria", "country", None, name_norm="syria", country="SY")
    s.place("Iraq", "iraq", "country", None, name_norm="iraq", country="IQ")
    s.place("Rif Dimashq", "rif", "admin1", "syria", name_norm="rif dimashq", country="SY")
    s.place("Homs", "homs", "admin1", "syria", name_norm="homs", country="SY")
    s.place("East Qalamoun", "eq", "region", "rif", name_norm="east qalamoun", country="SY")
    s.place(
        "al-Ruhaybah",
        "ruhaybah",
        "populated_place",
        "eq",
        name_norm="ruhaybah",
        country="SY",
        latitude=33.7436,
        longitude=36.7003,
        geonames_id=169577,
    )
    s.insert("place_alias", place_id=s.id("ruhaybah"), name="al-Rhaibeh", name_norm="rhaibeh")
    s.place("Rhaibeh", "rhaibeh_old", "populated_place", "eq", name_norm="rhaibeh", country="SY")
    s.place(
        "Rastan",
        "rastan",
        "populated_place",
        "homs",
        name_norm="rastan",
        country="SY",
        latitude=34.9266,
        longitude=36.7324,
    )

    def actor(key: str, name: str, norm: str, kind: str, country: str | None) -> int:
        actor_id = int(
            s.insert(
                "actor",
                key,
                name=name,
                name_norm=norm,
                kind=kind,
                country=country,
                created_at=_at(1),
                updated_at=_at(1),
            )
        )
        s.insert("actor_alias", actor_id=actor_id, name=name, name_norm=norm)
        return actor_id

    actor("jai", "Jaish al-Islam", "jaish islam", "rebel_group", "SY")
    actor("saa", "Syrian Arab Army", "syrian arab army", "state_forces", "SY")
    actor("rmp", "Russian Military Police", "russian military police", "external_forces", "RU")
    actor("jai_douma", "Jaish al-Islam (Douma)", "jaish islam douma", "rebel_group", "SY")
    s.insert("actor_alias", actor_id=s.id("jai"), name="JAI", name_norm="jai")
    s.insert(
        "actor_affiliation",
        actor_id=s.id("jai_douma"),
        related_actor_id=s.id("jai"),
        relation="member_of",
        since_date=date(2013, 9, 29),
    )
    s.insert(
        "article",
        "a1",
        outlet_id=s.id("syria_direct"),
        url="https://syriadirect.org/news/east-qalamoun-deal/",
        url_norm="https://syriadirect.org/news/east-qalamoun-deal",
        title="Rebels and government reach deal in East Qalamoun",
        published_date=date(2018, 4, 19),
        dateline="AMMAN",
        byline="Tariq Adely",
        language="en",
        body=BODY_1,
        content_sha256=_sha(BODY_1),
        created_at=_at(19),
        updated_at=_at(19),
    )
    s.insert(
        "article",
        "a2",
        outlet_id=s.id("enab"),
        title="Évacuation des combattants de Qalamoun",
        published_date=date(2018, 4, 20),
        language="fr",
        body=BODY_2,
        content_sha256=_sha(BODY_2),
        created_at=_at(20),
        updated_at=_at(20),
    )
    s.quote(
        "q1",
        "a1",
        BODY_1,
        "We will not leave our homes without guarantees",
        speaker_name="Muhammad al-Ḥaddād",
        speaker_role="commander",
        speaks_for_actor_id=s.id("jai"),
    )
    s.quote("q2", "a1", BODY_1, "killed at least five fighters", speaker_name="Syria Direct")
    s.quote("q3", "a2", BODY_2, "Les bus sont arrivés à Jayroud.")
    s.insert(
        "report",
        article_id=s.id("a1"),
        payload_sha256="ab" * 32,
        response={"article": {"id": s.id("a1")}, "events": {"deal": 1}, "notes": ["ünïcode"]},
        created_at=_at(19, micro=654321),
    )

    april, sd = date(2018, 4, 1), "Strategic developments"
    e1 = s.event(
        "e1",
        (april, "SY", "rif", sd, "Agreement", 0, 0, 0),
        event_type=sd,
        sub_event_type="Agreement",
        date_start=date(2018, 4, 18),
        place_id=s.id("ruhaybah"),
        geo_precision=1,
        summary="Rebels agreed to leave East Qalamoun for Jarābulus.",
        created_at=_at(19, micro=123456),
    )
    e2 = s.event(
        "e2",
        (april, "SY", "rif", "Battles", "Armed clash", 5, 3, 6),
        event_type="Battles",
        sub_event_type="Armed clash",
        date_start=date(2018, 4, 2),
        place_id=s.id("eq"),
        geo_precision=2,
        summary="Clashes on the outskirts of al-Ruhaybah.",
        fatalities_low=3,
        fatalities_best=5,
        fatalities_high=6,
    )
    s.event(
        "e3",
        (april, "SY", "rif", "Battles", "Armed clash", 1, 0, 0),
        event_type="Battles",
        sub_event_type="Armed clash",
        date_start=date(2018, 4, 25),
        place_id=s.id("rif"),
        fatalities_best=1,
    )
    s.event(
        "e4",
        (date(2018, 5, 1), "SY", None, "Battles", "", 2, 0, 0),
        event_type="Battles",
        date_start=date(2018, 5, 31),
        date_end=date(2018, 6, 2),
        date_precision="week",
        place_id=s.id("syria"),
        geo_precision=3,
        fatalities_best=2,
    )
    s.event(
        "e5",
        (date(2017, 12, 1), "", None, "Protests", "Peaceful protest", 0, 0, 0),
        event_type="Protests",
        sub_event_type="Peaceful protest",
        date_start=date(2017, 12, 3),
        summary="A protest whose place is not known.",
    )
    s.event(
        "e6",
        (date(2018, 2, 1), "IQ", None, "Riots", "Mob violence", 0, 0, 0),
        event_type="Riots",
        sub_event_type="Mob violence",
        date_start=date(2018, 2, 14),
        date_precision="month",
        place_id=s.id("iraq"),
    )
    s.event(
        "e7",
        (date(2018, 3, 1), "SY", "homs", "Violence against civilians", "Attack", 4, 4, 6),
        event_type="Violence against civilians",
        sub_event_type="Attack",
        date_start=date(2018, 3, 9),
        place_id=s.id("rastan"),
        fatalities_low=4,
        fatalities_best=4,
        fatalities_high=6,
    )
    e8 = s.event(
        "e8",
        None,
        event_type="Explosions/Remote violence",
        sub_event_type="Air/drone strike",
        date_start=date(2018, 3, 10),
        place_id=s.id("rastan"),
        summary="Strike on Talbiseh market",
        fatalities_best=10,
        status="retracted",
    )
    s.stored.search_docs["e8"] = (
        "strike on talbiseh market evacuation des combattants de qalamoun"
        " les bus sont arrives a jayroud"
    )
    for event_id, actor_key, side, role in (
        (e1, "jai", "a", "primary"),
        (e1, "saa", "b", "primary"),
        (e1, "rmp", None, "mediator"),
        (e2, "saa", "a", "primary"),
        (e2, "jai", "b", "target"),
    ):
        s.insert("event_actor", event_id=event_id, actor_id=s.id(actor_key), side=side, role=role)
    for event_id, article, quotes in (
        (e1, "a1", ["q1", "q2"]),
        (e1, "a2", ["q3"]),
        (e2, "a1", ["q2"]),
        (e8, "a2", ["q3"]),
    ):
        source_id = s.insert("event_source", event_id=event_id, article_id=s.id(article))
        for quote in quotes:
            s.insert("event_source_quote", event_source_id=source_id, quote_id=s.id(quote))
    s.insert(
        "event_measure",
        event_id=e2,
        kind="fatalities",
        value=5.0,
        qualifier="at least",
        quote_id=s.id("q2"),
    )
    s.insert("event_measure", event_id=e1, kind="buses", value=None, qualifier="several")


def seed_0002(s: Seeding) -> None:
    """API keys, an idempotency record, event revisions, the audit log; a retraction with its
    reason, row versions, and merges of an actor and a place."""
    admin = s.insert(
        "api_key",
        name="dashboard admin",
        kind="key",
        prefix=ADMIN_KEY[:12],
        key_sha256=_sha(ADMIN_KEY),
        scopes="admin",
        created_at=_at(2),
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    s.insert(
        "api_key",
        name="old importer",
        kind="key",
        prefix=REVOKED_KEY[:12],
        key_sha256=_sha(REVOKED_KEY),
        scopes="write",
        created_at=_at(2),
        revoked_at=_at(3),
    )
    local = s.insert(
        "api_key",
        name="cli",
        kind="local",
        prefix="local:cli",
        scopes="write",
        created_at=_at(2),
    )
    s.insert(
        "idempotency_key",
        api_key_id=admin,
        key="retry-7f3a",
        method="POST",
        path="/v1/reports",
        request_sha256="cd" * 32,
        response_status=201,
        response_body={"article": {"id": s.id("a1")}, "events": {"deal": s.id("e1")}},
        created_at=_at(19),
        expires_at=_at(20),
    )
    e2, e6 = s.id("e2"), s.id("e6")
    s.update("event", (e2,), version=2, fatalities_high=8, updated_at=_at(21))
    s.stored.members["e2"] = (date(2018, 4, 1), "SY", "rif", "Battles", "Armed clash", 5, 3, 8)
    s.insert(
        "event_revision",
        event_id=e2,
        api_key_id=admin,
        action="update",
        changes={"fatalities_high": [6, 8]},
        changed_at=_at(21),
    )
    s.update(
        "event",
        (e6,),
        status="retracted",
        retraction_reason="Duplicate of a report from another outlet.",
        retracted_at=_at(22),
        version=2,
        updated_at=_at(22),
    )
    s.stored.events["e6"] = (s.stored.events["e6"][0], "retracted")
    s.stored.members["e6"] = None
    s.insert(
        "event_revision",
        event_id=e6,
        api_key_id=None,
        action="retract",
        changes={"status": ["active", "retracted"]},
        changed_at=_at(22),
    )
    s.update("actor", (s.id("jai_douma"),), merged_into_id=s.id("jai"), version=2)
    s.update("place", (s.id("rhaibeh_old"),), merged_into_id=s.id("ruhaybah"), version=2)
    s.update("article", (s.id("a2"),), version=3)
    s.update("quote", (s.id("q1"),), version=2)
    s.update("outlet", (s.id("enab"),), version=2)
    s.insert(
        "audit_log",
        at=_at(22, micro=1),
        api_key_id=local,
        action="import.run",
        entity="dataset",
        entity_id=None,
        detail={"rows": 3, "notes": ["é"], "nested": {"a": [1, 2]}},
    )


def seed_0003(s: Seeding) -> None:
    """Provenance: a dataset, an imported event with its original row, an actor's external id."""
    ged = s.insert(
        "dataset",
        name="UCDP GED",
        licence="CC BY 4.0",
        citation="Sundberg, Ralph, and Erik Melander (2013)",
        url="https://ucdp.uu.se/downloads/",
    )
    s.insert("actor_external_id", actor_id=s.id("saa"), dataset_id=ged, external_id="side_a:116")
    e9 = s.event(
        "e9",
        (date(2018, 4, 1), "SY", "rif", "Battles", "Armed clash", 2, 2, 4),
        external_id="ged:254311",
        event_type="Battles",
        sub_event_type="Armed clash",
        date_start=date(2018, 4, 30),
        place_id=s.id("ruhaybah"),
        fatalities_low=2,
        fatalities_best=2,
        fatalities_high=4,
    )
    s.insert(
        "event_provenance",
        event_id=e9,
        dataset_id=ged,
        external_id="254311",
        dataset_version="23.1",
        content_sha256="ef" * 32,
        imported_version=1,
        original={"id": 254311, "best": 2, "where_coordinates": "al-Ruhaybah", "low": 2},
        imported_at=_at(23),
    )


def seed_0004(s: Seeding) -> None:
    """A merged place frees its name: a new sibling takes it."""
    s.place("Rhaibeh", "rhaibeh_new", "populated_place", "eq", name_norm="rhaibeh", country="SY")
    s.event(
        "e10",
        (date(2018, 4, 1), "SY", "rif", "Strategic developments", "Agreement", 0, 0, 0),
        event_type="Strategic developments",
        sub_event_type="Agreement",
        date_start=date(2018, 4, 21),
        place_id=s.id("rhaibeh_new"),
    )


def seed_0005(s: Seeding) -> None:
    """One write as the app of this revision made it, derived state included: e3 retracted and
    e11 created in one transaction, under the next data version."""
    version = s.conn.execute(text("SELECT version FROM data_version WHERE id = 1")).scalar_one() + 1
    e3 = s.id("e3")
    s.update(
        "event",
        (e3,),
        status="retracted",
        retraction_reason="Wrong month.",
        retracted_at=_at(24),
        version=2,
        updated_at=_at(24),
    )
    s.stored.events["e3"] = (s.stored.events["e3"][0], "retracted")
    s.stored.members["e3"] = None
    e11 = s.event(
        "e11",
        (date(2018, 3, 1), "SY", "homs", "Explosions/Remote violence", "Grenade", 7, 0, 0),
        event_type="Explosions/Remote violence",
        sub_event_type="Grenade",
        date_start=date(2018, 3, 20),
        place_id=s.id("homs"),
        summary="Grenade thrown at a checkpoint in Homs.",
        fatalities_best=7,
        created_at=_at(24),
        updated_at=_at(24),
    )
    s.stored.search_docs["e11"] = "grenade thrown at a checkpoint in homs"
    rollup_key = (
        "month = :month AND country = 'SY' AND admin1_id = :rif"
        " AND event_type = 'Battles' AND sub_event_type = 'Armed clash'"
    )
    s.conn.execute(
        text(
            "UPDATE event_rollup SET events = events - 1, fatalities_best = fatalities_best - 1"
            f" WHERE {rollup_key}"
        ),
        {"month": date(2018, 4, 1), "rif": s.id("rif")},
    )
    s.conn.execute(text("DELETE FROM event_rollup_member WHERE event_id = :e"), {"e": e3})
    member = {
        "month": date(2018, 3, 1),
        "country": "SY",
        "admin1_id": s.id("homs"),
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Grenade",
        "fatalities_best": 7,
        "fatalities_low": 0,
        "fatalities_high": 0,
    }
    s.insert("event_rollup_member", event_id=e11, **member)
    s.insert("event_rollup", events=1, **member)
    s.insert("event_change", version=version, event_id=e3, action="retracted", changed_at=_at(24))
    s.insert("event_change", version=version, event_id=e11, action="created", changed_at=_at(24))
    s.update("data_version", (1,), version=version, changed_at=_at(24))
    if s.dialect == "sqlite":
        s.conn.execute(
            text("INSERT INTO event_search (rowid, body) VALUES (:id, :body)"),
            {"id": e11, "body": s.stored.search_docs["e11"]},
        )
    else:
        s.conn.execute(
            text(
                "INSERT INTO event_search (event_id, document)"
                " VALUES (:id, to_tsvector('simple', CAST(:body AS TEXT)))"
            ),
            {"id": e11, "body": s.stored.search_docs["e11"]},
        )


def seed_0008(s: Seeding) -> None:
    """Issue 12: the imported event's fatalities by whom, and its dataset codes (a seeded
    closed code, and a conflict id an import added)."""
    conflict = s.insert(
        "dimension_code", scheme="ucdp.conflict", code="299", label="Syria: Government"
    )
    violence = s.conn.execute(
        text("SELECT id FROM dimension_code WHERE scheme = 'ucdp.type_of_violence' AND code = '1'")
    ).scalar_one()
    e9 = s.id("e9")
    s.update("event", (e9,), deaths_a=0, deaths_b=2, deaths_civilians=0, deaths_unknown=0)
    s.insert("event_dimension", code_id=violence, event_id=e9)
    s.insert("event_dimension", code_id=conflict, event_id=e9)


def seed_0009(s: Seeding) -> None:
    """Evidence (0009): a quote of a title, a protected speaker, claims side by side (a measure, and a
    withdrawn figure), an incident linking two records with its lead and link revisions."""
    title = "Rebels and government reach deal in East Qalamoun"
    s.insert(
        "quote",
        "q_title",
        article_id=s.id("a1"),
        text="reach deal",
        start_offset=title.index("reach deal"),
        end_offset=title.index("reach deal") + len("reach deal"),
        in_title=True,
        created_at=_at(25),
        updated_at=_at(25),
    )
    s.update("quote", (s.id("q1"),), speaker_protected=True)
    e1, e2 = s.id("e1"), s.id("e2")
    s.insert(
        "claim",
        event_id=e1,
        field="measure",
        kind="evacuated fighters",
        value=1500.0,
        qualifier="about",
        origin="source",
        article_id=s.id("a2"),
        quote_id=s.id("q3"),
        created_at=_at(25),
    )
    s.insert(
        "claim",
        event_id=e1,
        field="fatalities_best",
        value=40.0,
        origin="curator",
        created_at=_at(25),
        withdrawn_at=_at(26),
        withdrawn_reason="A typo: 4, not 40.",
    )
    # e1 and e2 were first reported on the same day (by a1): the lower id leads.
    incident = s.insert(
        "incident", lead_event_id=e1, version=1, created_at=_at(26), updated_at=_at(26)
    )
    for event_id in (e1, e2):
        s.update("event", (event_id,), incident_id=incident)
        s.insert(
            "event_revision",
            event_id=event_id,
            api_key_id=None,
            action="link",
            changes={"incident_id": [None, incident]},
            changed_at=_at(26),
        )


def seed_0011(s: Seeding) -> None:
    """A shared rate-limit bucket, half spent: kept as it is by later revisions."""
    s.insert("rate_limit_bucket", bucket="key:1", tokens=299.5, refilled_at=1.8e9, allowed=True)
    s.insert(
        "rate_limit_bucket",
        bucket="addr:10.0.0.7",
        tokens=0.25,
        refilled_at=1.8e9 + 0.5,
        allowed=False,
    )


def seed_0012(s: Seeding) -> None:
    """A later version's commit time (the history tables have no key of their own: their rows
    are the app's, checked by tests/events/test_as_of.py): kept by later revisions."""
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    s.insert(
        "version_history",
        version=10**6,
        changed_at=at.replace(tzinfo=None) if s.dialect == "sqlite" else at,
    )


# Every revision's data (or None, and why). A new revision must add itself here.
SEEDS: dict[str, Callable[[Seeding], None] | None] = {
    "0001": seed_0001,
    "0002": seed_0002,
    "0003": seed_0003,
    "0004": seed_0004,
    "0005": seed_0005,
    "0006": None,  # indexes only
    "0007": None,  # indexes only (PostgreSQL's operator class)
    "0008": seed_0008,
    "0009": seed_0009,
    "0011": seed_0011,
    "0012": seed_0012,
}


def test_every_revision_says_what_data_it_adds() -> None:
    assert list(SEEDS) == REVISIONS


# -- the walk --------------------------------------------------------------------------------


@pytest.fixture
def bare_engine(empty_database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(empty_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _walk_to(engine: Engine, target: str) -> Stored:
    stored = Stored()
    for revision in REVISIONS[: REVISIONS.index(target) + 1]:
        migrate.upgrade(engine, revision)
        seed = SEEDS[revision]
        if seed is not None:
            with engine.begin() as conn:
                seed(Seeding(conn, stored))
    return stored


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_upgrade_to_head_keeps_the_data(
    revision: str, bare_engine: Engine, empty_database_url: str
) -> None:
    engine = bare_engine
    stored = _walk_to(engine, revision)
    migrate.upgrade(engine)

    _assert_rows_kept(engine, stored)
    _assert_versions_defaulted(engine, stored, revision)
    assert_derived_consistent(empty_database_url)
    _assert_derived_as_specified(engine, stored)
    _assert_app_reads(empty_database_url, stored, revision)
    _assert_app_writes(empty_database_url, engine, stored)
    assert_derived_consistent(empty_database_url)


# Tables a migration writes rows to (0005 derives them; 0008 seeds the dataset schemes' closed
# codes; 0009 makes figures claims): the walk's rows must be among theirs.
DERIVED = (
    "data_version",
    "event_change",
    "event_rollup",
    "event_rollup_member",
    "dimension_code",
    "claim",
)


def _assert_rows_kept(engine: Engine, stored: Stored) -> None:
    with engine.connect() as conn:
        for table_name, rows in stored.rows.items():
            if table_name == "event_measure":
                _assert_measures_became_claims(conn, rows)
                continue
            if table_name == "data_version":
                continue  # 0009 advances it: _assert_derived_as_specified says how far
            table = Table(table_name, MetaData(), autoload_with=conn)
            pk = list(table.primary_key)
            found = {
                tuple(row[c.name] for c in pk): row
                for row in conn.execute(table.select()).mappings()
            }
            if table_name not in DERIVED:
                assert set(found) == set(rows), f"{table_name}: rows lost or added"
            for key, values in rows.items():
                assert key in found, f"{table_name} {key} is gone"
                got = {name: _norm(found[key][name]) for name in values}
                want = {name: _norm(value) for name, value in values.items()}
                assert got == want, f"{table_name} {key}"


def _assert_measures_became_claims(
    conn: Connection, rows: dict[tuple[Any, ...], dict[str, Any]]
) -> None:
    """0009 made every measure a claim (of its quote's article, else its event's first)."""
    measures = sorted(
        (r["event_id"], r["kind"], r.get("value"), r.get("qualifier"), r.get("quote_id"))
        for r in rows.values()
    )
    claims = conn.execute(
        text(
            "SELECT event_id, kind, value, qualifier, quote_id, origin, article_id FROM claim"
            " WHERE field = 'measure' AND event_id IN :events AND kind IN :kinds"
        ).bindparams(bindparam("events", expanding=True), bindparam("kinds", expanding=True)),
        {"events": sorted({m[0] for m in measures}), "kinds": sorted({m[1] for m in measures})},
    ).all()
    assert sorted(tuple(c[:5]) for c in claims) == measures
    for claim in claims:
        assert claim.origin == "source" and claim.article_id is not None, claim


def _assert_versions_defaulted(engine: Engine, stored: Stored, revision: str) -> None:
    """Rows written before 0002 added row versions have version 1; later ones kept theirs."""
    with engine.connect() as conn:
        versions: dict[int, int] = dict(conn.execute(text("SELECT id, version FROM event")).all())
        merged = conn.execute(
            text("SELECT merged_into_id FROM place WHERE id = :id"),
            {"id": stored.ids["rhaibeh_old"]},
        ).scalar_one()
    assert versions[stored.ids["e1"]] == 1
    if revision >= "0002":
        assert versions[stored.ids["e2"]] == 2
        assert merged == stored.ids["ruhaybah"]
    else:
        assert versions[stored.ids["e2"]] == 1
        assert merged is None


def _expected_rollups(stored: Stored) -> tuple[dict[int, tuple[Any, ...]], dict[Any, list[int]]]:
    members: dict[int, tuple[Any, ...]] = {}
    rollups: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for key, member in stored.members.items():
        if member is None:
            continue
        month, country, admin1, event_type, sub, best, low, high = member
        row = (month, country, stored.ids[admin1] if admin1 else 0, event_type, sub)
        members[stored.ids[key]] = (*row, best, low, high)
        sums = rollups[row]
        for i, value in enumerate((1, best, low, high)):
            sums[i] += value
    return members, dict(rollups)


def _assert_derived_as_specified(engine: Engine, stored: Stored) -> None:
    """The derived state, against this file's spec (not the app's code, not the revision's)."""
    members, rollups = _expected_rollups(stored)
    with engine.connect() as conn:
        got_members = {
            row[0]: (_day(row[1]), *row[2:])
            for row in conn.execute(
                text(
                    "SELECT event_id, month, country, admin1_id, event_type, sub_event_type,"
                    " fatalities_best, fatalities_low, fatalities_high FROM event_rollup_member"
                )
            )
        }
        got_rollups = {
            (_day(row[0]), *row[1:5]): list(row[5:])
            for row in conn.execute(
                text(
                    "SELECT month, country, admin1_id, event_type, sub_event_type, events,"
                    " fatalities_best, fatalities_low, fatalities_high FROM event_rollup"
                )
            )
        }
        for key, body in stored.search_docs.items():
            if conn.dialect.name == "sqlite":
                got = conn.execute(
                    text("SELECT body FROM event_search WHERE rowid = :id"), {"id": stored.ids[key]}
                ).scalar_one()
                assert got == body, key
            else:
                same = conn.execute(
                    text(
                        "SELECT document = to_tsvector('simple', CAST(:body AS TEXT))"
                        " FROM event_search WHERE event_id = :id"
                    ),
                    {"id": stored.ids[key], "body": body},
                ).scalar_one()
                assert same, key
        feed = conn.execute(
            text(
                "SELECT version, event_id, action, changed_at FROM event_change"
                " ORDER BY version, event_id"
            )
        ).all()
        data_version = conn.execute(text("SELECT version FROM data_version")).scalar_one()
    assert got_members == members
    assert got_rollups == rollups
    # 0005 gave the events it found one 'created' change each, all under data version 1
    # (at one time); a write made at 0005 follows under version 2.
    written = {(c["version"], c["event_id"]) for c in stored.rows["event_change"].values()}
    derived = [c for c in feed if (c.version, c.event_id) not in written]
    from_0005 = [c for c in derived if c.action == "created"]
    assert {c.event_id for c in from_0005} == {stored.ids[k] for k in stored.events if k != "e11"}
    assert {c.version for c in from_0005} == {1}
    assert len({c.changed_at for c in from_0005}) == 1
    before = 2 if "e11" in stored.events else 1
    # 0009 changed every event's row (its evidence columns): one change each, under the next
    # data version (the walk always passes 0009, as it is below head or is the target).
    from_0009 = [c for c in derived if c.action != "created"]
    assert {c.event_id: c.action for c in from_0009} == {
        stored.ids[k]: "updated" if status == "active" else "retracted"
        for k, (_, status) in stored.events.items()
    }
    assert {c.version for c in from_0009} == {before + 1}
    assert data_version == before + 1
    if "e11" in stored.events:
        assert [(c.version, c.event_id, c.action) for c in feed if c.version == 2] == [
            (2, stored.ids["e3"], "retracted"),
            (2, stored.ids["e11"], "created"),
        ]


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        environment="test",
        demo=False,
        migrate_on_start=False,
        rate_limit_per_minute=0,
    )


def _assert_app_reads(url: str, stored: Stored, revision: str) -> None:
    ids = stored.ids
    with TestClient(create_app(_settings(url))) as client:
        listed = client.get("/v1/events")
        assert listed.status_code == 200, listed.text
        active = sorted(
            (k for k, (_, status) in stored.events.items() if status == "active"),
            key=lambda k: (stored.events[k][0], ids[k]),
            reverse=True,
        )
        assert [e["id"] for e in listed.json()["data"]] == [ids[k] for k in active]
        everything = client.get("/v1/events", params={"include_retracted": "true"}).json()
        assert {e["id"] for e in everything["data"]} == {ids[k] for k in stored.events}

        e1 = client.get(f"/v1/events/{ids['e1']}")
        assert e1.status_code == 200, e1.text
        body = e1.json()
        assert body["summary"] == "Rebels agreed to leave East Qalamoun for Jarābulus."
        assert body["place"]["id"] == ids["ruhaybah"]
        assert [a["name"] for a in body["place"]["ancestors"]] == [
            "Syria",
            "Rif Dimashq",
            "East Qalamoun",
        ]
        assert [(a["id"], a["side"], a["role"]) for a in body["actors"]] == [
            (ids["jai"], "a", "primary"),
            (ids["saa"], "b", "primary"),
            (ids["rmp"], None, "mediator"),
        ]
        sources = {s["article_id"]: s for s in body["sources"]}
        assert set(sources) == {ids["a1"], ids["a2"]}
        assert sources[ids["a1"]]["outlet"] == {"id": ids["syria_direct"], "name": "Syria Direct"}
        quotes = sources[ids["a1"]]["quotes"]
        assert [q["id"] for q in quotes] == [ids["q1"], ids["q2"]]
        assert all(BODY_1[q["start"] : q["end"]] == q["text"] for q in quotes)
        if revision >= "0009":  # protected at 0009: named to curators only
            assert quotes[0]["speaker"]["name"] == "a source"
            curator = client.get(
                f"/v1/events/{ids['e1']}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
            ).json()
            named = {s["article_id"]: s for s in curator["sources"]}[ids["a1"]]["quotes"][0]
            assert named["speaker"]["name"] == "Muhammad al-Ḥaddād"
            assert body["incident"] is not None
            assert [m["kind"] for m in body["measures"]] == ["buses", "evacuated fighters"]
        else:
            assert quotes[0]["speaker"]["name"] == "Muhammad al-Ḥaddād"
        if revision < "0009":
            assert [m["kind"] for m in body["measures"]] == ["buses"]

        e6 = client.get(f"/v1/events/{ids['e6']}").json()
        if revision >= "0002":
            assert e6["status"] == "retracted"
            assert e6["retraction_reason"] == "Duplicate of a report from another outlet."
        else:
            assert (e6["status"], e6["retraction_reason"], e6["version"]) == ("active", None, 1)

        # Search: accents folded, summary, titles and quotes all indexed; retracted events too.
        for q, expected in (
            ("jarabulus", {"e1"}),
            ("evacuation", {"e1"}),
            ('"without guarantees"', {"e1"}),
            ("fighters", {"e1", "e2"}),
        ):
            found = client.get("/v1/events", params={"q": q}).json()["data"]
            assert {e["id"] for e in found} == {ids[k] for k in expected}, q
        found = client.get("/v1/events", params={"q": "talbiseh", "include_retracted": "true"})
        assert [e["id"] for e in found.json()["data"]] == [ids["e8"]]

        changes = client.get("/v1/changes", params={"limit": 1000}).json()["data"]
        first: dict[int, Any] = {}
        for change in changes:
            first.setdefault(change["event_id"], change["action"])
        assert first == {ids[k]: "created" for k in stored.events}

        if revision >= "0002":
            admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
            keys = client.get("/v1/keys", headers=admin, params={"include_revoked": "true"})
            assert keys.status_code == 200, keys.text
            assert {k["prefix"] for k in keys.json()["data"]} >= {
                ADMIN_KEY[:12],
                REVOKED_KEY[:12],
            }
            revoked = client.get("/v1/events", headers={"Authorization": f"Bearer {REVOKED_KEY}"})
            assert revoked.status_code == 401
        if revision >= "0003":
            e9 = client.get(f"/v1/events/{ids['e9']}").json()
            assert e9["external_id"] == "ged:254311"
            provenance = e9["provenance"]
            assert (provenance["dataset"], provenance["version"], provenance["external_id"]) == (
                "UCDP GED",
                "23.1",
                "254311",
            )
        # Merged places leave lists and redirect to their survivor; from 0004 a new sibling
        # has the merged one's name.
        named = client.get("/v1/places", params={"name": "Rhaibeh"})
        assert named.status_code == 200, named.text
        expected_places = {ids["ruhaybah"]}
        expected_places |= {ids["rhaibeh_old"]} if revision < "0002" else set()
        expected_places |= {ids["rhaibeh_new"]} if revision >= "0004" else set()
        assert {p["id"] for p in named.json()["data"]} == expected_places
        old = client.get(f"/v1/places/{ids['rhaibeh_old']}", follow_redirects=False)
        if revision >= "0002":
            assert old.status_code == 308
            assert old.headers["location"].endswith(f"/v1/places/{ids['ruhaybah']}")
        else:
            assert old.status_code == 200


def _assert_app_writes(url: str, engine: Engine, stored: Stored) -> None:
    """A report written through the API on top of the migrated data: existing entities are
    recognised by their stored names, and the rollups add to the migrated ones."""
    key = make_key(url, ["write"])
    with TestClient(create_app(_settings(url)), headers={"Authorization": f"Bearer {key}"}) as c:
        created = c.post(
            "/v1/reports",
            json={
                "article": {
                    "url": "https://syriadirect.org/news/new-clashes/",
                    "outlet": {"name": "Syria Direct"},
                    "title": "New clashes in Rif Dimashq",
                },
                "quotes": [{"key": "t", "text": "New clashes", "in_title": True}],
                "events": [
                    {
                        "key": "clash",
                        "event_type": "Battles",
                        "sub_event_type": "Armed clash",
                        "date_start": "2018-04-27",
                        "quotes": ["t"],
                        "place": {
                            "name": "Rif Dimashq",
                            "kind": "admin1",
                            "parent": {"name": "Syria", "kind": "country", "country": "SY"},
                        },
                        "actors": [
                            {
                                "actor": {
                                    "name": "Jaish al-Islam",
                                    "kind": "rebel_group",
                                    "country": "SY",
                                }
                            }
                        ],
                    }
                ],
            },
        )
        assert created.status_code == 201, created.text
        event_id = created.json()["events"]["clash"]
        event = c.get(f"/v1/events/{event_id}").json()
    assert event["place"]["id"] == stored.ids["rif"]
    assert [a["id"] for a in event["actors"]] == [stored.ids["jai"]]
    assert event["sources"][0]["outlet"]["id"] == stored.ids["syria_direct"]
    _, rollups = _expected_rollups(stored)
    april = (date(2018, 4, 1), "SY", stored.ids["rif"], "Battles", "Armed clash")
    with engine.connect() as conn:
        events = conn.execute(
            text(
                "SELECT events FROM event_rollup WHERE month = :m AND country = 'SY'"
                " AND admin1_id = :a AND event_type = 'Battles' AND sub_event_type = 'Armed clash'"
            ),
            {"m": april[0], "a": april[2]},
        ).scalar_one()
    assert events == rollups[april][0] + 1


# -- 0005's frozen derivation against the writer's ------------------------------------------


def _derived_snapshot(engine: Engine) -> dict[str, Any]:
    document = "body" if engine.dialect.name == "sqlite" else "document::text"
    key = "rowid" if engine.dialect.name == "sqlite" else "event_id"
    with engine.connect() as conn:
        return {
            "members": conn.execute(
                text("SELECT * FROM event_rollup_member ORDER BY event_id")
            ).all(),
            "rollups": conn.execute(
                text("SELECT * FROM event_rollup ORDER BY 1, 2, 3, 4, 5")
            ).all(),
            "search": conn.execute(
                text(f"SELECT {key}, {document} FROM event_search ORDER BY {key}")
            ).all(),
        }


def test_0005_derives_what_the_writer_kept(
    database_url: str, client: TestClient, demo: dict[str, Any]
) -> None:
    """Data the app wrote (a report, a UCDP import of 1,000 rows, a retraction, an edit) taken
    below 0005 and back up: the revision derives, in its batches, exactly the rollups and
    search documents the writer had kept in step."""
    engine = create_db_engine(database_url)
    try:
        assert import_ged(engine, ged_rows()).created == 1000
        event_id = demo["events"]["air-raids-jabal-sharqi"]
        assert client.delete(f"/v1/events/{event_id}", params={"reason": "dup"}).status_code == 200
        url = f"/v1/events/{demo['events']['ground-battles-ruheibah']}"
        edited = client.patch(
            url,
            json={"summary": "Ground battles around al-Ruheibah.", "fatalities_best": 4},
            headers={"If-Match": etag_of(client, url)},
        )
        assert edited.status_code == 200, edited.text
        before = _derived_snapshot(engine)
        # More documents than one of the revision's batches (1,000 events).
        assert len(before["search"]) == 1000 + len(demo["events"])
        assert before["members"] and before["rollups"]

        migrate.downgrade(engine, "0004")
        migrate.upgrade(engine)

        assert _derived_snapshot(engine) == before
    finally:
        engine.dispose()
