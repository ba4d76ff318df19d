#!/usr/bin/env bash
# Page throughput at scale: seeds N requests into PostgreSQL (bench/seed_bulk.py), serves the
# portal with gunicorn (2 sync workers) and drives it with wrk (8 connections) on loopback.
#   bench/pages.sh [N]        N defaults to 1000000; set SKIP_SEED=1 to reuse the last seed
# Needs: PostgreSQL and Redis on 127.0.0.1, wrk (Debian package), the project's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
N=${1:-1000000}
PORT=${PORT:-8765}
DURATION=${DURATION:-15s}
export DATABASE_URL=${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench}
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/9}
export SECRET_KEY=bench
python scripts/check_services.py "$DATABASE_URL" "$REDIS_URL"
[ "${SKIP_SEED:-}" = 1 ] || python bench/seed_bulk.py "$N"
redis-cli -n 9 flushdb >/dev/null

gunicorn -w 2 -b 127.0.0.1:$PORT --log-level warning wsgi:app &
GPID=$!
trap 'kill $GPID 2>/dev/null; wait $GPID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done

BASE=http://127.0.0.1:$PORT
STAFF=$(python bench/login.py $BASE /staff/login staff1@bench.example bench-password)
CUSTOMER=$(python bench/login.py $BASE /login customer51@bench.example bench-password)
ADMIN=$(python bench/login.py $BASE /login customer1@bench.example bench-password)
DEEP=$(python bench/deep_cursor.py)
DETAIL=$(psql -At "${DATABASE_URL/+psycopg/}" -c "SELECT number FROM service_requests ORDER BY id DESC LIMIT 1 OFFSET 500")

run() {  # name cookie path
  local size
  size=$(curl -s -o /dev/null -w '%{size_download}' -H "Cookie: session=$2" "$BASE$3")
  printf '%-34s %8s bytes  ' "$1" "$size"
  wrk -t2 -c8 -d"$DURATION" --latency -H "Cookie: session=$2" "$BASE$3" \
    | awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /^ +50%/ {p50=$2} END {printf "%8s req/s  p50 %s  p99 %s\n", rps, p50, p99}'
}

echo "== $N requests, gunicorn -w 2, wrk -c8 -d$DURATION =="
run "staff queue (all open, page 1)" "$STAFF" "/staff/queue"
run "staff queue (deep keyset page)" "$STAFF" "/staff/queue?after=$DEEP"
run "staff queue htmx table fragment" "$STAFF" "/staff/queue?status=in_progress&priority=P1"
run "staff request detail" "$STAFF" "/staff/requests/$DETAIL"
run "customer list (contact)" "$CUSTOMER" "/"
run "customer list (org admin, org)" "$ADMIN" "/?scope=org"
ps -o rss= -p $(pgrep -P $GPID | tr '\n' ',' | sed 's/,$//') | awk '{printf "gunicorn worker RSS: %.0f MB\n", $1/1024}'
