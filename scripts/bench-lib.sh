# Shared by scripts/bench-*: a durable throwaway PostGIS, the release server on a free
# loopback port, and an account with an agent and a registered device.
# Sets: SERVER_URL, AGENT_TOKEN, DEVICE_ID, PROJECT_ID, SERVER_PID; cleanup on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# FIELDSYNC_BUILD_DIR: a SwiftPM scratch path (default: SwiftPM's own, ./.build).
# FIELDSYNC_BENCH_SKIP_BUILD=1: use the release binaries already built there.
# FIELDSYNC_BIN_DIR: a folder holding fieldsync-server and fieldsync-bench to use as they
# are (scripts/bench-alternate compares builds this way); nothing is built then.
SCRATCH=()
[ -n "${FIELDSYNC_BUILD_DIR:-}" ] && SCRATCH=(--scratch-path "$FIELDSYNC_BUILD_DIR")
if [ -n "${FIELDSYNC_BIN_DIR:-}" ]; then
  BIN=$FIELDSYNC_BIN_DIR
else
  if [ "${FIELDSYNC_BENCH_SKIP_BUILD:-0}" != 1 ]; then
    echo "bench: building release binaries" >&2
    swift build -c release "${SCRATCH[@]}" >/dev/null
  fi
  BIN=$(swift build -c release "${SCRATCH[@]}" --show-bin-path)
fi
FIELDSYNC_PG_DURABLE=1 source scripts/throwaway-postgis.sh
# BENCH_DB_SET="name = value": a setting of the database for the server's sessions (an
# experiment, e.g. plan_cache_mode), set before the server connects.
if [ -n "${BENCH_DB_SET:-}" ]; then
  psql -h "$PGSOCK" -p "$PGPORT" -U "$PGUSER" -d postgres -v ON_ERROR_STOP=1 -qAtc "ALTER DATABASE fieldsync_test SET $BENCH_DB_SET" >/dev/null
fi
SERVER_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
SERVER_URL="http://127.0.0.1:$SERVER_PORT"
FIELDSYNC_DATABASE_URL="$FIELDSYNC_TEST_DATABASE_URL" FIELDSYNC_PORT=$SERVER_PORT FIELDSYNC_ADMIN_USER=bench-root \
  FIELDSYNC_ADMIN_PASSWORD=bench-root-password FIELDSYNC_LOG_LEVEL=warning "$BIN/fieldsync-server" >"$PGDIR/server.log" 2>&1 &
SERVER_PID=$!
bench_cleanup() {
  kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  stop_throwaway_postgis
}
trap bench_cleanup EXIT
for _ in $(seq 1 100); do curl -sf "$SERVER_URL/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "$SERVER_URL/readyz" >/dev/null || { echo "bench: server did not become ready"; cat "$PGDIR/server.log"; exit 1; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -sf -X POST "$SERVER_URL$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$3"; }
ROOT_TOKEN=$(curl -sf -X POST "$SERVER_URL/v1/auth/token" -d '{"username":"bench-root","password":"bench-root-password"}' | json "['token']")
ACCOUNT_ID=$(post /v1/accounts "$ROOT_TOKEN" '{"name":"Bench"}' | json "['id']")
PROJECT_ID=$(post "/v1/projects?accountId=$ACCOUNT_ID" "$ROOT_TOKEN" '{"name":"Bench","appId":"bench"}' | json "['id']")
post "/v1/users?accountId=$ACCOUNT_ID" "$ROOT_TOKEN" "{\"username\":\"bench-agent\",\"password\":\"bench-agent-pw\",\"role\":\"admin\",\"projectIds\":[\"$PROJECT_ID\"]}" >/dev/null
AGENT_TOKEN=$(curl -sf -X POST "$SERVER_URL/v1/auth/token" -d '{"username":"bench-agent","password":"bench-agent-pw"}' | json "['token']")
DEVICE_ID=$(python3 -c 'import uuid; print(uuid.uuid4())')
post /v1/devices "$AGENT_TOKEN" "{\"deviceId\":\"$DEVICE_ID\"}" >/dev/null
psql_db() { psql -h "$PGSOCK" -p "$PGPORT" -U "$PGUSER" -d fieldsync_test -v ON_ERROR_STOP=1 -qAt "$@"; }
now() { python3 -c 'import time; print(time.time())'; }
