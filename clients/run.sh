#!/usr/bin/env bash
# The verification packages for Python and JavaScript, their conformance with the shared
# cases, and the FastAPI and Node example backends against a real Tessera binary.
#
#   clients/run.sh                                  build tessera (cargo, debug) and run all
#   TESSERA_BIN=/path/to/tessera clients/run.sh     use that binary, skip the build
#
# Installs what is missing: node_modules (npm ci, committed lock files) and a Python venv at
# clients/.venv (the local package plus the FastAPI example's pinned requirements). Every
# server it starts listens on 127.0.0.1; every wait is bounded. (The Rust crate runs the
# same conformance cases in `./scripts/test rust`.)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
# shellcheck source=../e2e/lib/setup.sh
. "$ROOT/e2e/lib/setup.sh"

need_node 20
for dir in clients/js examples/node-backend; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    section "npm ci ($dir)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

VENV=clients/.venv
need_venv "$VENV" "$(sha256sum <examples/fastapi/requirements.txt | cut -d' ' -f1)" -r examples/fastapi/requirements.txt
# the package under test, as a user installs it (one command), fresh every run
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall ./clients/python

need_tessera "$ROOT"

failed=()
section "conformance cases are what conformance/generate.py writes"
"$VENV/bin/python" conformance/generate.py --check || failed+=("conformance-data")

section "Python: tessera_verify (clients/python)"
(cd clients/python && timeout 300 "$ROOT/$VENV/bin/python" -m pytest -q) || failed+=("python")

section "JavaScript: @tessera/verify (clients/js)"
(cd clients/js && timeout 300 node --test --test-reporter=spec test/) || failed+=("js")

section "FastAPI example against Tessera (examples/fastapi)"
(cd examples/fastapi && timeout 300 "$ROOT/$VENV/bin/python" -m pytest -q) || failed+=("fastapi-example")

section "Node example against Tessera (examples/node-backend)"
(cd examples/node-backend && timeout 300 node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec test/) || failed+=("node-example")

if [ "${#failed[@]}" -ne 0 ]; then
  echo "client suites failed: ${failed[*]}" >&2
  exit 1
fi
