"""ORM models: the relational core. Imported together so Alembic and mappers see every table."""

from app.models.access import (
    ApiKey,
    AuditEntry,
    EventRevision,
    IdempotencyRecord,
    RateLimitBucket,
)
from app.models.actor import Actor, ActorAffiliation, ActorAlias
from app.models.article import Article, Outlet, Report
from app.models.claim import Claim
from app.models.derived import DataVersion, EventChange, EventRollup, EventRollupMember
from app.models.dimension import DimensionCode, DimensionScheme, EventDimension, InteractionCode
from app.models.event import Event, EventActor, EventSource, EventSourceQuote
from app.models.history import VersionHistory
from app.models.incident import Incident
from app.models.place import Place, PlaceAlias, PlaceAncestor
from app.models.provenance import ActorExternalId, Dataset, EventProvenance
from app.models.quote import Quote
from app.models.vocabulary import (
    ActorKind,
    AffiliationRelation,
    DatePrecision,
    EventRole,
    EventStatus,
    EventType,
    OutletKind,
    PlaceKind,
    SubEventType,
)

__all__ = [
    "Actor",
    "ActorAffiliation",
    "ActorAlias",
    "ActorExternalId",
    "ActorKind",
    "AffiliationRelation",
    "ApiKey",
    "Article",
    "AuditEntry",
    "Claim",
    "DataVersion",
    "Dataset",
    "DatePrecision",
    "DimensionCode",
    "DimensionScheme",
    "Event",
    "EventActor",
    "EventChange",
    "EventDimension",
    "EventProvenance",
    "EventRevision",
    "EventRole",
    "EventRollup",
    "EventRollupMember",
    "EventSource",
    "EventSourceQuote",
    "EventStatus",
    "EventType",
    "IdempotencyRecord",
    "Incident",
    "InteractionCode",
    "Outlet",
    "OutletKind",
    "Place",
    "PlaceAlias",
    "PlaceAncestor",
    "PlaceKind",
    "Quote",
    "RateLimitBucket",
    "Report",
    "SubEventType",
    "VersionHistory",
]
