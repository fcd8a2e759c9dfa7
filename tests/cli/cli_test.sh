#!/usr/bin/env bash
# The dzong command as an operator meets it: version, help, configuration
# errors (one line naming the key, exit 2), migrate, seed, and serve stopping
# cleanly on SIGTERM with exit code 0, on SQLite and, when
# TEST_POSTGRES_URL is set, on PostgreSQL.
set -uo pipefail
dzong=$(realpath "${1:?usage: cli_test.sh path/to/dzong}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The key-encryption key that seals the platform's signing keys.
export DZONG_KEY_ENCRYPTION_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
passed=0
failed=0
check() {  # check NAME COMMAND...: runs the command, counts the result
  local name=$1
  shift
  if "$@"; then
    echo "[       OK ] $name"
    passed=$((passed + 1))
  else
    echo "[  FAILED  ] $name"
    failed=$((failed + 1))
  fi
}

version() { [[ $("$dzong" --version) == "dzong "* ]]; }
help_lists_commands() {
  local out
  out=$("$dzong" --help) && [[ $out == *serve* && $out == *migrate* && $out == *seed* ]]
}
# config_error EXPECTED_KEY ENV...: exit 2, exactly one line on stderr naming the key, nothing on stdout.
config_error() {
  local key=$1
  shift
  local rc
  env "$@" "$dzong" migrate >"$work/out" 2>"$work/err"
  rc=$?
  [[ $rc -eq 2 ]] || { echo "exit $rc, expected 2"; return 1; }
  [[ $(wc -l <"$work/err") -eq 1 ]] || { cat "$work/err"; return 1; }
  grep -q -- "$key" "$work/err" || { cat "$work/err"; return 1; }
  [[ ! -s "$work/out" ]]
}
missing_config_file() {
  "$dzong" --config "$work/nope.toml" migrate 2>"$work/err"
  [[ $? -eq 2 ]] && grep -q "nope.toml" "$work/err"
}
bad_key_in_file() {
  printf '[server]\nlisten = "127.0.0.1:1"\nlisen = "x"\n' >"$work/bad.toml"
  "$dzong" --config "$work/bad.toml" migrate 2>"$work/err"
  [[ $? -eq 2 ]] && grep -q "server.lisen: unknown setting" "$work/err"
}

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 10000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

# serve_and_stop URL: migrate, seed, serve, read /readyz and an organisation, SIGTERM → exit 0.
serve_and_stop() {
  local url=$1 port pid rc
  port=$(free_port) || return 1
  export DZONG_DATABASE_URL=$url DZONG_LISTEN=127.0.0.1:$port DZONG_DATA_DIR=$work/var
  "$dzong" migrate >/dev/null && "$dzong" seed >/dev/null || return 1
  "$dzong" serve >"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$port/api/v1/organisations/DCRC" | grep -q '"exchange_id":"BT/GOV/DCRC"' || {
    kill "$pid"; return 1; }
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  unset DZONG_DATABASE_URL DZONG_LISTEN DZONG_DATA_DIR
  [[ $rc -eq 0 ]] || { echo "serve exited $rc"; tail -5 "$work/serve.log"; return 1; }
  grep -q '"event":"server.stopped"' "$work/serve.log"
}

# audit_verify: the seed's events verify, with a count and exit code 0.
audit_verify() {
  local url="sqlite://$work/audit/dzong.db" out
  DZONG_DATABASE_URL=$url DZONG_DATA_DIR=$work/audit "$dzong" seed >/dev/null || return 1
  out=$(DZONG_DATABASE_URL=$url DZONG_DATA_DIR=$work/audit "$dzong" audit verify) || { echo "$out"; return 1; }
  [[ $out == "audit log intact: "*" events (1 to "* ]] || { echo "$out"; return 1; }
}

# serve_needs_kek: without a key-encryption key the server will not start,
# and says which setting to set (exit 2).
serve_needs_kek() {
  local out rc
  out=$(env -u DZONG_KEY_ENCRYPTION_KEY DZONG_DATABASE_URL="sqlite://$work/nokek.db" DZONG_DATA_DIR=$work/nokek \
    DZONG_LISTEN=127.0.0.1:0 "$dzong" serve 2>&1)
  rc=$?
  [[ $rc -eq 2 && $out == *"DZONG_KEY_ENCRYPTION_KEY"* ]] || { echo "exit $rc: $out"; return 1; }
}

# audit_export_and_keys: checkpoints under two keys (one rotated out and
# retired), an export that verifies alone and against the saved keys, an
# edited export refused (exit 3), and an archive after which the log still verifies.
audit_export_and_keys() {
  local dir=$work/export out kid
  export DZONG_DATABASE_URL="sqlite://$dir/dzong.db" DZONG_DATA_DIR=$dir
  "$dzong" seed >/dev/null || return 1
  "$dzong" audit checkpoint >/dev/null || return 1
  kid=$("$dzong" keys list | awk '{print $1}')
  "$dzong" keys rotate >/dev/null || return 1
  "$dzong" seed --demo >/dev/null || return 1
  "$dzong" audit checkpoint >/dev/null || return 1
  "$dzong" keys retire "$kid" >/dev/null || return 1
  out=$("$dzong" audit verify) || { echo "$out"; return 1; }
  [[ $out == *"2 signed checkpoints verified"* ]] || { echo "$out"; return 1; }
  "$dzong" audit export --from 1 --to "$(date -u +%F)" -o "$dir/all.ndjson" 2>/dev/null || return 1
  out=$("$dzong" audit verify --file "$dir/all.ndjson") || { echo "$out"; return 1; }
  [[ $out == "export intact: "* ]] || { echo "$out"; return 1; }
  head -1 "$dir/all.ndjson" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["keys"]))' >"$dir/keys.json"
  "$dzong" audit verify --file "$dir/all.ndjson" --keys "$dir/keys.json" >/dev/null || return 1
  sed '5s/"seed"/"sEed"/' "$dir/all.ndjson" >"$dir/edited.ndjson"
  out=$("$dzong" audit verify --file "$dir/edited.ndjson")
  [[ $? -eq 3 && $out == *"BROKEN at event"*"edited"* ]] || { echo "$out"; return 1; }
  out=$("$dzong" audit archive --before "$(date -u -d tomorrow +%F)") || { echo "$out"; return 1; }
  [[ $out == "archived "* ]] || { echo "$out"; return 1; }
  "$dzong" seed >/dev/null || return 1
  out=$("$dzong" audit verify) || { echo "$out"; return 1; }
  unset DZONG_DATABASE_URL DZONG_DATA_DIR
  [[ $out == "audit log intact: "* ]] || { echo "$out"; return 1; }
}

# import_and_export: a CSV with one good and one bad row; the good row is
# committed, the bad one is in the reject file with its line, field and rule
# (exit 3); the export holds the good row.
import_and_export() {
  local dir=$work/import out rc
  export DZONG_DATABASE_URL="sqlite://$dir/dzong.db" DZONG_DATA_DIR=$dir
  mkdir -p "$dir"
  "$dzong" seed >/dev/null || return 1
  printf 'cid,given_name,date_of_birth,sex,dzongkhag,gewog,village,household_number,marital_status,status\n%s\n%s\n' \
    '10510000001,Dechen Wangmo,1990-07-07,female,Haa,Bji,Chiwog 2,05000001,single,alive' \
    '10510000002,Nima,1990-13-01,male,Haa,Bji,Chiwog 2,05000001,single,alive' >"$dir/people.csv"
  out=$("$dzong" import population "$dir/people.csv")
  rc=$?
  [[ $rc -eq 3 && $out == *"2 rows, 1 imported, 0 unchanged, 1 refused"* ]] || { echo "exit $rc: $out"; return 1; }
  grep -q '^3,date_of_birth,date,' "$dir/people.csv.rejects.csv" || { cat "$dir/people.csv.rejects.csv"; return 1; }
  out=$("$dzong" export population --format ndjson 2>/dev/null)
  unset DZONG_DATABASE_URL DZONG_DATA_DIR
  [[ $out == *'"given_name":"Dechen Wangmo"'* && $out != *Nima* ]] || { echo "$out"; return 1; }
}

# services_import_and_export: a definition goes out as JSON and back in as
# the next draft, then published; a broken one is refused with each problem
# named by path and rule (exit 1), and nothing of it is saved.
services_import_and_export() {
  local dir=$work/services out rc
  export DZONG_DATABASE_URL="sqlite://$dir/dzong.db" DZONG_DATA_DIR=$dir
  mkdir -p "$dir"
  "$dzong" seed >/dev/null || return 1
  "$dzong" services export census-transfer -o "$dir/census.json" 2>/dev/null || return 1
  grep -q '"owner": "DCRC"' "$dir/census.json" || { head "$dir/census.json"; return 1; }
  sed -i 's/"sla_working_days": 5/"sla_working_days": 6/' "$dir/census.json"
  out=$("$dzong" services import --publish "$dir/census.json")
  [[ $? -eq 0 && $out == *"published version 2 of census-transfer"* ]] || { echo "$out"; return 1; }
  sed 's/"category": "civil-registration"/"category": "astrology"/; s/"sla_working_days": 6/"sla_working_days": 0/' \
    "$dir/census.json" >"$dir/broken.json"
  out=$("$dzong" services import "$dir/broken.json" 2>&1)
  rc=$?
  [[ $rc -eq 1 && $out == *"category [enum]"* && $out == *"sla_working_days [minimum]"* ]] || { echo "exit $rc: $out"; return 1; }
  out=$("$dzong" services export census-transfer 2>&1)
  unset DZONG_DATABASE_URL DZONG_DATA_DIR
  [[ $out == *'"sla_working_days": 6'* && $out == *"version 2 (published)"* ]] || { echo "$out"; return 1; }
}

# exchange_client: an agency's developer makes a key file (mode 0600, never
# overwritten), registers the system, and `dzong exchange get` signs a read:
# without an agreement it is refused with its code (exit 3); the message log
# verifies.
exchange_client() {
  local dir=$work/exchange port pid out rc public id
  local token=exchange-test-operator-token-0123456789abcdef
  mkdir -p "$dir"
  port=$(free_port) || return 1
  export DZONG_DATABASE_URL="sqlite://$dir/dzong.db" DZONG_LISTEN=127.0.0.1:$port DZONG_DATA_DIR=$dir \
    DZONG_OPERATOR_TOKEN=$token
  "$dzong" seed --demo --population 20 >/dev/null || return 1
  public=$("$dzong" exchange keygen -o "$dir/system.key") || return 1
  [[ $(stat -c %a "$dir/system.key") == 600 ]] || { echo "key file mode $(stat -c %a "$dir/system.key")"; return 1; }
  if "$dzong" exchange keygen -o "$dir/system.key" 2>/dev/null; then echo "keygen overwrote a key file"; return 1; fi
  "$dzong" serve >"$dir/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
  done
  id=$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"kind\":\"system\",\"username\":\"BT/GOV/MOH/EPIS\",\"display_name\":\"Health information system\",\"organisation\":\"MOH\",\"public_key\":\"$public\"}" \
    "http://127.0.0.1:$port/api/v1/accounts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || {
    kill "$pid"; return 1; }
  curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"role":"exchange_client"}' "http://127.0.0.1:$port/api/v1/accounts/$id/grants" || { kill "$pid"; return 1; }
  out=$("$dzong" exchange get population 11410012345 --server "http://127.0.0.1:$port" --client BT/GOV/MOH/EPIS \
    --key-file "$dir/system.key" --purpose HEALTH-REG --issue MOH-2026-000001 2>&1)
  rc=$?
  kill -TERM "$pid"
  wait "$pid"
  [[ $rc -eq 3 && $out == *"exchange.no_agreement"* ]] || { echo "exit $rc: $out"; return 1; }
  out=$("$dzong" exchange verify-log) || { echo "$out"; return 1; }
  unset DZONG_DATABASE_URL DZONG_LISTEN DZONG_DATA_DIR DZONG_OPERATOR_TOKEN
  [[ $out == "message log intact: 0 messages" ]] || { echo "$out"; return 1; }
}

# crash_during_writes URL: SIGKILL the server while eight clients create
# organisations; after a restart every acknowledged (201) creation is there
# and the audit chain, which holds each creation's event, verifies.
crash_during_writes() {
  local url=$1 port pid run=$RANDOM dir=$work/crash-$RANDOM
  mkdir -p "$dir/acks"
  port=$(free_port) || return 1
  export DZONG_DATABASE_URL=$url DZONG_LISTEN=127.0.0.1:$port DZONG_DATA_DIR=$dir
  export DZONG_OPERATOR_TOKEN=crash-test-operator-token-0123456789abcdef
  "$dzong" seed >/dev/null || return 1
  "$dzong" serve >"$dir/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  local writers=()
  for w in $(seq 1 8); do
    (
      for i in $(seq 1 400); do
        code="CR-$run-$w-$i"
        status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/v1/organisations" \
          -H "Authorization: Bearer $DZONG_OPERATOR_TOKEN" -H 'Content-Type: application/json' \
          -d "{\"code\":\"$code\",\"name_en\":\"Crash test\",\"kind\":\"agency\"}" 2>/dev/null)
        [[ $status == 000 ]] && break  # the server is gone
        [[ $status == 201 ]] && echo "$code" >>"$dir/acks/$w"
      done
    ) &
    writers+=($!)
  done
  sleep 2
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  wait "${writers[@]}" 2>/dev/null
  local acked
  acked=$(cat "$dir"/acks/* 2>/dev/null | wc -l)
  "$dzong" serve >>"$dir/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  local missing=0
  for code in $(cat "$dir"/acks/* 2>/dev/null); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/organisations/$code") == 200 ]] ||
      missing=$((missing + 1))
  done
  kill -TERM "$pid"
  wait "$pid"
  local verify
  verify=$("$dzong" audit verify)
  unset DZONG_DATABASE_URL DZONG_LISTEN DZONG_DATA_DIR DZONG_OPERATOR_TOKEN
  echo "  $acked creations acknowledged before SIGKILL, $missing missing after restart; $verify"
  [[ $acked -gt 0 && $missing -eq 0 && $verify == "audit log intact: "* ]]
}

check "cli: --version" version
check "cli: --help lists the commands" help_lists_commands
check "cli: bad database URL names DZONG_DATABASE_URL, exit 2" config_error DZONG_DATABASE_URL DZONG_DATABASE_URL=mysql://db
check "cli: bad listen address names DZONG_LISTEN, exit 2" config_error DZONG_LISTEN DZONG_LISTEN=nowhere
check "cli: bad log level names DZONG_LOG_LEVEL, exit 2" config_error DZONG_LOG_LEVEL DZONG_LOG_LEVEL=shout
check "cli: missing settings file, exit 2" missing_config_file
check "cli: unknown key in settings file, exit 2" bad_key_in_file
check "cli: audit verify reports an intact log" audit_verify
check "cli: serve refuses to start without a key-encryption key, exit 2" serve_needs_kek
check "cli: audit export, keys rotate and retire, archive; each verifies, an edit is found" audit_export_and_keys
check "cli: import refuses bad rows into a reject file, commits the rest; export writes them back" import_and_export
check "cli: services export, then import --publish as version 2; a broken definition is refused by path and rule" services_import_and_export
check "cli: exchange keygen, and exchange get signs a read that is refused without an agreement (exit 3)" exchange_client
check "cli: serve on SQLite, SIGTERM exits 0" serve_and_stop "sqlite://$work/var/dzong.db"
check "crash: SIGKILL during writes on SQLite loses nothing acknowledged" crash_during_writes "sqlite://$work/crash.db"
if [[ -n "${TEST_POSTGRES_URL:-}" ]]; then
  check "cli: serve on PostgreSQL, SIGTERM exits 0" serve_and_stop "$TEST_POSTGRES_URL"
  check "crash: SIGKILL during writes on PostgreSQL loses nothing acknowledged" crash_during_writes "$TEST_POSTGRES_URL"
fi
echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
