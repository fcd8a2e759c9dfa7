#!/usr/bin/env bash
# Benchmark: durable submissions of applications over HTTP against the
# disk's fsync rate, both measured in this run on the same temporary
# directory.
#
# Each request is a citizen's app applying for a security clearance through
# POST /api/v1/services/security-clearance/applications with an idempotency
# key of its own: a draft is started, its two pages checked and saved, and
# the application submitted with its first workflow event, its notice in
# the outbox and its audit records; it is answered 201 only once all of it
# is on disk. The reference is durable single-row commits one after
# another (dzong_audit_bench's DurableCommit: SQLite, synchronous=FULL,
# WAL), what each submission would cost at least without group commit.
#
# Usage: bench/submissions.sh      (normally through `make bench`)
# Environment (all optional): DZONG_BIN (build/release/src/dzong),
# AUDIT_BENCH_BIN (build/release/bench/dzong_audit_bench), CONNECTIONS (64),
# THREADS (2, wrk's), SERVER_THREADS (the server's default), DURATION seconds (10),
# TARGET_RATIO (3.0), KEEP_TMP=1.
# Exit status: 0 at or above target; 3 below; 1 the run failed.
set -euo pipefail

CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
TARGET_RATIO=${TARGET_RATIO:-3.0}
KEEP_TMP=${KEEP_TMP:-0}
root=$(cd "$(dirname "$0")/.." && pwd)
DZONG_BIN=$(realpath "${DZONG_BIN:-$root/build/release/src/dzong}")
AUDIT_BENCH_BIN=$(realpath "${AUDIT_BENCH_BIN:-$root/build/release/bench/dzong_audit_bench}")

log() { printf 'submissions: %s\n' "$*" >&2; }
die() { local rc=$1; shift; log "$*"; exit "$rc"; }
command -v wrk >/dev/null || die 2 "wrk is missing: scripts/install-deps bench"
[[ -x $DZONG_BIN ]] || die 2 "no dzong binary at $DZONG_BIN"
[[ -x $AUDIT_BENCH_BIN ]] || die 2 "no dzong_audit_bench at $AUDIT_BENCH_BIN"

TMP=$(mktemp -d)
PID=""
cleanup() {
  local rc=$?
  [[ -z $PID ]] || { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }
  if [[ $KEEP_TMP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

# 1. The fsync rate of this disk, from the same temporary directory.
log "reference: durable single-row commits"
TMPDIR=$TMP "$AUDIT_BENCH_BIN" --benchmark_filter='^DurableCommit' --benchmark_format=json \
  --benchmark_out="$TMP/reference.json" >/dev/null
fsync_rate=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["benchmarks"][0]; print("%.0f" % b["items_per_second"])' "$TMP/reference.json")

# 2. dzong on a fresh SQLite database there, with the demo citizen and an API token for their app.
port=$((20000 + RANDOM % 12000))
export DZONG_DATA_DIR=$TMP/var DZONG_DATABASE_URL="sqlite://$TMP/var/dzong.db" DZONG_LISTEN=127.0.0.1:$port
export DZONG_KEY_ENCRYPTION_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export DZONG_LOG_LEVEL=warn
mkdir -p "$DZONG_DATA_DIR"
"$DZONG_BIN" seed --demo --population 100 >/dev/null
token=$("$DZONG_BIN" tokens issue 11410012345 --scopes account.self --name "benchmark app")
printf '[log]\naccess_log = false\n' >"$TMP/dzong.toml"
[[ -z ${SERVER_THREADS:-} ]] || printf '[server]\nthreads = %s\n' "$SERVER_THREADS" >>"$TMP/dzong.toml"
"$DZONG_BIN" --config "$TMP/dzong.toml" serve >"$TMP/dzong.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || die 1 "dzong did not start: $(tail -5 "$TMP/dzong.log")"

# 3. Each request is a new application with a key of its own.
cat >"$TMP/submit.lua" <<LUA
local counter = 0
local prefix = "S"
local body = '{"consent":false,"answers":{"given_name":"Sonam","surname":"Choden","date_of_birth":"1990-04-12",' ..
  '"dzongkhag":"Thimphu","gewog":"Chang","village":"Motithang","household_number":"TH-0412","clearance_type":"general"}}'
function setup(thread) thread:set("prefix", "bench-" .. tostring(math.random(100000, 999999))) end
function init(args) prefix = wrk.thread:get("prefix") or prefix end
request = function()
  counter = counter + 1
  return wrk.format("POST", "/api/v1/services/security-clearance/applications",
    {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json",
     ["Idempotency-Key"] = string.format("%s-%d", prefix, counter)}, body)
end
LUA
log "dzong: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s POST /api/v1/services/security-clearance/applications"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$TMP/submit.lua" "http://127.0.0.1:$port" | tee "$TMP/wrk.out"
rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$TMP/wrk.out")
bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$TMP/wrk.out")
[[ -n $rps ]] || die 1 "could not read wrk's output"
[[ -z $bad ]] || die 1 "$bad answers were not 2xx: $(tail -3 "$TMP/dzong.log")"
metrics=$(curl -fs "http://127.0.0.1:$port/metrics")
commits=$(awk '$1 == "dzong_db_commits_total" { print $2 }' <<<"$metrics")
writes=$(awk '$1 == "dzong_db_writes_total" { print $2 }' <<<"$metrics")
kill -TERM "$PID"; wait "$PID" || true; PID=""

ratio=$(awk -v a="$rps" -v b="$fsync_rate" 'BEGIN { printf "%.2f", a / b }')
echo
echo "durable submissions: $rps applications/s; durable single-row commits (fsync rate): $fsync_rate/s; ratio $ratio (target $TARGET_RATIO)"
echo "database: $writes writes in $commits commits ($(awk -v w="$writes" -v c="$commits" 'BEGIN { printf "%.1f", w / c }') writes per fsync)"
awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { exit !(r >= t) }' || exit 3
