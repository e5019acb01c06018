"""Fixtures: locally minted tokens (an Ed25519 key served as a JWKS on 127.0.0.1, or an
HS256 secret), and a real Tessera server for the end-to-end test."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPO = Path(__file__).resolve().parents[3]
ISSUER = "http://tessera.test:8080"
HS_SECRET = "a-shared-secret-of-at-least-32-bytes!!"
# The feed secret travels as an environment variable so that a server without the option
# (before the cursor protocol) still starts; the feed is then open and the secret unused.
REVOCATIONS_SECRET = "fastapi-example-revocations-secret-0123456789"
SERVER_ENV = {
    "TESSERA_SECRET": "fastapi-example-server-secret-0123456789abcdef",
    "TESSERA_REVOCATIONS_SECRET": REVOCATIONS_SECRET,
}


class Keys:
    """An Ed25519 signing key with its public JWK."""

    def __init__(self, kid: str):
        self.kid = kid
        self.private = Ed25519PrivateKey.generate()
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private.public_key()))
        self.jwk = {**jwk, "alg": "EdDSA", "kid": kid}

    def mint(self, claims: dict | None = None, *, headers: dict | None = None, **overrides) -> str:
        return jwt.encode(
            claims_for(**overrides) if claims is None else claims,
            self.private,
            algorithm="EdDSA",
            headers={"kid": self.kid, "typ": "at+jwt", **(headers or {})},
        )


def claims_for(sub: str = "user-1", **overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": ISSUER,
        "sub": sub,
        "iat": now,
        "exp": now + 900,
        "jti": "j1",
        "sid": "s1",
        "email": f"{sub}@example.com",
        "name": sub,
        "emailVerified": False,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys("key-1")


@pytest.fixture(scope="session")
def jwks_server(keys):
    """Serves {"keys": [<keys.jwk>]} at http://127.0.0.1:<port>/api/auth/jwks."""
    body = json.dumps({"keys": [keys.jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200 if self.path == "/api/auth/jwks" else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/auth/jwks"
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not up in {timeout}s:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def tessera_factory():
    """Starts real Tessera servers: make(*extra_args) -> base URL."""
    binary = os.environ.get("TESSERA_BIN") or str(
        Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target") / "debug" / "tessera"
    )
    if not Path(binary).exists():
        pytest.fail(f"no tessera binary at {binary}: build it (cargo build -p tessera-cli) or set TESSERA_BIN")
    procs: list[subprocess.Popen] = []
    tmp = tempfile.TemporaryDirectory(prefix="tessera-fastapi-")
    databases: dict[str, str] = {}

    def make(*args: str) -> str:
        port = free_port()
        log = Path(tmp.name) / f"tessera-{port}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [binary, "serve", "--bind", f"127.0.0.1:{port}", "--database-url", f"sqlite://{tmp.name}/{port}.db", *args],
                env={**os.environ, **SERVER_ENV},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", proc, log)
        databases[base] = f"sqlite://{tmp.name}/{port}.db"
        return base

    make.binary = binary  # type: ignore[attr-defined]
    make.databases = databases  # type: ignore[attr-defined]
    yield make
    for p in procs:
        stop(p)
    tmp.cleanup()
