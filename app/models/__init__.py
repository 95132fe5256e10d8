"""ORM models: the relational core. Imported together so Alembic and mappers see every table."""

from app.models.access import ApiKey, AuditEntry, EventRevision, IdempotencyRecord
from app.models.actor import Actor, ActorAffiliation, ActorAlias
from app.models.article import Article, Outlet, Report
from app.models.claim import Claim
from app.models.derived import DataVersion, EventChange, EventRollup, EventRollupMember
from app.models.event import Event, EventActor, EventSource, EventSourceQuote
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
    "Event",
    "EventActor",
    "EventChange",
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
    "Outlet",
    "OutletKind",
    "Place",
    "PlaceAlias",
    "PlaceAncestor",
    "PlaceKind",
    "Quote",
    "Report",
    "SubEventType",
]
