#!/usr/bin/env bash
# Runs the browser tests of the web UI.
#
#   e2e/browser/run.sh                 build target/debug/tessera, then run every test
#   e2e/browser/run.sh tests/x.test.js run some test files only
#
# Installs what it needs when missing: Debian's Chromium and psql (apt) and the npm packages (npm ci:
# playwright-core, which never downloads a browser; smtp-server and mailparser for the
# email tests' SMTP sink). Environment:
#   TESSERA_BIN     binary under test (default: target/debug/tessera, built here)
#   CHROMIUM_BIN    browser (default: /usr/bin/chromium)
#   CARGO_TARGET_DIR is honoured when building the default binary.
# Screenshots of every page land in e2e/artifacts/screenshots/ (not committed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

if [[ ! -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]]; then
  echo "== installing chromium (apt)"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  [[ "$(id -u)" -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

# psql makes and drops the PostgreSQL databases of passwordless.test.js
if ! command -v psql >/dev/null; then
  echo "== installing postgresql-client (apt)"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  [[ "$(id -u)" -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends postgresql-client >/dev/null
fi

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "== installing playwright-core, smtp-server, mailparser (npm)"
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi

if [[ -z "${TESSERA_BIN:-}" ]]; then
  echo "== building tessera (cargo build -p tessera-cli)"
  (cd "$root" && cargo build -p tessera-cli --locked --quiet)
  target_dir="${CARGO_TARGET_DIR:-target}"
  [[ "$target_dir" == /* ]] || target_dir="$root/$target_dir"
  export TESSERA_BIN="$target_dir/debug/tessera"
fi
echo "== browser tests against $TESSERA_BIN"

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  files=(tests/*.test.js)
fi
# One file at a time: each starts its own server and browser, and the machine has 2 cores.
exec node --test --test-concurrency=1 "${files[@]}"
