#!/usr/bin/env bash
# End-to-end test of the whole system: the Next.js example (examples/nextjs, a production
# build), Tessera and the FastAPI example (examples/fastapi), each on a free port of
# 127.0.0.1, driven in Debian's Chromium through playwright-core.
#
#   e2e/nextjs/run.sh                          build tessera (cargo build -p tessera-cli) and run
#   TESSERA_BIN=/path/to/tessera e2e/nextjs/run.sh   use that binary, skip the build
#
# Installs what is missing: Debian's chromium (as root), node_modules in examples/nextjs and
# here (npm ci), and a venv at e2e/nextjs/.venv with the backend's pinned requirements and
# the tessera-verify package (clients/python).
# Screenshots of every step and the servers' output land in e2e/artifacts/nextjs/.
set -euo pipefail
cd "$(dirname "$0")"
HERE="$(pwd)"
ROOT="$(cd ../.. && pwd)"
export NEXT_TELEMETRY_DISABLED=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# shellcheck source=../lib/setup.sh
. "$ROOT/e2e/lib/setup.sh"

# --- Chromium (Debian's; nothing downloads a browser) -----------------------------------
need_chromium

# --- Node packages: the example app and this suite ------------------------------------------
need_node 20 9  # Next.js needs 20.9
# (the app installs a copy of clients/js: a change there needs a new install too)
stale() {
  local dir="$1" stamp="$1/node_modules/.package-lock.json"
  [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ] ||
    { [ "$dir" = "$ROOT/examples/nextjs" ] && [ -n "$(find "$ROOT/clients/js/package.json" "$ROOT/clients/js/src" -newer "$stamp" -print -quit)" ]; }
}
for dir in "$ROOT/examples/nextjs" "$HERE"; do
  if stale "$dir"; then
    section "npm ci (${dir#"$ROOT"/})"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# --- Python venv for the FastAPI backend (its requirements and tessera-verify from the tree) ---
want="$(cat "$ROOT/examples/fastapi/requirements.txt" "$ROOT"/clients/python/pyproject.toml "$ROOT"/clients/python/src/tessera_verify/*.py | sha256sum | cut -d' ' -f1)"
need_venv .venv "$want" -r "$ROOT/examples/fastapi/requirements.txt" "$ROOT/clients/python"

# --- the Tessera binary ----------------------------------------------------------------------
need_tessera "$ROOT"

# --- the journey -----------------------------------------------------------------------------
section "Next.js + Tessera + FastAPI in Chromium (next build, next start)"
status=0
timeout 600 node --test --test-concurrency=1 --test-timeout=480000 --test-reporter=spec test/ || status=$?
echo "screenshots and server logs: ${ROOT}/e2e/artifacts/nextjs/"
exit "$status"
