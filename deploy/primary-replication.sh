#!/bin/bash
# docker-entrypoint-initdb.d: runs once, as the postgres user, when the primary's data
# directory is first created. A role that may only replicate, and may connect for it from the
# compose network (the image's default pg_hba.conf already lets others in with a password).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
