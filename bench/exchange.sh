#!/usr/bin/env bash
# Benchmark: signed exchange reads against nginx serving a file of the same
# size, both measured in this run with the same load.
#
# dzong runs on a fresh SQLite database with POPULATION people (1,000,000 by
# default). An agency system is registered with its key, an agreement is
# approved, and REQUESTS reads of random people are signed beforehand (each
# with its own nonce, as a real system signs each request). wrk sends them:
# every read checks the request's Ed25519 signature, the agreement, the
# nonce, signs the answer, and commits the nonce, the message log entry and
# the audit event (with the person's CID) before answering.
#
# Usage: bench/exchange.sh      (normally through `make bench`)
# Environment (all optional): DZONG_BIN, SETUP_BIN, POPULATION (1000000),
# REQUESTS (400000), CONNECTIONS (64), THREADS (2), DURATION seconds (10),
# TARGET_RATIO (0.25), TARGET_P99_MS (10), SERVER_THREADS (the server's default when
# unset), KEEP_TMP=1.
# Exit status: 0 at or above target; 3 below; 1 the run failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
POPULATION=${POPULATION:-1000000}
REQUESTS=${REQUESTS:-400000}
TARGET_RATIO=${TARGET_RATIO:-0.25}
TARGET_P99_MS=${TARGET_P99_MS:-10}
KEEP_TMP=${KEEP_TMP:-0}
# The helpers of the lookup benchmark: ports, nginx, wrk output, clean-up.
# shellcheck source=bench/org_lookup.sh
source "$root/bench/org_lookup.sh"
log() { printf '%s\n' "exchange: $*" >&2; }

DZONG_BIN=$(realpath "${DZONG_BIN:-$root/build/release/src/dzong}")
SETUP_BIN=$(realpath "${SETUP_BIN:-$root/build/release/bench/dzong_exchange_setup}")
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
SYSTEM=BT/GOV/MOH/HIS
for t in wrk curl; do command -v "$t" >/dev/null || die 2 "$t not found (scripts/install-deps bench)"; done
[[ -x $DZONG_BIN ]] || die 2 "no dzong binary at $DZONG_BIN"
[[ -x $SETUP_BIN ]] || die 2 "no dzong_exchange_setup at $SETUP_BIN"
[[ -x $NGINX_BIN ]] || die 2 "nginx not found (scripts/install-deps bench)"

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dzong-exchange.XXXXXX")
TMP=$(cd "$TMP" && pwd -P)
mkdir -p "$TMP/data" "$TMP/www" "$TMP/nginx-tmp"
dzong_port=$(pick_port) || die 1 "no free port found"
nginx_port=$(pick_port "$dzong_port") || die 1 "no free port found"

export DZONG_DATABASE_URL="sqlite://$TMP/dzong.db" DZONG_LISTEN="127.0.0.1:$dzong_port" DZONG_DATA_DIR="$TMP/data"
DZONG_KEY_ENCRYPTION_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
DZONG_OPERATOR_TOKEN=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export DZONG_KEY_ENCRYPTION_KEY DZONG_OPERATOR_TOKEN DZONG_LOG_LEVEL=warn
{
  [[ -z ${SERVER_THREADS:-} ]] || printf '[server]\nthreads = %s\n' "$SERVER_THREADS"
  printf '[log]\naccess_log = false\n'
} >"$TMP/dzong.toml"

log "seeding $POPULATION people"
start=$SECONDS
"$DZONG_BIN" seed --population "$POPULATION" >>"$TMP/dzong.log" 2>&1 || die 1 "seed failed"
log "seeded in $((SECONDS - start)) s"
"$DZONG_BIN" --config "$TMP/dzong.toml" serve >>"$TMP/dzong.log" 2>&1 &
DZONG_PID=$!
wait_ready "http://127.0.0.1:$dzong_port/readyz" "$DZONG_PID" 30 dzong

# The agency's system, registered as an agency administrator would.
public=$("$DZONG_BIN" exchange keygen -o "$TMP/system.key")
id=$(curl -fsS -H "Authorization: Bearer $DZONG_OPERATOR_TOKEN" -H 'Content-Type: application/json' \
  -d "{\"kind\":\"system\",\"username\":\"$SYSTEM\",\"display_name\":\"Hospital information system\",\"organisation\":\"MOH\",\"public_key\":\"$public\"}" \
  "http://127.0.0.1:$dzong_port/api/v1/accounts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -fsS -o /dev/null -H "Authorization: Bearer $DZONG_OPERATOR_TOKEN" -H 'Content-Type: application/json' \
  -d '{"role":"exchange_client"}' "http://127.0.0.1:$dzong_port/api/v1/accounts/$id/grants"
log "signing $REQUESTS requests beforehand"
"$SETUP_BIN" "$SYSTEM" "$TMP/system.key" "$REQUESTS" "$TMP/requests.tsv" 2>>"$TMP/dzong.log" || die 1 "setup failed"

# One answer, to give nginx a body of the same size; this request is then used.
IFS=$'\t' read -r first_path first_input first_signature <"$TMP/requests.tsv"
curl -fsS -o "$TMP/www/answer.json" -H "X-Purpose: PATIENT-ID" -H "Signature-Input: $first_input" \
  -H "Signature: $first_signature" "http://127.0.0.1:$dzong_port$first_path" || die 1 "a signed read failed"
size=$(wc -c <"$TMP/www/answer.json")
log "an answer is $size bytes (signed, with the agreed fields)"
ORG_PATH=/exchange/v1/answer
write_nginx_conf "$nginx_port" "$TMP/nginx.conf" application/json "$ORG_PATH=$TMP/www/answer.json"
nginx_args=(-e "$TMP/nginx-error.log" -p "$TMP/" -c "$TMP/nginx.conf")
"$NGINX_BIN" "${nginx_args[@]}" >>"$TMP/nginx.out" 2>&1 &
NGINX_PID=$!
wait_ready "http://127.0.0.1:$nginx_port$ORG_PATH" "$NGINX_PID" 10 nginx

# wrk sends the signed requests in turn, each thread its own share, once.
cat >"$TMP/signed.lua" <<'EOF'
local threads, counter = {}, 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local index, count = wrk.thread:get("index"), tonumber(args[2])
  requests = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % count == index and n > 0 then
      local path, input, signature = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
      table.insert(requests, wrk.format("GET", path,
        { ["X-Purpose"] = "PATIENT-ID", ["Signature-Input"] = input, ["Signature"] = signature }))
    end
    n = n + 1
  end
  next_request = 0
end
function request()
  next_request = next_request + 1
  return requests[next_request] or requests[1]
end
EOF

run_wrk "nginx static" "http://127.0.0.1:$nginx_port$ORG_PATH" "$TMP/wrk-nginx.txt"
log "dzong exchange: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency (signed reads)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$TMP/signed.lua" \
  "http://127.0.0.1:$dzong_port/" -- "$TMP/requests.tsv" "$THREADS" | tee "$TMP/wrk-dzong.txt"

read -r n_rps n_p50 n_p99 n_bad n_sock <<<"$(parse_wrk "$TMP/wrk-nginx.txt")"
read -r d_rps d_p50 d_p99 d_bad d_sock <<<"$(parse_wrk "$TMP/wrk-dzong.txt")"
verify=$("$DZONG_BIN" exchange verify-log)
log "$verify"
echo
LC_ALL=C awk -v n_rps="$n_rps" -v n_p50="$n_p50" -v n_p99="$n_p99" -v d_rps="$d_rps" -v d_p50="$d_p50" \
  -v d_p99="$d_p99" -v target="$TARGET_RATIO" -v p99="$TARGET_P99_MS" -v people="$POPULATION" '
  BEGIN {
    printf "%-22s %10s %8s %8s\n", "target", "req/s", "p50_ms", "p99_ms"
    printf "%-22s %10.1f %8.2f %8.2f\n", "nginx static", n_rps, n_p50, n_p99
    printf "%-22s %10.1f %8.2f %8.2f\n", "dzong signed reads", d_rps, d_p50, d_p99
    printf "register: %d people; ratio dzong/nginx req/s: %.3f (target >= %s); p99 %.2f ms (target <= %s)\n",
      people, d_rps / n_rps, target, d_p99, p99
  }'
((d_bad == 0)) || die 1 "dzong: $d_bad answers were not 2xx (replays when the signed requests ran out: raise REQUESTS)"
((d_sock == 0)) || die 1 "dzong: $d_sock socket errors"
[[ $verify == "message log intact: "* ]] || die 1 "the message log does not verify"
if LC_ALL=C awk -v d="$d_rps" -v n="$n_rps" -v t="$TARGET_RATIO" -v p="$d_p99" -v tp="$TARGET_P99_MS" \
  'BEGIN { exit !(n > 0 && d / n >= t && p <= tp) }'; then
  echo "PASS"
else
  echo "BELOW TARGET"
  exit 3
fi
