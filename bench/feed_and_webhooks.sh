#!/usr/bin/env bash
# Usage: bench/feed_and_webhooks.sh [BINARY] [CHANGES]
# Serves BINARY (default: a release build of this tree) on a fresh SQLite database, or on
# PostgreSQL when DATABASE_URL names one, and runs bench/feed_and_webhooks.py against it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${1:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin=$repo/target/release/careloop
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL=${DATABASE_URL:-$work/careloop.db} CARELOOP_BIND=127.0.0.1:$port RUST_LOG=warn \
    CARELOOP_WEBHOOK_ALLOW_PRIVATE=true CARELOOP_RATE_LIMIT_PER_MINUTE=10000000
unset CARELOOP_JWT_SECRET CARELOOP_JWT_PUBLIC_KEY CARELOOP_JWKS_FILE
(cd "$work" && exec "$bin" serve) >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null && break; sleep 0.1; done
org=$(cd "$work" && "$bin" org create --name "Bench Care" 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
admin=$(cd "$work" && "$bin" token --org "$org" --role admin --sub bench-admin 2>/dev/null)
curl -fsS -o /dev/null "http://127.0.0.1:$port/v1/locations" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d '{"name": "Bench House", "kind": "care_home"}'
CARELOOP_BASE_URL=http://127.0.0.1:$port CARELOOP_ADMIN_TOKEN=$admin python3 bench/feed_and_webhooks.py "${2:-5000}"
