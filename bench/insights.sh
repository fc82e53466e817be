#!/usr/bin/env bash
# Usage: bench/insights.sh [BINARY]
# Seeds a fresh SQLite database (always SQLite: the seeding writes the file directly) with two
# years of one organisation's records through bench/insights_seed.py (100,000 concerns, 50,000
# evidence items, 2,000 plans with 20,000 actions and their reviews, ~5,000 learning events over
# 3 locations), serves it with BINARY (default: a release build of this tree) and times, as a
# manager, the insights endpoints and the previous month's governance pack: 3 warm-up requests,
# then 30 timed ones each; the median and 95th percentile in ms, and the median as a multiple of
# GET /health/live's. An endpoint that does not answer 200 is reported with its status, not timed.
set -euo pipefail
# shellcheck source=bench/seeded.sh
source "$(dirname "$0")/seeded.sh"
month=$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc).date().replace(day=1) - d.timedelta(days=1)).strftime("%Y-%m"))')

get() {  # PATH [CURL -w FORMAT]: the answer's body goes to $work/answer.json
    local format='%{http_code}'
    [ $# -lt 2 ] || format=$2
    # A refused connection is status 000, reported like any other.
    curl -sS -o "$work/answer.json" -w "$format" -H "Authorization: Bearer $manager" "$base$1" 2>/dev/null || true
}

echo "backend: sqlite ($(du -h "$DATABASE_URL" | cut -f1)), organisation $org"
echo "seeded in ${seeded}s: $(tr '\n' ' ' <"$work/counts")"
printf '%-40s %10s %10s %12s %10s\n' endpoint "median ms" "p95 ms" "x live" "bytes"
live= crashed=
for path in /health/live /v1/insights/concerns '/v1/insights/concerns?interval=week' /v1/insights/actions \
    /v1/insights/learning /v1/insights/evidence "/v1/governance-packs/$month"; do
    status=$(get "$path")
    if [ "$status" != 200 ]; then
        case $status in
            404) why="404 (not served by this binary)" ;;
            000) why="no answer (see the server log below)"; crashed=1 ;;
            *) why="$status $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("detail", ""))' "$work/answer.json" 2>/dev/null || true)" ;;
        esac
        printf '%-40s %s\n' "$path" "$why"
        continue
    fi
    if [ "$path" = /v1/insights/concerns ]; then  # the seeded data is what the server reads
        python3 - "$work/answer.json" >"$work/note" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
print(f"  ({sum(p['raised'] for p in a['periods'])} concerns raised from {a['from_on']} to {a['to_on']})")
PY
    fi
    for _ in 1 2; do get "$path" >/dev/null; done  # with the first request above, 3 warm-ups
    for _ in $(seq 1 30); do get "$path" '%{http_code} %{time_total} %{size_download}\n'; done >"$work/times"
    line=$(python3 - "$work/times" "${live:-0}" <<'PY'
import math, statistics, sys
runs = [line.split() for line in open(sys.argv[1]) if line.strip()]
ms = sorted(1000 * float(t) for _, t, _ in runs)
median, p95 = statistics.median(ms), ms[math.ceil(0.95 * len(ms)) - 1]  # nearest rank
live = float(sys.argv[2]) or median
failed = sum(status != "200" for status, _, _ in runs)
print(f"{median:.2f} {p95:.2f} {median / live:.0f}x {runs[-1][2]}" + (f" ({failed} of {len(runs)} not 200)" if failed else ""))
PY
)
    read -r median p95 ratio size rest <<<"$line"
    [ -n "$live" ] || live=$median
    printf '%-40s %10s %10s %12s %10s %s\n' "$path" "$median" "$p95" "$ratio" "$size" "$rest"
    [ ! -s "$work/note" ] || { cat "$work/note"; rm "$work/note"; }
done
if [ -n "$crashed" ] || grep -qiE 'error|panic' "$work/server.log"; then echo "server log:"; tail -n 20 "$work/server.log"; fi
