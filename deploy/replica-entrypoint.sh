#!/bin/bash
# The replica's entrypoint (compose.yaml): on first start, clone the primary with
# pg_basebackup -R (which writes standby.signal and primary_conninfo) through a replication
# slot of its own, so the primary keeps the WAL it has not received yet; then run PostgreSQL
# as a hot standby, answering reads while it replays the primary's WAL.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -h "$PRIMARY_HOST" -p 5432 -U replicator; do sleep 1; done
    export PGPASSWORD="$REPLICATION_PASSWORD"
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    pg_basebackup -h "$PRIMARY_HOST" -p 5432 -U replicator -D "$PGDATA" \
        -R -X stream -C -S "$REPLICATION_SLOT" --checkpoint=fast
    unset PGPASSWORD
fi
# hot_standby_feedback: the primary keeps the rows a long read on the replica still needs,
# instead of the replica cancelling that read (a recovery conflict; conflictdb would retry it
# on the primary). max_standby_streaming_delay bounds how long replay waits for such a read.
exec postgres \
    -c hot_standby=on \
    -c hot_standby_feedback=on \
    -c max_standby_streaming_delay=30s
