#!/usr/bin/env bash
# Benchmark: GET /api/v1/organisations/{code} on dzong versus nginx serving a
# static file with the same body, measured in the same run on the same machine.
#
# Both servers are started here, on loopback ports picked at random, with all
# their state (SQLite database, data dir, nginx config, logs) in a temporary
# directory that is removed on exit, pass or fail, together with both servers.
#
# Usage: bench/org_lookup.sh      (normally through `make bench`)
#
# Environment (all optional):
#   DZONG_BIN     dzong binary; default build/release/src/dzong under the
#                 repo root. A relative value is taken from the caller's cwd.
#   NGINX_BIN     nginx binary; default `nginx` on PATH, else /usr/sbin/nginx.
#   CONNECTIONS   wrk connections (default 64)
#   THREADS       wrk threads (default 2)
#   DURATION      seconds measured per server (default 10)
#   WARMUP        seconds of discarded load per server before measuring (2)
#   TARGET_RATIO  minimum dzong/nginx req/s ratio that passes (default 0.70)
#   KEEP_TMP=1    keep the temporary directory (logs, db, wrk output)
#
# Exit status: 0 at or above target; 3 below target; 1 the run failed (a
# server did not start, non-2xx/3xx responses, socket errors on dzong, output
# that could not be parsed); 2 missing prerequisites or bad settings.
set -euo pipefail

CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
TARGET_RATIO=${TARGET_RATIO:-0.70}
KEEP_TMP=${KEEP_TMP:-0}
ORG_CODE=DCRC
ORG_PATH=/api/v1/organisations/$ORG_CODE

TMP=""
DZONG_PID=""
NGINX_PID=""

log() { printf '%s\n' "org_lookup: $*" >&2; }
die() { local rc=$1; shift; log "$*"; exit "$rc"; }

# --- wrk output parsing -------------------------------------------------------

# Prints "<req/s> <p50 ms> <p99 ms> <non-2xx/3xx count> <socket error count>"
# for one `wrk --latency` output file. wrk prints latencies with a unit of us,
# ms, s, m or h (e.g. "850.00us", "1.23ms", "1.02s"); they are normalised to ms.
parse_wrk() {
  LC_ALL=C awk '
    function to_ms(v,   n, u) {
      n = v; sub(/[a-z]+$/, "", n)
      u = v; sub(/^[0-9.]+/, "", u)
      if (n !~ /^[0-9]+(\.[0-9]+)?$/) return -1
      if (u == "us") return n / 1000
      if (u == "ms") return n + 0
      if (u == "s")  return n * 1000
      if (u == "m")  return n * 60000
      if (u == "h")  return n * 3600000
      return -1
    }
    $1 == "50%"            { p50 = to_ms($2) }
    $1 == "99%"            { p99 = to_ms($2) }
    $1 == "Requests/sec:"  { rps = $2 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ {
      # Socket errors: connect 0, read 0, write 0, timeout 12
      line = $0; sub(/.*Socket errors:/, "", line); gsub(/[^0-9]+/, " ", line)
      k = split(line, f, " "); for (i = 1; i <= k; i++) sockerr += f[i]
    }
    END {
      if (rps == "" || p50 == "" || p99 == "" || p50 < 0 || p99 < 0) exit 1
      printf "%s %.3f %.3f %d %d\n", rps, p50, p99, bad + 0, sockerr + 0
    }' "$1"
}

# --- process and port helpers ---------------------------------------------------

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free loopback port below the Linux ephemeral range (32768+), so that it
# cannot collide with wrk's own client ports. Free means nothing accepted a
# connection on it just now; a server that then fails to bind is caught below.
pick_port() {
  local p tries
  for ((tries = 0; tries < 200; tries++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    [[ " $* " == *" $p "* ]] && continue
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  return 1
}

# Is this child still running (not exited, not a zombie waiting to be reaped)?
alive() {
  local pid=$1 rest state
  [[ -r /proc/$pid/stat ]] || return 1
  read -r rest </proc/"$pid"/stat 2>/dev/null || return 1
  state=${rest##*) }; state=${state%% *}
  [[ $state != Z ]]
}

# SIGTERM, up to 10 s to exit, then SIGKILL (children first: nginx workers
# outlive a SIGKILLed master). Only ever the pids this script started.
stop_pid() {
  local pid=$1 i kids
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    log "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
    kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
    # shellcheck disable=SC2086
    [[ -z $kids ]] || kill -KILL $kids 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? f
  set +e
  trap - EXIT INT TERM
  stop_pid "$NGINX_PID"
  stop_pid "$DZONG_PID"
  if [[ -n $TMP && -d $TMP ]]; then
    if [[ $rc -ne 0 && $rc -ne 3 ]]; then
      for f in "$TMP"/dzong.log "$TMP"/nginx-error.log "$TMP"/nginx.out; do
        [[ -s $f ]] || continue
        log "last lines of ${f##*/}:"
        tail -n 20 "$f" >&2
      done
    fi
    if [[ $KEEP_TMP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  fi
  exit "$rc"
}

# Polls URL until it answers 200 or TIMEOUT seconds pass; fails early if the
# server process PID has exited.
wait_ready() {
  local url=$1 pid=$2 timeout=$3 name=$4 deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    alive "$pid" || die 1 "$name exited during start-up"
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  die 1 "$name not ready at $url after ${timeout} s"
}

# Writes CONF, the nginx.conf of the static reference on PORT: each
# "PATH=FILE" pair serves FILE at PATH, as TYPE (the Content-Type dzong
# answers with); any other path is a 404. The benchmarks that source this
# file call it too.
write_nginx_conf() {
  local port=$1 conf=$2 type=$3 v m pair
  shift 3
  v=$("$NGINX_BIN" -V 2>&1)
  {
    echo "# Generated by bench/${0##*/}: the static-file reference."
    echo "daemon off;"
    # One worker per core (nproc), not 1: the reference may use every core,
    # as dzong may, and wrk shares those same cores with whichever server is
    # being measured. A single worker would cap nginx at one core and flatter
    # the ratio.
    echo "worker_processes $(nproc);"
    # As root, nginx would drop its workers to 'nobody', who may not be able
    # to read the 0700 temp dir; keep them as root (loopback only, seconds).
    # Run as any other user, nginx cannot switch users: the line is left out.
    [[ $(id -u) -ne 0 ]] || echo "user root;"
    echo "pid \"$TMP/nginx.pid\";"
    echo "error_log \"$TMP/nginx-error.log\" warn;"
    echo "events { worker_connections $((CONNECTIONS + 512)); }"
    echo "http {"
    echo "  access_log off;"
    echo "  types { }"
    echo "  default_type \"$type\";"
    echo "  sendfile on;"
    echo "  keepalive_requests 100000;"
    # The compiled-in temp paths (/var/lib/nginx/...) are absolute, so -p does
    # not move them; nginx must create them at start, which fails for non-root.
    for m in client_body proxy fastcgi uwsgi scgi; do
      [[ $v == *"--http-${m//_/-}-temp-path="* ]] || continue
      [[ $v != *"--without-http_${m}_module"* ]] || continue
      echo "  ${m}_temp_path \"$TMP/nginx-tmp/$m\";"
    done
    echo "  server {"
    echo "    listen 127.0.0.1:$port;"
    for pair in "$@"; do
      echo "    location = ${pair%%=*} { alias \"${pair#*=}\"; }"
    done
    echo "    location / { return 404; }"
    echo "  }"
    echo "}"
  } >"$conf"
}

# Warm-up, then the measured run; wrk output goes to OUT and to stdout.
run_wrk() {
  local name=$1 url=$2 out=$3
  log "$name: warm-up ${WARMUP} s"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$url" >/dev/null
  log "$name: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency $url"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" | tee "$out"
}

# Resolves DZONG_BIN (a relative one against the caller's directory $1) and
# NGINX_BIN, and checks that wrk and curl are there. Run from the checkout.
bench_tools() {
  local orig_pwd=$1
  if [[ -z ${DZONG_BIN:-} ]]; then
    DZONG_BIN=$PWD/build/release/src/dzong
  elif [[ $DZONG_BIN != /* ]]; then
    DZONG_BIN=$orig_pwd/$DZONG_BIN
  fi
  [[ -x $DZONG_BIN ]] || die 2 "no dzong binary at $DZONG_BIN (build it with 'make bench', or set DZONG_BIN)"
  if [[ -z ${NGINX_BIN:-} ]]; then
    NGINX_BIN=$(command -v nginx || true)
    [[ -n $NGINX_BIN ]] || NGINX_BIN=/usr/sbin/nginx # not on a non-root PATH
  fi
  [[ -x $NGINX_BIN ]] || die 2 "nginx not found (scripts/install-deps bench)"
  local t
  for t in wrk curl; do
    command -v "$t" >/dev/null || die 2 "$t not found (scripts/install-deps bench)"
  done
}

# The scene of a run: the temporary directory TMP (removed on exit unless
# KEEP_TMP=1), two free ports for DZONG_URL and NGINX_URL (NGINX_PORT), and
# dzong's settings exported for a fresh SQLite database in TMP.
bench_scene() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/dzong-bench.XXXXXX")
  TMP=$(cd "$TMP" && pwd -P)
  mkdir -p "$TMP/data" "$TMP/www" "$TMP/nginx-tmp"

  local dzong_port
  dzong_port=$(pick_port) || die 1 "no free port found"
  NGINX_PORT=$(pick_port "$dzong_port") || die 1 "no free port found"
  DZONG_URL=http://127.0.0.1:$dzong_port
  NGINX_URL=http://127.0.0.1:$NGINX_PORT

  export DZONG_DATABASE_URL="sqlite://$TMP/dzong.db"
  export DZONG_LISTEN="127.0.0.1:$dzong_port"
  export DZONG_DATA_DIR="$TMP/data"
  # A key-encryption key of its own for this run (dzong signs audit checkpoints).
  DZONG_KEY_ENCRYPTION_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d " \n")
  export DZONG_KEY_ENCRYPTION_KEY
  # nginx runs with access_log off; dzong likewise (BENCH_LOG_LEVEL=info to include its access log).
  export DZONG_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}
}

main() {
  local orig_pwd=$PWD
  cd "$(dirname "${BASH_SOURCE[0]}")/.."

  # Prerequisites and settings.
  bench_tools "$orig_pwd"
  local t
  for t in CONNECTIONS THREADS DURATION WARMUP; do
    [[ ${!t} =~ ^[1-9][0-9]*$ ]] || die 2 "$t must be a positive integer, got '${!t}'"
  done
  [[ $TARGET_RATIO =~ ^[0-9]+(\.[0-9]+)?$ ]] || die 2 "TARGET_RATIO must be a number, got '$TARGET_RATIO'"
  ((CONNECTIONS >= THREADS)) || die 2 "CONNECTIONS must be >= THREADS"

  bench_scene
  local dzong_url=$DZONG_URL nginx_url=$NGINX_URL nginx_port=$NGINX_PORT
  log "dzong: $DZONG_BIN on $DZONG_LISTEN, database $TMP/dzong.db"
  "$DZONG_BIN" migrate >>"$TMP/dzong.log" 2>&1 || die 1 "dzong migrate failed"
  "$DZONG_BIN" seed >>"$TMP/dzong.log" 2>&1 || die 1 "dzong seed failed"
  "$DZONG_BIN" serve >>"$TMP/dzong.log" 2>&1 &
  DZONG_PID=$!
  wait_ready "$dzong_url/readyz" "$DZONG_PID" 20 dzong

  # The body nginx will serve: byte for byte what dzong answers.
  local body=$TMP/www/org.json status
  status=$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 "$dzong_url$ORG_PATH") ||
    die 1 "GET $ORG_PATH on dzong failed"
  [[ $status == 200 ]] || die 1 "GET $ORG_PATH on dzong answered $status, expected 200"
  [[ -s $body ]] || die 1 "GET $ORG_PATH on dzong answered an empty body"
  local size
  size=$(wc -c <"$body")
  log "body of $ORG_PATH: $size bytes"

  # nginx serving that file.
  write_nginx_conf "$nginx_port" "$TMP/nginx.conf" application/json "$ORG_PATH=$body"
  local nginx_args=(-e "$TMP/nginx-error.log" -p "$TMP/" -c "$TMP/nginx.conf")
  "$NGINX_BIN" -t -q "${nginx_args[@]}" >>"$TMP/nginx.out" 2>&1 || die 1 "nginx rejected $TMP/nginx.conf"
  log "nginx: $NGINX_BIN on 127.0.0.1:$nginx_port, $(nproc) worker(s)"
  "$NGINX_BIN" "${nginx_args[@]}" >>"$TMP/nginx.out" 2>&1 &
  NGINX_PID=$!
  wait_ready "$nginx_url$ORG_PATH" "$NGINX_PID" 10 nginx
  local nsize
  nsize=$(curl -fsS -o /dev/null -w '%{size_download}' "$nginx_url$ORG_PATH")
  [[ $nsize == "$size" ]] || die 1 "nginx served $nsize bytes, dzong $size"

  # Same load, one server at a time.
  run_wrk "nginx static" "$nginx_url$ORG_PATH" "$TMP/wrk-nginx.txt"
  run_wrk "dzong lookup" "$dzong_url$ORG_PATH" "$TMP/wrk-dzong.txt"

  local n d
  n=$(parse_wrk "$TMP/wrk-nginx.txt") || die 1 "could not parse wrk output for nginx"
  d=$(parse_wrk "$TMP/wrk-dzong.txt") || die 1 "could not parse wrk output for dzong"
  local n_rps n_p50 n_p99 n_bad n_sock d_rps d_p50 d_p99 d_bad d_sock
  read -r n_rps n_p50 n_p99 n_bad n_sock <<<"$n"
  read -r d_rps d_p50 d_p99 d_bad d_sock <<<"$d"

  echo
  LC_ALL=C awk -v n_rps="$n_rps" -v n_p50="$n_p50" -v n_p99="$n_p99" \
    -v d_rps="$d_rps" -v d_p50="$d_p50" -v d_p99="$d_p99" -v target="$TARGET_RATIO" '
    BEGIN {
      printf "%-16s %10s %8s %8s\n", "target", "req/s", "p50_ms", "p99_ms"
      printf "%-16s %10.1f %8.2f %8.2f\n", "nginx static", n_rps, n_p50, n_p99
      printf "%-16s %10.1f %8.2f %8.2f\n", "dzong lookup", d_rps, d_p50, d_p99
      printf "ratio dzong/nginx req/s: %.2f (target >= %s)\n", d_rps / n_rps, target
    }'

  local failed=0
  ((n_bad == 0)) || { log "nginx: $n_bad non-2xx/3xx responses"; failed=1; }
  ((d_bad == 0)) || { log "dzong: $d_bad non-2xx/3xx responses"; failed=1; }
  ((d_sock == 0)) || { log "dzong: $d_sock socket errors"; failed=1; }
  ((n_sock == 0)) || log "warning: nginx had $n_sock socket errors; the reference may be low"
  ((failed == 0)) || die 1 "FAILED"

  if LC_ALL=C awk -v d="$d_rps" -v n="$n_rps" -v t="$TARGET_RATIO" 'BEGIN { exit !(n > 0 && d / n >= t) }'; then
    echo "PASS"
  else
    echo "BELOW TARGET"
    exit 3
  fi
}

# Sourcing the file (e.g. to test parse_wrk) defines the functions only.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
