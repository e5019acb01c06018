# Setup shared by the suites that need a browser, a Python venv or the Tessera binary
# (e2e/interop, e2e/nextjs, clients). Source it after `set -euo pipefail`; every function
# installs only what is missing, from Debian, PyPI, npm or cargo.
#
#   need_chromium                       Debian's Chromium at $CHROMIUM_PATH (apt as root)
#   need_node MAJOR [MINOR]             fail unless Node >= MAJOR.MINOR
#   need_venv DIR HASH PIP_ARGS...      a venv at DIR whose pip install matches HASH
#   need_tessera ROOT                   $TESSERA_BIN, built with cargo (debug) when unset

section() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }

need_chromium() {
  export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$CHROMIUM_PATH" ] && return 0
  section "installing chromium"
  if [ "$(id -u)" -ne 0 ]; then
    echo "no Chromium at $CHROMIUM_PATH; install it (apt-get install -y chromium) or set CHROMIUM_PATH" >&2
    return 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
}

need_node() {
  local major="$1" minor="${2:-0}"
  if ! node -e "const [a,b]=process.versions.node.split('.').map(Number); process.exit(a>$major||(a===$major&&b>=$minor)?0:1)"; then
    echo "Node >= $major.$minor is required (found $(node --version))" >&2
    return 1
  fi
}

need_venv() {
  local dir="$1" want="$2"
  shift 2
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  section "python venv ($dir)"
  rm -rf "$dir"
  if ! python3 -m venv "$dir"; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$dir"
    else
      echo "python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
      return 1
    fi
  fi
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  echo "$want" >"$dir/.requirements.sha256"
}

need_tessera() {
  local root="$1"
  if [ -z "${TESSERA_BIN:-}" ]; then
    section "cargo build -p tessera-cli"
    (cd "$root" && cargo build -p tessera-cli --locked)
    TESSERA_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/tessera"
    case "$TESSERA_BIN" in /*) ;; *) TESSERA_BIN="$root/$TESSERA_BIN" ;; esac
  fi
  if [ ! -x "$TESSERA_BIN" ]; then
    echo "TESSERA_BIN=$TESSERA_BIN is not an executable" >&2
    return 1
  fi
  export TESSERA_BIN
  echo "tessera under test: $TESSERA_BIN"
}
