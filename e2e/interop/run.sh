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
# shellcheck source=../lib/setup.sh
. "$ROOT/e2e/lib/setup.sh"

# Chromium (never a downloaded browser: playwright-core drives Debian's)
need_chromium

# Node packages
need_node 20
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  section "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Python venv: tessera-verify (clients/python) is installed from the tree, so its sources
# are part of the hash
REQS=(python/requirements.txt "$ROOT/examples/fastapi/requirements.txt")
want="$(cat "${REQS[@]}" "$ROOT"/clients/python/pyproject.toml "$ROOT"/clients/python/src/tessera_verify/*.py | sha256sum | cut -d' ' -f1)"
need_venv .venv "$want" -r "${REQS[0]}" -r "${REQS[1]}" "$ROOT/clients/python"

# the binary under test
need_tessera "$ROOT"

# --- the suites --------------------------------------------------------------------------
failed=()

section "Node: Better Auth client, Better Auth server → Tessera API, jose, Chromium"
timeout 900 node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec test/*.test.mjs \
  || failed+=("node")

section "Python: PyJWT (e2e/interop/python)"
(cd python && timeout 180 "$HERE/.venv/bin/python" -m pytest -q) || failed+=("pyjwt")

section "Python: FastAPI example (examples/fastapi)"
(cd "$ROOT/examples/fastapi" && timeout 180 "$HERE/.venv/bin/python" -m pytest -q) || failed+=("fastapi")

if [ "${#failed[@]}" -ne 0 ]; then
  echo "interop suites failed: ${failed[*]}" >&2
  exit 1
fi
