"""The one writer: every write of conflict data goes through this package, inserts in batches.

A module per thing written — ``outlets``, ``actors``, ``places``, ``articles`` (and their quotes),
``events``, ``claims`` (figures side by side, and the headline rule), ``incidents`` (events
linked as one incident), ``datasets`` (imported rows and their provenance), ``revisions``
(event revisions and the audit log) — over ``evidence`` (the columns kept from an event's
evidence, claims and links), ``versions`` (the compare-and-set every edit goes through) and
``transaction`` (where write sessions are made and committed, with the derived-state hooks).
The public batch API is re-exported here: ``writer.create_events(session, [...])``.

Ingestion, dataset imports, edits and the benchmark loader call these functions inside a
transaction ``write_transaction`` owns, so derived state — the place closure table, row
versions (ETags), event revisions, the audit log, and at commit the search index, rollups and
change log — is written in the same transaction as the rows it derives from and can never be
skipped. Checks that need words for the client (404, 409, 422) are the services' job; the
writer trusts its arguments, except for the version and merge guards, which only a statement
can make atomic.
"""

from app.writer.actors import (
    NewActor,
    NewAffiliation,
    add_actor_alias,
    add_actor_aliases,
    add_affiliation,
    add_affiliations,
    create_actor,
    create_actors,
    delete_actor,
    merge_actors,
    remove_actor_alias,
    remove_affiliation,
    update_actor,
)
from app.writer.articles import (
    NewArticle,
    NewQuote,
    create_article,
    create_articles,
    create_quotes,
    delete_article,
    delete_quote,
    record_report,
    update_article,
    update_quote,
)
from app.writer.claims import CLAIM_FIELDS, FIGURE_FIELDS, MEASURE, NewClaim
from app.writer.datasets import (
    ImportedEventUpdate,
    NewProvenance,
    add_actor_external_ids,
    create_dataset,
    create_dimension_codes,
    fill_place_coordinates,
    import_events,
    label_dimension_codes,
    retract_imported_events,
    update_dataset,
    update_imported_events,
)
from app.writer.events import (
    NewEvent,
    NewEventActor,
    NewMeasure,
    NewSource,
    add_claims,
    add_sources,
    create_events,
    retract_event,
    update_event,
    withdraw_claim,
)
from app.writer.evidence import refresh as refresh_evidence
from app.writer.incidents import link_events, unlink_event
from app.writer.outlets import (
    NewOutlet,
    create_outlet,
    create_outlets,
    delete_outlet,
    update_outlet,
)
from app.writer.places import (
    NewPlace,
    add_place_aliases,
    create_place,
    create_places,
    delete_place,
    merge_places,
    update_place,
)
from app.writer.revisions import audit, record_revisions
from app.writer.staged import ImportedRow, import_rows
from app.writer.transaction import bulk_session, write_session, write_transaction
from app.writer.versions import compare_and_set

__all__ = [
    "CLAIM_FIELDS",
    "FIGURE_FIELDS",
    "MEASURE",
    "ImportedEventUpdate",
    "ImportedRow",
    "NewActor",
    "NewAffiliation",
    "NewArticle",
    "NewClaim",
    "NewEvent",
    "NewEventActor",
    "NewMeasure",
    "NewOutlet",
    "NewPlace",
    "NewProvenance",
    "NewQuote",
    "NewSource",
    "add_actor_alias",
    "add_actor_aliases",
    "add_actor_external_ids",
    "add_affiliation",
    "add_affiliations",
    "add_claims",
    "add_place_aliases",
    "add_sources",
    "audit",
    "bulk_session",
    "compare_and_set",
    "create_actor",
    "create_actors",
    "create_article",
    "create_articles",
    "create_dataset",
    "create_dimension_codes",
    "create_events",
    "create_outlet",
    "create_outlets",
    "create_place",
    "create_places",
    "create_quotes",
    "delete_actor",
    "delete_article",
    "delete_outlet",
    "delete_place",
    "delete_quote",
    "fill_place_coordinates",
    "import_events",
    "import_rows",
    "label_dimension_codes",
    "link_events",
    "merge_actors",
    "merge_places",
    "record_report",
    "record_revisions",
    "refresh_evidence",
    "remove_actor_alias",
    "remove_affiliation",
    "retract_event",
    "retract_imported_events",
    "unlink_event",
    "update_actor",
    "update_article",
    "update_dataset",
    "update_event",
    "update_imported_events",
    "update_outlet",
    "update_place",
    "update_quote",
    "withdraw_claim",
    "write_session",
    "write_transaction",
]
