#!/usr/bin/env bash
# Benchmark: durable audited writes over HTTP against the disk's fsync rate,
# both measured in this run on the same temporary directory.
#
# The write is POST /api/v1/organisations: each one commits the organisation,
# its history row and its domain event in one transaction, and the route's
# record of the call in another, and is answered 201 only once both are on
# disk. The reference is durable single-row commits one after another
# (dzong_audit_bench's DurableCommit: SQLite, synchronous=FULL, WAL), which is
# what each write would cost without group commit.
#
# Usage: bench/audited_writes.sh      (normally through `make bench`)
# Environment (all optional): DZONG_BIN (build/release/src/dzong),
# AUDIT_BENCH_BIN (build/release/bench/dzong_audit_bench), CONNECTIONS (64),
# THREADS (2), DURATION seconds (10), TARGET_RATIO (3.0), SERVER_THREADS (the
# server's own default when unset), KEEP_TMP=1.
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

log() { printf 'audited_writes: %s\n' "$*" >&2; }
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

# 2. dzong on a fresh SQLite database there.
port=$((20000 + RANDOM % 12000))
export DZONG_DATA_DIR=$TMP/var DZONG_DATABASE_URL="sqlite://$TMP/var/dzong.db" DZONG_LISTEN=127.0.0.1:$port
export DZONG_OPERATOR_TOKEN=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export DZONG_KEY_ENCRYPTION_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export DZONG_LOG_LEVEL=warn
mkdir -p "$DZONG_DATA_DIR"
"$DZONG_BIN" seed >/dev/null
{
  [[ -z ${SERVER_THREADS:-} ]] || printf '[server]\nthreads = %s\n' "$SERVER_THREADS"
  printf '[log]\naccess_log = false\n'
} >"$TMP/dzong.toml"
"$DZONG_BIN" --config "$TMP/dzong.toml" serve >"$TMP/dzong.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || die 1 "dzong did not start: $(tail -5 "$TMP/dzong.log")"

# 3. Each request creates a new organisation with a code of its own.
cat >"$TMP/create.lua" <<EOF
local counter = 0
local prefix = "W"
function setup(thread) thread:set("prefix", "W" .. tostring(math.random(100000, 999999))) end
function init(args) prefix = wrk.thread:get("prefix") or prefix end
request = function()
  counter = counter + 1
  local body = string.format('{"code":"%s-%d","name_en":"Benchmark agency","kind":"agency"}', prefix, counter)
  return wrk.format("POST", "/api/v1/organisations",
    {["Authorization"] = "Bearer $DZONG_OPERATOR_TOKEN", ["Content-Type"] = "application/json"}, body)
end
EOF
log "dzong: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s POST /api/v1/organisations"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$TMP/create.lua" "http://127.0.0.1:$port" | tee "$TMP/wrk.out"
rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$TMP/wrk.out")
bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$TMP/wrk.out")
[[ -n $rps ]] || die 1 "could not read wrk's output"
[[ -z $bad ]] || die 1 "$bad answers were not 2xx"
metrics=$(curl -fs "http://127.0.0.1:$port/metrics")
commits=$(awk '$1 == "dzong_db_commits_total" { print $2 }' <<<"$metrics")
writes=$(awk '$1 == "dzong_db_writes_total" { print $2 }' <<<"$metrics")
kill -TERM "$PID"; wait "$PID" || true; PID=""
verify=$("$DZONG_BIN" audit verify) || die 1 "the audit log does not verify: $verify"

ratio=$(awk -v a="$rps" -v b="$fsync_rate" 'BEGIN { printf "%.2f", a / b }')
echo
echo "durable audited writes: $rps req/s; durable single-row commits (fsync rate): $fsync_rate/s; ratio $ratio (target $TARGET_RATIO)"
echo "database: $writes writes in $commits commits ($(awk -v w="$writes" -v c="$commits" 'BEGIN { printf "%.1f", w / c }') writes per fsync)"
echo "$verify"
awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { exit !(r >= t) }' || exit 3
