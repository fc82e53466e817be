# Sourced by the benchmarks (bash): serves a release careloop on a fresh SQLite database seeded
# by bench/insights_seed.py (one organisation's two years of records, 100,000 concerns among
# them), and sets `work` (a folder removed on exit), `base`, `org`, `manager` (a manager's
# token), `seeded` (seconds the seeding took) and `pid`. `$1` is the binary (default: a release
# build of this tree). The per-subject rate limit is lifted: the benchmarks are one subject.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
    (cd "$repo" && cargo build --release --quiet)
    bin=$repo/target/release/careloop
fi
work=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || { kill $pid 2>/dev/null; wait $pid 2>/dev/null; }; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL=$work/careloop.db CARELOOP_BIND=127.0.0.1:$port RUST_LOG=warn \
    CARELOOP_RATE_LIMIT_PER_MINUTE=1000000000
unset CARELOOP_JWT_SECRET CARELOOP_JWT_PUBLIC_KEY CARELOOP_JWKS_FILE

# Schema and organisation first (with an organisation there, serve seeds no demo one), then the
# records straight into the file while no server holds it.
(cd "$work" && "$bin" migrate) >"$work/migrate.log" 2>&1
org=$(cd "$work" && "$bin" org create --name "Bench Care" 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
started=$(date +%s.%N)
python3 "$repo/bench/insights_seed.py" "$DATABASE_URL" "$org" >"$work/counts"
seeded=$(python3 -c "print(round($(date +%s.%N) - $started, 1))")

(cd "$work" && exec "$bin" serve) >"$work/server.log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 1 300); do curl -fsS -o /dev/null "$base/health/ready" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$base/health/ready" || { echo "the server did not start:"; cat "$work/server.log"; exit 1; }
manager=$(cd "$work" && "$bin" token --org "$org" --role manager --sub bench-manager 2>/dev/null)
