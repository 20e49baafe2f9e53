#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 + PostGIS cluster for tests and benchmarks.
#   source scripts/throwaway-postgis.sh   # sets FIELDSYNC_TEST_DATABASE_URL, PGDIR, PGPORT, PGSOCK
#   stop_throwaway_postgis               # stops it and deletes its files
# Runs the cluster as the `postgres` user when called as root (PostgreSQL refuses root).
# fsync is off (tests only) unless FIELDSYNC_PG_DURABLE=1.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDIR=$(mktemp -d /tmp/fieldsync-pg.XXXXXX)
PGSOCK="$PGDIR/run"
mkdir -p "$PGSOCK"
# A free loopback port.
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$PGDIR"; fi
OWNER=$( [ "$(id -u)" = 0 ] && echo postgres || id -un )
as_owner "$PGBIN/initdb" -D "$PGDIR/data" -U "$OWNER" -E UTF8 --locale=C --auth=trust >"$PGDIR/initdb.log" 2>&1 \
  || { cat "$PGDIR/initdb.log"; exit 1; }
# FIELDSYNC_PG_DURABLE=1 (benchmarks) keeps PostgreSQL's default durability.
FAST="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${FIELDSYNC_PG_DURABLE:-0}" = 1 ] && FAST=""
as_owner "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgres.log" -w -t 60 \
  -o "-p $PGPORT -k $PGSOCK -c listen_addresses=127.0.0.1 $FAST -c max_connections=300 -c shared_buffers=256MB" \
  start >/dev/null || { cat "$PGDIR/postgres.log"; exit 1; }
psql -h "$PGSOCK" -p "$PGPORT" -U "$OWNER" -d postgres -qAtc "CREATE DATABASE fieldsync_test" >/dev/null
export PGDIR PGPORT PGSOCK
export PGUSER="$OWNER"
export FIELDSYNC_TEST_DATABASE_URL="postgres://$OWNER@127.0.0.1:$PGPORT/fieldsync_test?sslmode=disable"
stop_throwaway_postgis() {
  as_owner "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
}
