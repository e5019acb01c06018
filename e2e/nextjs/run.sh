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
section() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }
export NEXT_TELEMETRY_DISABLED=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# --- Chromium (Debian's; nothing downloads a browser) -----------------------------------
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_PATH" ]; then
  section "installing chromium"
  if [ "$(id -u)" -ne 0 ]; then
    echo "no Chromium at $CHROMIUM_PATH; install it (apt-get install -y chromium) or set CHROMIUM_PATH" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

# --- Node packages: the example app and this suite ------------------------------------------
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)'; then
  echo "Node >= 20.9 is required by Next.js (found $(node --version))" >&2
  exit 1
fi
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
REQS=("$ROOT/examples/fastapi/requirements.txt")
want="$(cat "${REQS[@]}" "$ROOT"/clients/python/pyproject.toml "$ROOT"/clients/python/src/tessera_verify/*.py | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  section "python venv"
  if ! python3 -m venv .venv; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv .venv
    else
      echo "python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  pip_args=()
  for r in "${REQS[@]}"; do pip_args+=(-r "$r"); done
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${pip_args[@]}" "$ROOT/clients/python"
  echo "$want" >.venv/.requirements.sha256
fi

# --- the Tessera binary ----------------------------------------------------------------------
if [ -z "${TESSERA_BIN:-}" ]; then
  section "cargo build -p tessera-cli"
  (cd "$ROOT" && cargo build -p tessera-cli --locked)
  TESSERA_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/tessera"
  case "$TESSERA_BIN" in /*) ;; *) TESSERA_BIN="$ROOT/$TESSERA_BIN" ;; esac
fi
if [ ! -x "$TESSERA_BIN" ]; then
  echo "TESSERA_BIN=$TESSERA_BIN is not an executable" >&2
  exit 1
fi
export TESSERA_BIN
echo "tessera under test: $TESSERA_BIN"

# --- the journey -----------------------------------------------------------------------------
section "Next.js + Tessera + FastAPI in Chromium (next build, next start)"
status=0
timeout 600 node --test --test-concurrency=1 --test-timeout=480000 --test-reporter=spec test/ || status=$?
echo "screenshots and server logs: ${ROOT}/e2e/artifacts/nextjs/"
exit "$status"
