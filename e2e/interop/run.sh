#!/usr/bin/env bash
# Interoperability suites: the real Better Auth client and server, jose, PyJWT, the FastAPI
# example and Chromium, each against a real Tessera binary.
#
#   e2e/interop/run.sh                      build tessera (cargo, default target dir) and run all
#   TESSERA_BIN=/path/to/tessera e2e/interop/run.sh     use that binary, skip the build
#
# Installs what is missing: Debian's chromium (as root), node_modules (npm ci), and a Python
# venv at e2e/interop/.venv with the pinned requirements of e2e/interop/python and
# examples/fastapi. Every server it starts listens on 127.0.0.1; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")"
HERE="$(pwd)"
ROOT="$(cd ../.. && pwd)"
section() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }

# --- Chromium (never a downloaded browser: playwright-core drives Debian's) -------------
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_PATH" ]; then
  section "installing chromium"
  if [ "$(id -u)" -ne 0 ]; then
    echo "no Chromium at $CHROMIUM_PATH; install it (apt-get install -y chromium) or set CHROMIUM_PATH" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# --- Node packages ---------------------------------------------------------------------
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "Node >= 20 is required (found $(node --version))" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  section "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- Python venv -----------------------------------------------------------------------
REQS=(python/requirements.txt "$ROOT/examples/fastapi/requirements.txt")
# tessera-verify (clients/python) is installed from the tree: its sources are part of the hash
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
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "${REQS[0]}" -r "${REQS[1]}" "$ROOT/clients/python"
  echo "$want" >.venv/.requirements.sha256
fi

# --- the binary under test -------------------------------------------------------------
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

# --- the suites --------------------------------------------------------------------------
failed=()

section "Node: Better Auth client, Better Auth server → Tessera API, jose, Chromium"
timeout 300 node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec test/*.test.mjs \
  || failed+=("node")

section "Python: PyJWT (e2e/interop/python)"
(cd python && timeout 180 "$HERE/.venv/bin/python" -m pytest -q) || failed+=("pyjwt")

section "Python: FastAPI example (examples/fastapi)"
(cd "$ROOT/examples/fastapi" && timeout 180 "$HERE/.venv/bin/python" -m pytest -q) || failed+=("fastapi")

if [ "${#failed[@]}" -ne 0 ]; then
  echo "interop suites failed: ${failed[*]}" >&2
  exit 1
fi
