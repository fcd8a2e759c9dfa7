#!/usr/bin/env bash
# Benchmark: GET /verify/{id}, the public check of a certificate as a bank's
# or a border post's system asks it (JSON), on dzong versus nginx serving the
# same bytes from a static file, measured in the same run on the same machine.
# Each check verifies the stored Ed25519 signature against the published keys
# and, because it shows the holder's public fields, is recorded in the audit
# log with the holder as subject before the answer goes out.
#
# The certificate is made as people make it: the demo citizen applies for a
# security clearance through the API and the RBP's demo officer approves it.
# Servers, ports, nginx configuration, wrk runs and parsing are those of
# bench/org_lookup.sh (sourced for its functions).
#
# Usage: bench/verify.sh      (normally through `make bench`)
#
# Environment (all optional): DZONG_BIN, NGINX_BIN, CONNECTIONS (64),
# THREADS (2), DURATION (10), WARMUP (2), KEEP_TMP=1 as in org_lookup.sh;
#   TARGET_RPS  verifications per second to reach (default 15000)
#
# Exit status: 0 at or above target; 3 below target; 1 the run failed;
# 2 missing prerequisites or bad settings.
set -euo pipefail

VERIFY_TARGET_RPS=${TARGET_RPS:-15000}
# shellcheck source=bench/org_lookup.sh
source "$(dirname "${BASH_SOURCE[0]}")/org_lookup.sh"

log() { printf '%s\n' "verify: $*" >&2; }

verify_main() {
  local orig_pwd=$PWD
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  bench_tools "$orig_pwd"
  [[ $VERIFY_TARGET_RPS =~ ^[1-9][0-9]*$ ]] || die 2 "TARGET_RPS must be a positive integer"

  bench_scene
  mkdir -p "$TMP/www/verify"
  local dzong_url=$DZONG_URL nginx_url=$NGINX_URL nginx_port=$NGINX_PORT
  "$DZONG_BIN" seed --demo --population 1000 >>"$TMP/dzong.log" 2>&1 || die 1 "dzong seed failed"
  local citizen officer
  citizen=$("$DZONG_BIN" tokens issue 11410012345 --scopes "account.self consent.self data_access.self" --name bench 2>>"$TMP/dzong.log") ||
    die 1 "no token for the demo citizen"
  officer=$("$DZONG_BIN" tokens issue sonam.tobgay --scopes "account.self applications.work" --name bench \
    2>>"$TMP/dzong.log") || die 1 "no token for the RBP officer"
  "$DZONG_BIN" serve >>"$TMP/dzong.log" 2>&1 &
  DZONG_PID=$!
  wait_ready "$dzong_url/readyz" "$DZONG_PID" 20 dzong

  # The citizen applies; the police approve; the certificate is issued.
  local reference version id
  reference=$(curl -fsS -X POST "$dzong_url/api/v1/services/security-clearance/applications" \
    -H "Authorization: Bearer $citizen" -H 'Content-Type: application/json' -H 'Idempotency-Key: bench-verify-1' \
    -d '{"consent":true,"answers":{"clearance_type":"general"}}' | sed -n 's/.*"reference":"\([^"]*\)".*/\1/p')
  [[ -n $reference ]] || die 1 "the application was not accepted"
  version=$(curl -fsS -H "Authorization: Bearer $officer" "$dzong_url/api/v1/applications/$reference" |
    sed -n 's/.*"version":\([0-9]*\).*/\1/p')
  curl -fsS -o /dev/null -X POST "$dzong_url/api/v1/applications/$reference/actions" \
    -H "Authorization: Bearer $officer" -H 'Content-Type: application/json' \
    -d "{\"action\":\"transition\",\"transition\":\"approve\",\"version\":$version}" || die 1 "the approval failed"
  id=$(curl -fsS -H "Authorization: Bearer $citizen" -H 'Accept: text/html' "$dzong_url/my/documents" |
    grep -o 'href="/my/documents/RBP-[A-Z0-9-]*"' | head -n 1 | sed 's|.*/my/documents/||; s|"$||')
  [[ -n $id ]] || die 1 "no certificate was issued"
  local path=/verify/$id body=$TMP/www/verify/$id
  curl -fsS -o "$body" "$dzong_url$path" || die 1 "GET $path failed"
  grep -q '"verdict":"valid"' "$body" || die 1 "GET $path did not say valid: $(cat "$body")"
  log "certificate $id; answer $(wc -c <"$body") bytes"

  write_nginx_conf "$nginx_port" "$TMP/nginx.conf" "application/json" "$path=$body"
  local nginx_args=(-e "$TMP/nginx-error.log" -p "$TMP/" -c "$TMP/nginx.conf")
  "$NGINX_BIN" -t -q "${nginx_args[@]}" >>"$TMP/nginx.out" 2>&1 || die 1 "nginx rejected $TMP/nginx.conf"
  "$NGINX_BIN" "${nginx_args[@]}" >>"$TMP/nginx.out" 2>&1 &
  NGINX_PID=$!
  wait_ready "$nginx_url$path" "$NGINX_PID" 10 nginx

  run_wrk "nginx $path" "$nginx_url$path" "$TMP/wrk-nginx.txt"
  run_wrk "dzong $path" "$dzong_url$path" "$TMP/wrk-dzong.txt"
  local name r a b bad sock failed=0
  local -A rps
  echo
  printf '%-12s %10s %8s %8s\n' "server" "req/s" "p50_ms" "p99_ms"
  for name in nginx dzong; do
    read -r r a b bad sock <<<"$(parse_wrk "$TMP/wrk-$name.txt")" || die 1 "could not parse wrk output for $name"
    rps[$name]=$r
    LC_ALL=C printf '%-12s %10.1f %8.2f %8.2f\n' "$name" "$r" "$a" "$b"
    ((bad == 0)) || { log "$name: $bad non-2xx/3xx responses"; failed=1; }
  done
  local audited
  audited=$(curl -fsS -H "Authorization: Bearer $citizen" -H 'Accept: text/csv' "$dzong_url/my/data-access.csv" |
    grep -c 'certificates.verify\|Checked one of your certificates' || true)
  echo "ratio dzong/nginx req/s: $(LC_ALL=C awk -v d="${rps[dzong]}" -v n="${rps[nginx]}" 'BEGIN { printf "%.2f", d / n }')"
  echo "verifications/s: ${rps[dzong]} (target >= $VERIFY_TARGET_RPS); checks in the holder's data tracker: $audited"
  ((failed == 0)) || die 1 "FAILED"
  if LC_ALL=C awk -v d="${rps[dzong]}" -v t="$VERIFY_TARGET_RPS" 'BEGIN { exit !(d >= t) }'; then
    echo "PASS"
  else
    echo "BELOW TARGET"
    exit 3
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  verify_main "$@"
fi
