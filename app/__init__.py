"""conflictdb: a REST API over a relational conflict-events database."""
