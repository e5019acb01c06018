"""Starts Tessera servers for the PyJWT interop tests: a free port on 127.0.0.1, a
temporary SQLite database, TESSERA_SECRET set, and a bounded wait for /healthz."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SERVER_SECRET = "interop-server-secret-0123456789abcdef0123456789"
JWT_SECRET = "interop-hs256-shared-secret-0123456789abcdef"


def tessera_bin() -> str:
    if os.environ.get("TESSERA_BIN"):
        return os.environ["TESSERA_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR") or str(REPO / "target")
    return str(Path(target) / "debug" / "tessera")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    """A small JSON HTTP call: returns (status, headers, parsed body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            raw = res.read()
            return res.status, res.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, e.headers, json.loads(raw) if raw else None


@dataclass
class Tessera:
    base_url: str
    proc: subprocess.Popen
    workdir: tempfile.TemporaryDirectory
    log: Path

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/api/auth/jwks"

    def sign_up(self, name: str = "PyJWT") -> dict:
        """Signs up a fresh user; returns the sign-up body ({token, user})."""
        email = f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:12]}@example.com"
        status, _, body = http(
            "POST",
            f"{self.base_url}/api/auth/sign-up/email",
            {"name": name, "email": email, "password": "correct horse battery"},
            # Tessera, like Better Auth, checks Origin on sign-up when one is sent
            {"origin": self.base_url},
        )
        assert status == 200, body
        return body

    def access_token(self, session_token: str) -> str:
        status, _, body = http(
            "GET", f"{self.base_url}/api/auth/token", headers={"authorization": f"Bearer {session_token}"}
        )
        assert status == 200, body
        assert list(body) == ["token"]
        return body["token"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.workdir.cleanup()


def start_tessera(*args: str, timeout: float = 20.0) -> Tessera:
    binary = tessera_bin()
    if not Path(binary).exists():
        raise RuntimeError(f"no tessera binary at {binary}: build it or set TESSERA_BIN")
    workdir = tempfile.TemporaryDirectory(prefix="tessera-pyjwt-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(workdir.name) / "tessera.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [binary, "serve", "--bind", f"127.0.0.1:{port}", "--database-url", f"sqlite://{workdir.name}/t.db", *args],
            env={**os.environ, "TESSERA_SECRET": SERVER_SECRET},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Tessera(base, proc, workdir, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = log.read_text()
            server.stop()
            raise RuntimeError(f"tessera exited with {proc.returncode}:\n{text}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as res:
                if res.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.1)
    text = log.read_text()
    server.stop()
    raise RuntimeError(f"tessera not ready in {timeout}s:\n{text}")


@pytest.fixture(scope="module")
def tessera_factory():
    started: list[Tessera] = []

    def make(*args: str) -> Tessera:
        t = start_tessera(*args)
        started.append(t)
        return t

    yield make
    for t in started:
        t.stop()
