#!/usr/bin/env bash
# Benchmark: the citizen's catalogue pages, GET /services and GET
# /services/{code}, as a visitor who has not signed in reads them, on dzong
# versus nginx serving the same bytes from static files, measured in the same
# run on the same machine.
#
# The servers, ports, temporary directory, nginx configuration, wrk runs and
# output parsing are those of bench/org_lookup.sh (sourced for its functions);
# see that file and bench/README.md.
#
# Usage: bench/catalogue.sh      (normally through `make bench`)
#
# Environment (all optional): DZONG_BIN, NGINX_BIN, CONNECTIONS (64),
# THREADS (2), DURATION (10), WARMUP (2), KEEP_TMP=1 as in org_lookup.sh;
#   TARGET_RATIO  minimum dzong/nginx req/s ratio, for each page (default 0.50)
#   SERVICE_CODE  the service whose page is measured (default: the first one
#                 the catalogue lists)
#
# Exit status: 0 both pages at or above target; 3 below target; 1 the run
# failed; 2 missing prerequisites or bad settings.
set -euo pipefail

# The caller's target, before org_lookup.sh sets its own default.
CATALOGUE_TARGET_RATIO=${TARGET_RATIO:-0.50}
# shellcheck source=bench/org_lookup.sh
source "$(dirname "${BASH_SOURCE[0]}")/org_lookup.sh"
TARGET_RATIO=$CATALOGUE_TARGET_RATIO
SERVICE_CODE=${SERVICE_CODE:-}

log() { printf '%s\n' "catalogue: $*" >&2; }

# Saves dzong's answer to PATH in FILE; it must be a 200 with a body.
fetch_page() {
  local url=$1 file=$2 status
  status=$(curl -sS -o "$file" -w '%{http_code}' --max-time 5 "$url") || die 1 "GET $url failed"
  [[ $status == 200 ]] || die 1 "GET $url answered $status, expected 200"
  [[ -s $file ]] || die 1 "GET $url answered an empty body"
}

catalogue_main() {
  local orig_pwd=$PWD
  cd "$(dirname "${BASH_SOURCE[0]}")/.."

  bench_tools "$orig_pwd"
  local t
  for t in CONNECTIONS THREADS DURATION WARMUP; do
    [[ ${!t} =~ ^[1-9][0-9]*$ ]] || die 2 "$t must be a positive integer, got '${!t}'"
  done
  [[ $TARGET_RATIO =~ ^[0-9]+(\.[0-9]+)?$ ]] || die 2 "TARGET_RATIO must be a number, got '$TARGET_RATIO'"
  [[ -z $SERVICE_CODE || $SERVICE_CODE =~ ^[a-z][a-z0-9-]{2,63}$ ]] || die 2 "SERVICE_CODE is not a service code"
  ((CONNECTIONS >= THREADS)) || die 2 "CONNECTIONS must be >= THREADS"

  bench_scene
  local dzong_url=$DZONG_URL nginx_url=$NGINX_URL nginx_port=$NGINX_PORT

  # dzong on a fresh SQLite database, seeded with the platform's services.
  log "dzong: $DZONG_BIN on $DZONG_LISTEN, database $TMP/dzong.db"
  "$DZONG_BIN" migrate >>"$TMP/dzong.log" 2>&1 || die 1 "dzong migrate failed"
  "$DZONG_BIN" seed >>"$TMP/dzong.log" 2>&1 || die 1 "dzong seed failed"
  "$DZONG_BIN" serve >>"$TMP/dzong.log" 2>&1 &
  DZONG_PID=$!
  wait_ready "$dzong_url/readyz" "$DZONG_PID" 20 dzong

  # The bodies nginx will serve: byte for byte what dzong answers.
  local list_path=/services list_body=$TMP/www/services.html
  fetch_page "$dzong_url$list_path" "$list_body"
  if [[ -z $SERVICE_CODE ]]; then
    # The templates write '/' in attributes as &#x2F;.
    SERVICE_CODE=$(sed 's|&#x2F;|/|g' "$list_body" | grep -o 'href="/services/[a-z][a-z0-9-]*"' | head -n 1 |
      sed 's|.*/services/||; s|"$||')
    [[ -n $SERVICE_CODE ]] || die 1 "the catalogue lists no service (is the seed missing its services?)"
  fi
  local page_path=/services/$SERVICE_CODE page_body=$TMP/www/service.html
  fetch_page "$dzong_url$page_path" "$page_body"
  log "body of $list_path: $(wc -c <"$list_body") bytes; of $page_path: $(wc -c <"$page_body") bytes"

  write_nginx_conf "$nginx_port" "$TMP/nginx.conf" "text/html; charset=utf-8" \
    "$list_path=$list_body" "$page_path=$page_body"
  local nginx_args=(-e "$TMP/nginx-error.log" -p "$TMP/" -c "$TMP/nginx.conf")
  "$NGINX_BIN" -t -q "${nginx_args[@]}" >>"$TMP/nginx.out" 2>&1 || die 1 "nginx rejected $TMP/nginx.conf"
  log "nginx: $NGINX_BIN on 127.0.0.1:$nginx_port, $(nproc) worker(s)"
  "$NGINX_BIN" "${nginx_args[@]}" >>"$TMP/nginx.out" 2>&1 &
  NGINX_PID=$!
  wait_ready "$nginx_url$list_path" "$NGINX_PID" 10 nginx
  local p f size
  for p in "$list_path=$list_body" "$page_path=$page_body"; do
    f=${p#*=}
    size=$(curl -fsS -o /dev/null -w '%{size_download}' "$nginx_url${p%%=*}")
    [[ $size == "$(wc -c <"$f")" ]] || die 1 "nginx served $size bytes at ${p%%=*}, dzong $(wc -c <"$f")"
  done

  # Same load, one server at a time, page by page.
  run_wrk "nginx $list_path" "$nginx_url$list_path" "$TMP/wrk-nginx-list.txt"
  run_wrk "dzong $list_path" "$dzong_url$list_path" "$TMP/wrk-dzong-list.txt"
  run_wrk "nginx $page_path" "$nginx_url$page_path" "$TMP/wrk-nginx-page.txt"
  run_wrk "dzong $page_path" "$dzong_url$page_path" "$TMP/wrk-dzong-page.txt"

  local name parsed failed=0 below=0
  local -A rps
  echo
  printf '%-40s %10s %8s %8s\n' "target" "req/s" "p50_ms" "p99_ms"
  for name in nginx-list dzong-list nginx-page dzong-page; do
    parsed=$(parse_wrk "$TMP/wrk-$name.txt") || die 1 "could not parse wrk output for $name"
    local r a b bad sock label
    read -r r a b bad sock <<<"$parsed"
    rps[$name]=$r
    label="${name%%-*} $([[ $name == *list ]] && echo "$list_path" || echo "$page_path")"
    LC_ALL=C printf '%-40s %10.1f %8.2f %8.2f\n' "$label" "$r" "$a" "$b"
    ((bad == 0)) || { log "$label: $bad non-2xx/3xx responses"; failed=1; }
    if [[ $name == dzong-* ]]; then
      ((sock == 0)) || { log "$label: $sock socket errors"; failed=1; }
    else
      ((sock == 0)) || log "warning: $label had $sock socket errors; the reference may be low"
    fi
  done
  for name in list page; do
    local path ratio
    path=$([[ $name == list ]] && echo "$list_path" || echo "$page_path")
    ratio=$(LC_ALL=C awk -v d="${rps[dzong-$name]}" -v n="${rps[nginx-$name]}" 'BEGIN { printf "%.2f", (n > 0 ? d / n : 0) }')
    echo "ratio dzong/nginx req/s, GET $path: $ratio (target >= $TARGET_RATIO)"
    LC_ALL=C awk -v d="${rps[dzong-$name]}" -v n="${rps[nginx-$name]}" -v t="$TARGET_RATIO" \
      'BEGIN { exit !(n > 0 && d / n >= t) }' || below=1
  done
  ((failed == 0)) || die 1 "FAILED"
  if ((below == 0)); then
    echo "PASS"
  else
    echo "BELOW TARGET"
    exit 3
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  catalogue_main "$@"
fi
