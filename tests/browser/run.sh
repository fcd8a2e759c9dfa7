#!/usr/bin/env bash
# Runs the browser tests (tests/browser/*.test.mjs) with Node's test runner,
# one file at a time, against the built server and Debian's Chromium.
#
# Environment: DZONG_BIN (default build/release/src/dzong), TEST_POSTGRES_URL
# (run the server on that PostgreSQL database instead of SQLite),
# CHROMIUM_PATH (default /usr/bin/chromium). Screenshots go to
# test-artifacts/screenshots/. Extra arguments go to `node --test`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Playwright and axe-core from package-lock.json; installed when missing or stale.
if [[ ! -d node_modules/playwright-core || ! -d node_modules/axe-core ]] ||
  [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

# Never let Playwright fetch a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

status=0
node --test --test-concurrency=1 "$@" tests/browser/ || status=$?
exit "$status"
