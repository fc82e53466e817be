#!/usr/bin/env bash
# Usage: bench/api.sh [BINARY]
# The API's hottest paths under load, as an outside client sees them: seeds a fresh SQLite
# database with one organisation's two years of records through bench/insights_seed.py
# (100,000 concerns among them), serves it with BINARY (default: a release build of this tree),
# and runs wrk (Debian's `wrk` package; 2 threads, 32 connections, 10 s each, after a 2 s warm-up)
# against GET /health/live, GET one concern, a page of 50 concerns with and without filters, and
# POST /v1/concerns, as a manager. Prints req/s, p50 and p99 for each, with its req/s as a share
# of /health/live's measured in the same run: absolute numbers vary between machines, the ratios
# are what a change must not make worse. Also the server's peak RSS and its PSS at the end. CI
# does not run it.
#
# With TEST_DATABASE_URL set (a PostgreSQL server, as for the tests), the same cases run again
# on PostgreSQL: a database of its own on that server (dropped afterwards), 20,000 concerns
# seeded through the API by bench/api_seed.py (PostgreSQL's rows cannot be written into a file).
set -euo pipefail
command -v wrk >/dev/null || { echo "bench/api.sh needs wrk (apt-get install wrk)" >&2; exit 1; }
# shellcheck source=bench/seeded.sh
source "$(dirname "$0")/seeded.sh"

# One case: wrk's req/s, p50 and p99 (ms), after a short warm-up run.
run() { # NAME PATH [wrk args]
    local name=$1 path=$2
    shift 2
    wrk -t2 -c32 -d2s -H "$auth" "$@" "$base$path" >/dev/null 2>&1 || true
    wrk -t2 -c32 -d10s --latency -H "$auth" "$@" "$base$path" >"$work/wrk.out" 2>&1
    python3 - "$name" "$work/wrk.out" <<'PY'
import re, sys
name, text = sys.argv[1], open(sys.argv[2]).read()
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def ms(label):
    value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{name}\t{rate:.0f}\t{ms('50'):.2f}\t{ms('99'):.2f}\t{errors.group(1) if errors else 0}")
PY
}

# Every case against the server at $base (process $pid) as $manager; prints the table headed
# by $1.
measure() { # HEADING
    auth="Authorization: Bearer $manager"
    local location concern
    location=$(curl -fsS -H "$auth" "$base/v1/locations" | python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
    concern=$(curl -fsS -H "$auth" "$base/v1/concerns?limit=1&status=raised" | python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
    cat >"$work/create.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"title": "Call bells unanswered", "description": "Residents waited over 20 minutes.", "category": "care_practice", "risk": "medium", "location_id": "$location", "quality_statements": ["safe.safeguarding"]}'
wrk.headers["Content-Type"] = "application/json"
LUA
    {
        run live /health/live
        run get_one "/v1/concerns/$concern"
        run list_50 "/v1/concerns?limit=50"
        run list_50_filtered "/v1/concerns?limit=50&status=raised&risk=medium"
        run create /v1/concerns -s "$work/create.lua"
    } >"$work/results"
    # Peak RSS counts a page of the database once for each SQLite connection that maps it;
    # PSS (at the end) counts it once, which is the memory the process really holds.
    local rss pss
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
    echo "$1"
    python3 - "$work/results" "$rss" "$pss" <<'PY'
import sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
live = float(rows[0][1])
print(f"{'case':<18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'of live':>8} {'non-2xx':>8}")
for name, rate, p50, p99, errors in rows:
    print(f"{name:<18} {float(rate):>8.0f} {float(p50):>8.2f} {float(p99):>8.2f} {float(rate) / live:>7.1%} {errors:>8}")
print(f"peak RSS: {int(sys.argv[2]) / 1024:.0f} MB, PSS at the end: {int(sys.argv[3]) / 1024:.0f} MB")
PY
}

measure "backend: sqlite, $(tr '\n' ' ' <"$work/counts")"
kill "$pid" && wait "$pid" 2>/dev/null || true
pid=

[ -n "${TEST_DATABASE_URL:-}" ] || exit 0
psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)
database=careloop_bench_$$
"$psql" -q -d "$TEST_DATABASE_URL" -c "CREATE DATABASE $database"
trap '{ [ -z "$pid" ] || { kill $pid; wait $pid; }; } 2>/dev/null || true; "$psql" -q -d "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $database" || true; rm -rf "$work"' EXIT
# The same server and settings, this database.
DATABASE_URL=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$TEST_DATABASE_URL" "$database")
export DATABASE_URL
(cd "$work" && "$bin" migrate) >"$work/migrate.log" 2>&1
org=$(cd "$work" && "$bin" org create --name "Bench Care" 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
(cd "$work" && exec "$bin" serve) >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -fsS -o /dev/null "$base/health/ready" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$base/health/ready" || { echo "the server did not start:"; cat "$work/server.log"; exit 1; }
manager=$(cd "$work" && "$bin" token --org "$org" --role manager --sub bench-manager 2>/dev/null)
admin=$(cd "$work" && "$bin" token --org "$org" --role admin --sub bench-admin 2>/dev/null)
for name in "Oak House" "Birch Lodge" "Cedar Court"; do
    curl -fsS -o /dev/null -H "Authorization: Bearer $admin" -H "Content-Type: application/json" \
        -d "{\"name\": \"$name\", \"kind\": \"care_home\"}" "$base/v1/locations"
done
python3 "$(dirname "$0")/api_seed.py" "$base" "$manager" 20000 >"$work/counts"
# Vacuumed as well as analysed, so autovacuum has nothing left to do with the freshly seeded
# tables during the measurement (one run's list ran at a fifth of its rate without it).
"$psql" -q -d "$DATABASE_URL" -c "VACUUM ANALYZE"
measure "backend: postgres, $(tr '\n' ' ' <"$work/counts")"
