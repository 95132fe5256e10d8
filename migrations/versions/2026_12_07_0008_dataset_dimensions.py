"""dataset dimensions: codes of each dataset's fields, fatalities by whom, interaction, centroids

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:00:00

Issue 12. Schema: ``dimension_scheme`` / ``dimension_code`` (the vocabulary of every coded
field of UCDP GED and ACLED, closed schemes seeded here) and ``event_dimension`` (an event's
codes); ``interaction_code`` (ACLED's actor-pair codes); on ``event`` the fatalities by whom
(``deaths_a``, ``deaths_b``, ``deaths_civilians``, ``deaths_unknown``) and the derived
``interaction``; on ``place`` the derived ``centroid_latitude`` / ``centroid_longitude``.

Data: the derived columns are computed for the rows already there, by the same rules as the
app's (``app.formats.dimensions.interaction_of``, ``app.derived.points``), frozen here. Events
imported before this revision get their dataset codes and deaths when their file is
imported again (their rows then count as changed: the mapping gained them).
"""

import math
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMES = [
    (
        "ucdp.type_of_violence",
        "ucdp-ged",
        "type_of_violence",
        True,
        False,
        "UCDP's type of violence.",
    ),
    (
        "ucdp.conflict",
        "ucdp-ged",
        "conflict_new_id",
        False,
        False,
        "UCDP's conflict (its id; the label is the conflict's name).",
    ),
    (
        "ucdp.dyad",
        "ucdp-ged",
        "dyad_new_id",
        False,
        False,
        "UCDP's dyad, the pair of sides (its id; the label is the dyad's name).",
    ),
    (
        "ucdp.where_prec",
        "ucdp-ged",
        "where_prec",
        True,
        False,
        "How precisely UCDP locates the event.",
    ),
    ("ucdp.date_prec", "ucdp-ged", "date_prec", True, False, "How precisely UCDP dates the event."),
    (
        "ucdp.event_clarity",
        "ucdp-ged",
        "event_clarity",
        True,
        False,
        "Whether the sources describe one clear event.",
    ),
    (
        "ucdp.number_of_sources",
        "ucdp-ged",
        "number_of_sources",
        False,
        False,
        "How many sources UCDP counts for the event (-1: not recorded).",
    ),
    ("acled.disorder_type", "acled", "disorder_type", True, False, "ACLED's disorder type."),
    ("acled.inter1", "acled", "inter1", True, False, "ACLED's category of the first actor."),
    (
        "acled.inter2",
        "acled",
        "inter2",
        True,
        False,
        "ACLED's category of the second actor (0: none).",
    ),
    (
        "acled.interaction",
        "acled",
        "interaction",
        True,
        False,
        "ACLED's interaction code, as ACLED gave it.",
    ),
    (
        "acled.civilian_targeting",
        "acled",
        "civilian_targeting",
        True,
        False,
        "ACLED's civilian targeting flag.",
    ),
    ("acled.tags", "acled", "tags", False, True, "ACLED's tags (several per event)."),
    ("acled.admin1", "acled", "admin1", False, False, "ACLED's admin1, as written."),
    ("acled.admin2", "acled", "admin2", False, False, "ACLED's admin2, as written."),
    ("acled.admin3", "acled", "admin3", False, False, "ACLED's admin3, as written."),
    ("acled.iso", "acled", "iso", False, False, "ACLED's ISO 3166 numeric country code."),
    ("acled.region", "acled", "region", False, False, "ACLED's region."),
    ("acled.source_scale", "acled", "source_scale", False, False, "ACLED's source scale."),
]
CODES = {
    "ucdp.type_of_violence": [
        ("1", "State-based violence"),
        ("2", "Non-state violence"),
        ("3", "One-sided violence"),
    ],
    "ucdp.where_prec": [
        ("1", "Exact location"),
        ("2", "Within about 25 km of a known point"),
        ("3", "Second-order administrative division"),
        ("4", "First-order administrative division"),
        ("5", "Linear or ill-defined area (a region, a road)"),
        ("6", "The country"),
        ("7", "International waters or airspace"),
    ],
    "ucdp.date_prec": [
        ("1", "Exact date"),
        ("2", "Within two to six days"),
        ("3", "Within the week"),
        ("4", "Within the month"),
        ("5", "Within the year"),
    ],
    "ucdp.event_clarity": [
        ("1", "High: a clearly described event"),
        ("2", "Lower: an aggregate of events"),
    ],
    "acled.disorder_type": [
        ("Political violence", "Political violence"),
        ("Demonstrations", "Demonstrations"),
        ("Political violence; Demonstrations", "Political violence and demonstrations"),
        ("Strategic developments", "Strategic developments"),
    ],
    "acled.inter1": [
        ("0", "No actor"),
        ("1", "State forces"),
        ("2", "Rebel groups"),
        ("3", "Political militias"),
        ("4", "Identity militias"),
        ("5", "Rioters"),
        ("6", "Protesters"),
        ("7", "Civilians"),
        ("8", "External/other forces"),
    ],
    "acled.inter2": [
        ("0", "No actor"),
        ("1", "State forces"),
        ("2", "Rebel groups"),
        ("3", "Political militias"),
        ("4", "Identity militias"),
        ("5", "Rioters"),
        ("6", "Protesters"),
        ("7", "Civilians"),
        ("8", "External/other forces"),
    ],
    "acled.civilian_targeting": [
        ("Civilian targeting", "Civilians were the primary or only target"),
    ],
}

INTER = {
    "0": "No actor",
    "1": "State forces",
    "2": "Rebel groups",
    "3": "Political militias",
    "4": "Identity militias",
    "5": "Rioters",
    "6": "Protesters",
    "7": "Civilians",
    "8": "External/other forces",
}


def interaction_codes() -> list[tuple[str, str]]:
    codes = []
    for a in range(1, 9):
        codes.append((f"{a}0", f"{INTER[str(a)]} only"))
        for b in range(a, 9):
            codes.append(
                (f"{a}{b}", f"{INTER[str(a)]} versus {INTER[str(b)]}".lower().capitalize())
            )
    return codes


CODES["acled.interaction"] = interaction_codes()
DEATHS = ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")
KIND_FALLBACK = {"coalition": 2, "person": 8}
SECONDARY_ROLES = {"associated", "mediator"}


def upgrade() -> None:
    op.create_table(
        "interaction_code",
        sa.Column("name", sa.String(length=2), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_interaction_code")),
    )
    op.create_table(
        "dimension_scheme",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column(
            "column",
            sa.String(length=100),
            nullable=False,
            comment="the dataset's column the codes come from",
        ),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column(
            "multiple",
            sa.Boolean(),
            nullable=False,
            comment="an event may carry several codes of the scheme",
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dimension_scheme")),
    )
    op.create_table(
        "dimension_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=300), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["scheme"],
            ["dimension_scheme.name"],
            name=op.f("fk_dimension_code_scheme_dimension_scheme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dimension_code")),
        sa.UniqueConstraint("scheme", "code", name=op.f("uq_dimension_code_scheme_code")),
    )
    op.create_table(
        "event_dimension",
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["dimension_code.id"],
            name=op.f("fk_event_dimension_code_id_dimension_code"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_dimension_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_id", "event_id", name=op.f("pk_event_dimension")),
    )
    op.create_index("ix_event_dimension_event_id", "event_dimension", ["event_id"])

    scheme = sa.table(
        "dimension_scheme",
        sa.column("name"),
        sa.column("dataset"),
        sa.column("column"),
        sa.column("closed"),
        sa.column("multiple"),
        sa.column("description"),
    )
    op.bulk_insert(
        scheme,
        [
            dict(
                zip(
                    ("name", "dataset", "column", "closed", "multiple", "description"),
                    s,
                    strict=True,
                )
            )
            for s in SCHEMES
        ],
    )
    code = sa.table("dimension_code", sa.column("scheme"), sa.column("code"), sa.column("label"))
    op.bulk_insert(
        code,
        [
            {"scheme": name, "code": c, "label": label}
            for name, *_ in SCHEMES
            for c, label in CODES.get(name, [])
        ],
    )
    op.bulk_insert(
        sa.table("interaction_code", sa.column("name"), sa.column("description")),
        [{"name": c, "description": label} for c, label in interaction_codes()],
    )

    with op.batch_alter_table("event", schema=None) as batch_op:
        for name in DEATHS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
            batch_op.create_check_constraint(f"{name}_non_negative", f"{name} >= 0")
        batch_op.add_column(sa.Column("interaction", sa.String(length=2), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_event_interaction_interaction_code"),
            "interaction_code",
            ["interaction"],
            ["name"],
        )
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.add_column(sa.Column("centroid_latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("centroid_longitude", sa.Float(), nullable=True))
        for axis in "xyz":
            batch_op.add_column(sa.Column(f"centroid_{axis}", sa.Float(), nullable=True))

    conn = op.get_bind()
    _derive_interactions(conn)
    _derive_centroids(conn)


def _derive_interactions(conn: sa.Connection) -> None:
    """Each event's interaction from the kinds of its two sides (the app's rule, frozen)."""
    sides: dict[int, dict[str, list[tuple[str, int | None, str]]]] = defaultdict(
        lambda: {"a": [], "b": []}
    )
    for event_id, side, role, kind, inter in conn.execute(
        sa.text(
            "SELECT ea.event_id, ea.side, ea.role, a.kind, k.acled_inter FROM event_actor ea"
            " JOIN actor a ON a.id = ea.actor_id JOIN actor_kind k ON k.name = a.kind"
        )
    ):
        sides[event_id]["b" if side == "b" else "a"].append((kind, inter, role))
    rows = []
    for event_id, by_side in sides.items():
        cats = []
        for actors in (by_side["a"], by_side["b"]):
            principal = [x for x in actors if x[2] not in SECONDARY_ROLES] or actors
            codes = [i if i is not None else KIND_FALLBACK.get(k, 8) for k, i, _ in principal]
            cats.append(min(codes) if codes else 0)
        a, b = cats
        if not a and not b:
            continue
        value = f"{a or b}0" if not a or not b else "".join(map(str, sorted((a, b))))
        rows.append({"i": value, "e": event_id})
    if rows:
        conn.execute(sa.text("UPDATE event SET interaction = :i WHERE id = :e"), rows)


def _derive_centroids(conn: sa.Connection) -> None:
    """Each place's centroid: the spherical mean of the located live places inside it."""
    located = {
        place_id: (lat, lon)
        for place_id, lat, lon in conn.execute(
            sa.text(
                "SELECT id, latitude, longitude FROM place"
                " WHERE latitude IS NOT NULL AND merged_into_id IS NULL"
            )
        )
    }
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for ancestor_id, place_id in conn.execute(
        sa.text("SELECT ancestor_id, place_id FROM place_ancestor WHERE depth > 0")
    ):
        point = located.get(place_id)
        if point is None:
            continue
        lat, lon = math.radians(point[0]), math.radians(point[1])
        s = sums[ancestor_id]
        s[0] += math.cos(lat) * math.cos(lon)
        s[1] += math.cos(lat) * math.sin(lon)
        s[2] += math.sin(lat)
    rows = []
    for place_id, (x, y, z) in sums.items():
        if math.hypot(x, y, z) < 1e-9:
            continue  # points that cancel out (antipodes) have no mean
        rows.append(
            {
                "lat": math.degrees(math.atan2(z, math.hypot(x, y))),
                "lon": math.degrees(math.atan2(y, x)),
                "x": x,
                "y": y,
                "z": z,
                "p": place_id,
            }
        )
    if rows:
        conn.execute(
            sa.text(
                "UPDATE place SET centroid_latitude = :lat, centroid_longitude = :lon,"
                " centroid_x = :x, centroid_y = :y, centroid_z = :z WHERE id = :p"
            ),
            rows,
        )


def downgrade() -> None:
    with op.batch_alter_table("place", schema=None) as batch_op:
        for axis in "zyx":
            batch_op.drop_column(f"centroid_{axis}")
        batch_op.drop_column("centroid_longitude")
        batch_op.drop_column("centroid_latitude")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_event_interaction_interaction_code"), type_="foreignkey"
        )
        batch_op.drop_column("interaction")
        for name in reversed(DEATHS):
            batch_op.drop_constraint(batch_op.f(f"ck_event_{name}_non_negative"), type_="check")
            batch_op.drop_column(name)
    op.drop_index("ix_event_dimension_event_id", table_name="event_dimension")
    op.drop_table("event_dimension")
    op.drop_table("dimension_code")
    op.drop_table("dimension_scheme")
    op.drop_table("interaction_code")
