"""initial schema: the relational core and its seeded vocabularies

Revision ID: 0001
Revises:
Create Date: 2026-11-27 01:06:48.615540
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Vocabularies, seeded here so every database starts with the same lookup rows. ACLED's event
# taxonomy (codebook 2023) is the default; actor kinds are ACLED's "inter" codes plus two of ours.
EVENT_TYPES = {
    "Battles": (
        "Violent interactions between two organised armed groups.",
        {
            "Armed clash": "Armed, organised groups engage in a battle; no territory changes hands.",
            "Government regains territory": "State forces or their affiliates regain territory.",
            "Non-state actor overtakes territory": "A non-state group takes territory.",
        },
    ),
    "Explosions/Remote violence": (
        "One-sided violence in which the tool is an explosive device or remote weapon.",
        {
            "Chemical weapon": "Chemical weapons are used.",
            "Air/drone strike": "Air or drone strikes.",
            "Suicide bomb": "A suicide bombing or suicide vehicle-borne device.",
            "Shelling/artillery/missile attack": "Long-range artillery, missiles or rockets.",
            "Remote explosive/landmine/IED": "Remotely detonated or planted explosives.",
            "Grenade": "A grenade or similar hand-thrown explosive.",
        },
    ),
    "Violence against civilians": (
        "Violent events in which an organised armed group targets unarmed non-combatants.",
        {
            "Sexual violence": "Sexual violence against civilians.",
            "Attack": "An armed group attacks civilians.",
            "Abduction/forced disappearance": "Civilians are abducted or disappeared.",
        },
    ),
    "Protests": (
        "Public demonstrations by non-violent participants.",
        {
            "Peaceful protest": "Demonstrators gather without intervention.",
            "Protest with intervention": "A peaceful protest is physically dispersed or repressed.",
            "Excessive force against protesters": "Lethal or severe force against protesters.",
        },
    ),
    "Riots": (
        "Violent events in which demonstrators or mobs engage in disruptive acts.",
        {
            "Violent demonstration": "Demonstrators engage in violence or destruction.",
            "Mob violence": "Violent acts by a mob, not a demonstration.",
        },
    ),
    "Strategic developments": (
        "Contextually important non-violent activity by conflict actors.",
        {
            "Agreement": "Groups agree to a ceasefire, peace deal, exchange or negotiation.",
            "Arrests": "State forces or others detain a significant individual.",
            "Change to group/activity": "A group changes its structure or activity.",
            "Disrupted weapons use": "An explosion or attack is prevented or defused.",
            "Headquarters or base established": "A group establishes a base or headquarters.",
            "Looting/property destruction": "Looting or destruction of property.",
            "Non-violent transfer of territory": "Territory changes hands without fighting.",
            "Other": "Any other significant development.",
        },
    ),
}
ACTOR_KINDS = [
    ("state_forces", 1, "State forces: military and police of a recognised government."),
    ("rebel_group", 2, "Rebel groups: organised armed opposition to a government."),
    ("political_militia", 3, "Political militias: armed groups serving a political elite."),
    ("identity_militia", 4, "Identity militias: armed groups organised around an identity."),
    ("rioters", 5, "Rioters: violent demonstrators."),
    ("protesters", 6, "Protesters: non-violent demonstrators."),
    ("civilians", 7, "Civilians: unarmed non-combatants."),
    ("external_forces", 8, "External/other forces: foreign, international or private forces."),
    ("coalition", None, "Coalitions and umbrella groups of several armed groups."),
    ("person", None, "A named individual (commander, spokesperson, official)."),
]
PLACE_KINDS = [
    ("country", "A sovereign country."),
    ("admin1", "First-level administrative division (governorate, province, state)."),
    ("admin2", "Second-level administrative division (district)."),
    ("admin3", "Third-level administrative division (sub-district)."),
    ("region", "An informal region (East Qalamoun)."),
    ("populated_place", "A city, town or village."),
    ("natural_feature", "A mountain, range, river or other natural feature."),
    ("site", "A specific site: a base, checkpoint, camp or building."),
]
OUTLET_KINDS = [
    ("agency", "A news agency."),
    ("national", "A national outlet."),
    ("local", "A local outlet."),
    ("international", "An international outlet."),
    ("ngo", "A non-governmental organisation."),
    ("social", "Social media."),
]
DATE_PRECISIONS = [
    ("day", "Known to the day."),
    ("week", "Known to the week."),
    ("month", "Known to the month."),
    ("year", "Known to the year."),
]
EVENT_ROLES = [
    ("primary", "A principal party to the event."),
    ("associated", "Acts alongside a primary actor."),
    ("target", "The actor the event was directed at."),
    ("mediator", "Mediates between the sides."),
]
AFFILIATION_RELATIONS = [
    ("member_of", "The actor is a member or faction of the related actor."),
    ("allied_with", "The actor is allied with or affiliated to the related actor."),
    ("commanded_by", "The actor is commanded by the related actor."),
]
EVENT_STATUSES = [
    ("active", "A current event."),
    ("retracted", "Retracted: kept for the record, left out of lists by default."),
]


def _seed() -> None:
    def table(name: str, *cols: sa.Column) -> sa.TableClause:
        return sa.table(name, *cols)

    op.bulk_insert(
        table("event_type", sa.column("name"), sa.column("description")),
        [{"name": k, "description": v[0]} for k, v in EVENT_TYPES.items()],
    )
    op.bulk_insert(
        table(
            "sub_event_type", sa.column("name"), sa.column("event_type"), sa.column("description")
        ),
        [
            {"name": sub, "event_type": et, "description": desc}
            for et, (_, subs) in EVENT_TYPES.items()
            for sub, desc in subs.items()
        ],
    )
    op.bulk_insert(
        table("actor_kind", sa.column("name"), sa.column("acled_inter"), sa.column("description")),
        [{"name": n, "acled_inter": i, "description": d} for n, i, d in ACTOR_KINDS],
    )
    for table_name, rows in (
        ("place_kind", PLACE_KINDS),
        ("outlet_kind", OUTLET_KINDS),
        ("date_precision", DATE_PRECISIONS),
        ("event_role", EVENT_ROLES),
        ("affiliation_relation", AFFILIATION_RELATIONS),
        ("event_status", EVENT_STATUSES),
    ):
        op.bulk_insert(
            table(table_name, sa.column("name"), sa.column("description")),
            [{"name": n, "description": d} for n, d in rows],
        )


def upgrade() -> None:
    op.create_table(
        "actor_kind",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("acled_inter", sa.SmallInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_actor_kind")),
    )
    op.create_table(
        "affiliation_relation",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_affiliation_relation")),
    )
    op.create_table(
        "date_precision",
        sa.Column("name", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_date_precision")),
    )
    op.create_table(
        "event_role",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_role")),
    )
    op.create_table(
        "event_status",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_status")),
    )
    op.create_table(
        "event_type",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_type")),
    )
    op.create_table(
        "outlet_kind",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outlet_kind")),
    )
    op.create_table(
        "place_kind",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_place_kind")),
    )
    op.create_table(
        "actor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_norm", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kind"], ["actor_kind.name"], name=op.f("fk_actor_kind_actor_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor")),
    )
    with op.batch_alter_table("actor", schema=None) as batch_op:
        batch_op.create_index("ix_actor_name_norm_country", ["name_norm", "country"], unique=False)

    op.create_table(
        "outlet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_norm", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kind"], ["outlet_kind.name"], name=op.f("fk_outlet_kind_outlet_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outlet")),
        sa.UniqueConstraint("name_norm", name=op.f("uq_outlet_name_norm")),
    )
    with op.batch_alter_table("outlet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outlet_domain"), ["domain"], unique=False)

    op.create_table(
        "place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_norm", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("geonames_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)", name=op.f("ck_place_lat_lon_together")
        ),
        sa.CheckConstraint("depth >= 0", name=op.f("ck_place_depth_non_negative")),
        sa.CheckConstraint(
            "latitude IS NULL OR (latitude >= -90 AND latitude <= 90)",
            name=op.f("ck_place_latitude"),
        ),
        sa.CheckConstraint(
            "longitude IS NULL OR (longitude >= -180 AND longitude <= 180)",
            name=op.f("ck_place_longitude"),
        ),
        sa.ForeignKeyConstraint(
            ["kind"], ["place_kind.name"], name=op.f("fk_place_kind_place_kind")
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["place.id"], name=op.f("fk_place_parent_id_place")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place")),
        sa.UniqueConstraint("geonames_id", name=op.f("uq_place_geonames_id")),
    )
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            "uq_place_country_name_norm",
            ["country", "name_norm"],
            unique=True,
            sqlite_where=sa.text("parent_id IS NULL"),
            postgresql_where=sa.text("parent_id IS NULL"),
        )
        batch_op.create_index(
            "uq_place_parent_id_name_norm",
            ["parent_id", "name_norm"],
            unique=True,
            sqlite_where=sa.text("parent_id IS NOT NULL"),
            postgresql_where=sa.text("parent_id IS NOT NULL"),
        )

    op.create_table(
        "sub_event_type",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_type"],
            ["event_type.name"],
            name=op.f("fk_sub_event_type_event_type_event_type"),
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sub_event_type")),
        sa.UniqueConstraint("event_type", "name", name=op.f("uq_sub_event_type_event_type_name")),
    )
    op.create_table(
        "actor_affiliation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("related_actor_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("since_date", sa.Date(), nullable=True),
        sa.Column("until_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "actor_id <> related_actor_id", name=op.f("ck_actor_affiliation_not_self")
        ),
        sa.CheckConstraint(
            "since_date IS NULL OR until_date IS NULL OR until_date >= since_date",
            name=op.f("ck_actor_affiliation_until_after_since"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actor.id"],
            name=op.f("fk_actor_affiliation_actor_id_actor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["related_actor_id"],
            ["actor.id"],
            name=op.f("fk_actor_affiliation_related_actor_id_actor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["relation"],
            ["affiliation_relation.name"],
            name=op.f("fk_actor_affiliation_relation_affiliation_relation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor_affiliation")),
        sa.UniqueConstraint(
            "actor_id",
            "related_actor_id",
            "relation",
            name=op.f("uq_actor_affiliation_actor_id_related_actor_id_relation"),
        ),
    )
    with op.batch_alter_table("actor_affiliation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_actor_affiliation_related_actor_id"), ["related_actor_id"], unique=False
        )

    op.create_table(
        "actor_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_norm", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actor.id"],
            name=op.f("fk_actor_alias_actor_id_actor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor_alias")),
        sa.UniqueConstraint(
            "actor_id", "name_norm", name=op.f("uq_actor_alias_actor_id_name_norm")
        ),
    )
    with op.batch_alter_table("actor_alias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actor_alias_name_norm"), ["name_norm"], unique=False)

    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("url_norm", sa.String(length=2048), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("published_date", sa.Date(), nullable=True),
        sa.Column("dateline", sa.String(length=200), nullable=True),
        sa.Column("byline", sa.String(length=500), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["outlet.id"], name=op.f("fk_article_outlet_id_outlet")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
        sa.UniqueConstraint("url_norm", name=op.f("uq_article_url_norm")),
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_outlet_id"), ["outlet_id"], unique=False)
        batch_op.create_index(
            "ix_article_published_date_id", ["published_date", "id"], unique=False
        )
        batch_op.create_index(
            "uq_article_outlet_id_content_sha256",
            ["outlet_id", "content_sha256"],
            unique=True,
            sqlite_where=sa.text("url_norm IS NULL AND content_sha256 IS NOT NULL"),
            postgresql_where=sa.text("url_norm IS NULL AND content_sha256 IS NOT NULL"),
        )

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("sub_event_type", sa.String(length=80), nullable=True),
        sa.Column("date_start", sa.Date(), nullable=False),
        sa.Column("date_end", sa.Date(), nullable=False),
        sa.Column("date_precision", sa.String(length=10), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("geo_precision", sa.SmallInteger(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("fatalities_low", sa.Integer(), nullable=True),
        sa.Column("fatalities_best", sa.Integer(), nullable=True),
        sa.Column("fatalities_high", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("date_end >= date_start", name=op.f("ck_event_date_order")),
        sa.CheckConstraint(
            "fatalities_best >= 0", name=op.f("ck_event_fatalities_best_non_negative")
        ),
        sa.CheckConstraint(
            "fatalities_high >= 0", name=op.f("ck_event_fatalities_high_non_negative")
        ),
        sa.CheckConstraint(
            "fatalities_low >= 0", name=op.f("ck_event_fatalities_low_non_negative")
        ),
        sa.CheckConstraint("geo_precision IN (1, 2, 3)", name=op.f("ck_event_geo_precision")),
        sa.ForeignKeyConstraint(
            ["date_precision"],
            ["date_precision.name"],
            name=op.f("fk_event_date_precision_date_precision"),
        ),
        sa.ForeignKeyConstraint(
            ["event_type", "sub_event_type"],
            ["sub_event_type.event_type", "sub_event_type.name"],
            name=op.f("fk_event_event_type_sub_event_type_sub_event_type"),
        ),
        sa.ForeignKeyConstraint(
            ["event_type"], ["event_type.name"], name=op.f("fk_event_event_type_event_type")
        ),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"], name=op.f("fk_event_place_id_place")),
        sa.ForeignKeyConstraint(
            ["status"], ["event_status.name"], name=op.f("fk_event_status_event_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("external_id", name=op.f("uq_event_external_id")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_date_start_id", ["date_start", "id"], unique=False)
        batch_op.create_index(
            "ix_event_event_type_date_start", ["event_type", "date_start"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_place_id"), ["place_id"], unique=False)

    op.create_table(
        "place_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_norm", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["place.id"],
            name=op.f("fk_place_alias_place_id_place"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_alias")),
        sa.UniqueConstraint(
            "place_id", "name_norm", name=op.f("uq_place_alias_place_id_name_norm")
        ),
    )
    with op.batch_alter_table("place_alias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_alias_name_norm"), ["name_norm"], unique=False)

    op.create_table(
        "place_ancestor",
        sa.Column("ancestor_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ancestor_id"],
            ["place.id"],
            name=op.f("fk_place_ancestor_ancestor_id_place"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["place.id"],
            name=op.f("fk_place_ancestor_place_id_place"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ancestor_id", "place_id", name=op.f("pk_place_ancestor")),
    )
    with op.batch_alter_table("place_ancestor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_ancestor_place_id"), ["place_id"], unique=False)

    op.create_table(
        "event_actor",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=1), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint("side IN ('a', 'b')", name=op.f("ck_event_actor_side")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actor.id"], name=op.f("fk_event_actor_actor_id_actor")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_actor_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role"], ["event_role.name"], name=op.f("fk_event_actor_role_event_role")
        ),
        sa.PrimaryKeyConstraint("event_id", "actor_id", name=op.f("pk_event_actor")),
    )
    with op.batch_alter_table("event_actor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_actor_actor_id"), ["actor_id"], unique=False)

    op.create_table(
        "event_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_event_source_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_source_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_source")),
        sa.UniqueConstraint(
            "event_id", "article_id", name=op.f("uq_event_source_event_id_article_id")
        ),
    )
    with op.batch_alter_table("event_source", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_source_article_id"), ["article_id"], unique=False
        )

    op.create_table(
        "quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("speaker_name", sa.String(length=300), nullable=True),
        sa.Column("speaker_role", sa.String(length=300), nullable=True),
        sa.Column("speaks_for_actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_offset > start_offset", name=op.f("ck_quote_end_after_start")),
        sa.CheckConstraint("start_offset >= 0", name=op.f("ck_quote_start_offset_non_negative")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_quote_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["speaks_for_actor_id"], ["actor.id"], name=op.f("fk_quote_speaks_for_actor_id_actor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote")),
        sa.UniqueConstraint(
            "article_id",
            "start_offset",
            "end_offset",
            name=op.f("uq_quote_article_id_start_offset_end_offset"),
        ),
    )
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quote_speaks_for_actor_id"), ["speaks_for_actor_id"], unique=False
        )

    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_report_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.UniqueConstraint("article_id", name=op.f("uq_report_article_id")),
    )
    op.create_table(
        "event_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("qualifier", sa.String(length=100), nullable=True),
        sa.Column("quote_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_measure_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quote.id"],
            name=op.f("fk_event_measure_quote_id_quote"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_measure")),
    )
    with op.batch_alter_table("event_measure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_measure_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_measure_quote_id"), ["quote_id"], unique=False)

    op.create_table(
        "event_source_quote",
        sa.Column("event_source_id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_source_id"],
            ["event_source.id"],
            name=op.f("fk_event_source_quote_event_source_id_event_source"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quote.id"],
            name=op.f("fk_event_source_quote_quote_id_quote"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_source_id", "quote_id", name=op.f("pk_event_source_quote")),
    )
    with op.batch_alter_table("event_source_quote", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_source_quote_quote_id"), ["quote_id"], unique=False
        )

    _seed()


def downgrade() -> None:
    with op.batch_alter_table("event_source_quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_source_quote_quote_id"))

    op.drop_table("event_source_quote")
    with op.batch_alter_table("event_measure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_measure_quote_id"))
        batch_op.drop_index(batch_op.f("ix_event_measure_event_id"))

    op.drop_table("event_measure")
    op.drop_table("report")
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_speaks_for_actor_id"))

    op.drop_table("quote")
    with op.batch_alter_table("event_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_source_article_id"))

    op.drop_table("event_source")
    with op.batch_alter_table("event_actor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_actor_actor_id"))

    op.drop_table("event_actor")
    with op.batch_alter_table("place_ancestor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_ancestor_place_id"))

    op.drop_table("place_ancestor")
    with op.batch_alter_table("place_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_alias_name_norm"))

    op.drop_table("place_alias")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_place_id"))
        batch_op.drop_index("ix_event_event_type_date_start")
        batch_op.drop_index("ix_event_date_start_id")

    op.drop_table("event")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_article_outlet_id_content_sha256",
            sqlite_where=sa.text("url_norm IS NULL AND content_sha256 IS NOT NULL"),
            postgresql_where=sa.text("url_norm IS NULL AND content_sha256 IS NOT NULL"),
        )
        batch_op.drop_index("ix_article_published_date_id")
        batch_op.drop_index(batch_op.f("ix_article_outlet_id"))

    op.drop_table("article")
    with op.batch_alter_table("actor_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actor_alias_name_norm"))

    op.drop_table("actor_alias")
    with op.batch_alter_table("actor_affiliation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actor_affiliation_related_actor_id"))

    op.drop_table("actor_affiliation")
    op.drop_table("sub_event_type")
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_place_parent_id_name_norm",
            sqlite_where=sa.text("parent_id IS NOT NULL"),
            postgresql_where=sa.text("parent_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_place_country_name_norm",
            sqlite_where=sa.text("parent_id IS NULL"),
            postgresql_where=sa.text("parent_id IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_place_parent_id"))
        batch_op.drop_index(batch_op.f("ix_place_country"))

    op.drop_table("place")
    with op.batch_alter_table("outlet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outlet_domain"))

    op.drop_table("outlet")
    with op.batch_alter_table("actor", schema=None) as batch_op:
        batch_op.drop_index("ix_actor_name_norm_country")

    op.drop_table("actor")
    op.drop_table("place_kind")
    op.drop_table("outlet_kind")
    op.drop_table("event_type")
    op.drop_table("event_status")
    op.drop_table("event_role")
    op.drop_table("date_precision")
    op.drop_table("affiliation_relation")
    op.drop_table("actor_kind")
