#!/usr/bin/env bash
# Usage: bench/imports.sh [BINARY] [ROWS]
# Serves BINARY (default: a release build of this tree) on a fresh SQLite database, or on
# PostgreSQL when DATABASE_URL names one, and times `POST /v1/imports` of ROWS (default 10000)
# evidence rows as CSV: a first import (all created), the same file again (all unchanged), and
# GET /health/live in the same run for scale.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${1:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin=$repo/target/release/careloop
fi
rows=${2:-10000}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL=${DATABASE_URL:-$work/careloop.db} CARELOOP_BIND=127.0.0.1:$port RUST_LOG=warn \
    CARELOOP_RATE_LIMIT_PER_MINUTE=10000000
unset CARELOOP_JWT_SECRET CARELOOP_JWT_PUBLIC_KEY CARELOOP_JWKS_FILE
(cd "$work" && exec "$bin" serve) >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null && break; sleep 0.1; done
org=$(cd "$work" && "$bin" org create --name "Bench Care" 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
manager=$(cd "$work" && "$bin" token --org "$org" --role manager --sub bench-manager 2>/dev/null)
python3 - "$rows" >"$work/evidence.csv" <<'PY'
import sys
rows = int(sys.argv[1])
print("source,evidence_category,quality_statements,title,observed_at,metric.name,metric.value,metric.unit,external_ref.system,external_ref.id")
for i in range(rows):
    day = 1 + i % 28
    print(f"audit,processes,safe.medicines_optimisation|safe.safeguarding,Audit {i},{day:02d}/10/2026 09:30,"
          f"medication_audit_score,{80 + i % 20}.5,%,bench,B-{i}")
PY
base=http://127.0.0.1:$port
seconds() {
    curl -fsS -o "$work/answer.json" -w '%{time_total}' "$base/v1/imports?kind=evidence&date_format=uk" \
        -H "Authorization: Bearer $manager" -H 'Content-Type: text/csv' --data-binary "@$work/evidence.csv"
}
live=$(for _ in $(seq 1 50); do curl -fsS -o /dev/null -w '%{time_total}\n' "$base/health/live"; done \
    | sort -n | sed -n 25p)
first=$(seconds)
created=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["report"])' "$work/answer.json")
again=$(seconds)
unchanged=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["report"]["unchanged"])' "$work/answer.json")
echo "backend: ${DATABASE_URL%%:*} rows: $rows ($(du -h "$work/evidence.csv" | cut -f1))"
echo "first import: ${first}s ($(python3 -c "print(round($rows / $first))") rows/s) $created"
echo "same file again: ${again}s, unchanged: $unchanged"
echo "GET /health/live median: ${live}s; first import = $(python3 -c "print(round($first / $live))") x /health/live"
