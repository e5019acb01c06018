#!/usr/bin/env bash
# Property-based tests of the tasks API against its own OpenAPI document (security checklist
# row B11): schemathesis generates requests from /api/openapi.json and checks that nothing is
# a server error, that auth is never ignored, that user B cannot read user A's objects, and
# that answers match the documented statuses, content types and schemas.
#
# Usage: e2e/schemathesis/run.sh            (builds target/debug/tessera)
#        TESSERA_BIN=path/to/tessera e2e/schemathesis/run.sh
# Env:   ST_MAX_TIME (seconds, default 60), ST_MAX_EXAMPLES (default 25), ST_SEED.
# Exits non-zero when schemathesis reports a failure. Runtime: about 60-90 s after the build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

# 1. schemathesis, pinned, in a local venv (gitignored)
if [[ ! -x "$venv/bin/st" ]] || ! cmp -s "$here/requirements.txt" "$venv/.requirements"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.requirements"
fi

# 2. the server binary
if [[ -z "${TESSERA_BIN:-}" ]]; then
  (cd "$root" && cargo build --quiet -p tessera-cli --locked)
  TESSERA_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/tessera"
fi

# 3. start it on a free port with a temporary SQLite database
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"
TESSERA_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')" \
  "$TESSERA_BIN" serve --bind "127.0.0.1:$port" --base-url "$base" \
  --database-url "sqlite://$work/tessera.db" --rate-limits off \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "tessera exited" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "$base/readyz" >/dev/null

# 4. two users; each one's access token (JWT) and id
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
sign_up() { # name -> "<user id> <access token>"
  local body token id
  body="$(curl -fsS -X POST "$base/api/auth/sign-up/email" -H 'content-type: application/json' \
    -d "{\"name\":\"$1\",\"email\":\"$1-$RANDOM@example.com\",\"password\":\"st-$RANDOM-correct-horse-battery\"}")"
  token="$(json "['token']" <<<"$body")"
  id="$(json "['user']['id']" <<<"$body")"
  echo "$id $(curl -fsS "$base/api/auth/token" -H "authorization: Bearer $token" | json "['token']")"
}
read -r a_id a_at < <(sign_up alice)
read -r _b_id b_at < <(sign_up bob)

# Both identities for ignored_auth and object_level_authorization (Web Fuzzing Commons auth
# file); the tasks paths are pinned to user A, so B's requests there must be refused.
cat >"$work/auth.json" <<JSON
{"auth": [
  {"name": "user-a", "fixedHeaders": [{"name": "Authorization", "value": "Bearer $a_at"}]},
  {"name": "user-b", "fixedHeaders": [{"name": "Authorization", "value": "Bearer $b_at"}]}
]}
JSON
cat >"$work/schemathesis.toml" <<TOML
[parameters]
"path.user_id" = "$a_id"

[auth.wfc]
path = "$work/auth.json"
peers = ["user-a", "user-b"]
TOML

# 5. the run: tasks API operations only, bounded in time
checks="not_a_server_error,ignored_auth,object_level_authorization,use_after_free,ensure_resource_availability,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection"
# (from the temp dir, so hypothesis' and schemathesis' working folders never land in the repo)
cd "$work"
set +e
"$venv/bin/st" --config-file "$work/schemathesis.toml" run "$base/api/openapi.json" \
  --include-tag tasks \
  --checks "$checks" \
  --max-examples "${ST_MAX_EXAMPLES:-25}" \
  --max-time "${ST_MAX_TIME:-60}" \
  --request-timeout 10 \
  --workers 2 \
  ${ST_SEED:+--seed "$ST_SEED"} \
  --report har --report-har-path "$work/run.har" \
  --no-color
status=$?
set -e
# What the server answered, per operation (shows the run got past authorization).
python3 - "$work/run.har" <<'PY' || true
import collections, json, re, sys
entries = json.load(open(sys.argv[1]))["log"]["entries"]
counts = collections.defaultdict(collections.Counter)
for e in entries:
    path = re.sub(r"^https?://[^/]+", "", e["request"]["url"]).split("?")[0]
    path = re.sub(r"^/api/[^/]+/tasks", "/api/{user_id}/tasks", path)
    path = re.sub(r"/tasks/[^/]+", "/tasks/{id}", path)
    counts[f'{e["request"]["method"]} {path}'][e["response"]["status"]] += 1
print(f"--- {len(entries)} requests; statuses per operation:")
for op in sorted(counts):
    print(f"  {op:45} " + " ".join(f"{s}x{n}" for s, n in sorted(counts[op].items())))
PY
if [[ $status -ne 0 ]]; then
  echo "--- server log (last 40 lines)" >&2
  tail -n 40 "$work/server.log" >&2
fi
exit $status
