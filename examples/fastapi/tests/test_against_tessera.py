"""End to end: a real Tessera server issues the tokens, the FastAPI app accepts them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tasks_api.auth import Settings
from tasks_api.main import create_app

from conftest import REVOCATIONS_SECRET, SERVER_ENV, free_port, stop, wait_for

HERE = Path(__file__).resolve().parents[1]
JWT_SECRET = "fastapi-example-hs256-secret-0123456789abcdef"


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.headers, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")


def sign_up_and_get_token(base: str, name: str) -> tuple[str, str]:
    """Signs up at Tessera over HTTP and fetches an access token: (user id, JWT)."""
    user, _, token = sign_up(base, name)
    return user, token


def sign_up(base: str, name: str) -> tuple[str, str, str]:
    """(user id, session token, access token)."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:12]}@example.com"
    status, _, body = call(
        "POST",
        f"{base}/api/auth/sign-up/email",
        {"name": name, "email": email, "password": "correct horse battery"},
        {"origin": base},
    )
    assert status == 200, body
    return body["user"]["id"], body["token"], access_token(base, body["token"])


def access_token(base: str, session: str) -> str:
    status, _, token = call("GET", f"{base}/api/auth/token", headers={"authorization": f"Bearer {session}"})
    assert status == 200, token
    return token["token"]


def kid_of(token: str) -> str:
    import base64

    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def wait_until(predicate, timeout: float, step: float = 0.05) -> float:
    """Seconds until `predicate()` held; fails after `timeout`."""
    import time

    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(step)
    return time.monotonic() - start


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def eddsa_tessera(tessera_factory):
    return tessera_factory()


def test_tessera_eddsa_tokens_are_accepted_and_scoped(eddsa_tessera):
    base = eddsa_tessera
    alice, alice_jwt = sign_up_and_get_token(base, "Alice")
    bob, bob_jwt = sign_up_and_get_token(base, "Bob")
    client = TestClient(create_app(Settings(issuer=base, audience=base, jwks_url=f"{base}/api/auth/jwks")))

    assert client.get(f"/api/{alice}/tasks", headers=bearer(alice_jwt)).json() == []
    created = client.post(f"/api/{alice}/tasks", headers=bearer(alice_jwt), json={"title": "from Tessera"})
    assert created.status_code == 201
    assert created.json()["userId"] == alice
    assert [t["title"] for t in client.get(f"/api/{alice}/tasks", headers=bearer(alice_jwt)).json()] == ["from Tessera"]

    denied = client.get(f"/api/{alice}/tasks", headers=bearer(bob_jwt))
    assert denied.status_code == 403
    assert client.get(f"/api/{bob}/tasks", headers=bearer(bob_jwt)).json() == []

    h, p, s = alice_jwt.split(".")
    tampered = f"{h}.{p[:10]}{'A' if p[10] != 'A' else 'B'}{p[11:]}.{s}"
    res = client.get(f"/api/{alice}/tasks", headers=bearer(tampered))
    assert res.status_code == 401
    assert res.headers["www-authenticate"] == 'Bearer error="invalid_token"'

    # a backend configured for another audience refuses Tessera's tokens
    other = TestClient(create_app(Settings(issuer=base, audience="https://api.other.example", jwks_url=f"{base}/api/auth/jwks")))
    assert other.get(f"/api/{alice}/tasks", headers=bearer(alice_jwt)).status_code == 401


def test_tessera_hs256_tokens_are_accepted_with_the_shared_secret(tessera_factory):
    base = tessera_factory("--jwt-alg", "HS256", "--jwt-secret", JWT_SECRET)
    user, token = sign_up_and_get_token(base, "Carol")
    client = TestClient(create_app(Settings(issuer=base, audience=base, jwt_secret=JWT_SECRET)))
    assert client.get(f"/api/{user}/tasks", headers=bearer(token)).status_code == 200
    wrong = TestClient(create_app(Settings(issuer=base, audience=base, jwt_secret=JWT_SECRET + "x")))
    assert wrong.get(f"/api/{user}/tasks", headers=bearer(token)).status_code == 401


def test_uvicorn_as_the_readme_says(eddsa_tessera, tmp_path):
    """`uvicorn tasks_api.main:create_app --factory` configured only by environment."""
    base = eddsa_tessera
    user, token = sign_up_and_get_token(base, "Dave")
    port = free_port()
    log = tmp_path / "uvicorn.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env["TESSERA_JWKS_URL"] = f"{base}/api/auth/jwks"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tasks_api.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)],
            cwd=HERE,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        api = f"http://127.0.0.1:{port}"
        wait_for(f"{api}/docs", proc, log)
        status, _, body = call("POST", f"{api}/api/{user}/tasks", {"title": "over real HTTP"}, bearer(token))
        assert status == 201, body
        status, _, body = call("GET", f"{api}/api/{user}/tasks", headers=bearer(token))
        assert status == 200
        assert [t["title"] for t in body] == ["over real HTTP"]
        status, headers, body = call("GET", f"{api}/api/{user}/tasks")
        assert status == 401
        assert headers["www-authenticate"] == "Bearer"
        assert body == {"message": "Unauthorized", "code": "UNAUTHORIZED"}
    finally:
        stop(proc)


def test_signed_out_sessions_are_refused_within_the_feed_interval(eddsa_tessera):
    """Sign out at Tessera: the backend, following the revocation feed, refuses the session's
    still-unexpired access token within about one polling interval (here 0.2 s)."""
    base = eddsa_tessera
    user, session, token = sign_up(base, "Erin")
    settings = Settings(issuer=base, audience=base, jwks_url=f"{base}/api/auth/jwks",
                        revocations_secret=REVOCATIONS_SECRET, revocations_interval=0.2)
    with TestClient(create_app(settings)) as client:
        assert client.app.state.revocation_feed.wait_ready(10), "the feed never answered"
        assert client.get(f"/api/{user}/tasks", headers=bearer(token)).status_code == 200
        status, _, body = call("POST", f"{base}/api/auth/sign-out", {}, {**bearer(session), "origin": base})
        assert status == 200, body

        def refused() -> bool:
            return client.get(f"/api/{user}/tasks", headers=bearer(token)).status_code == 401

        took = wait_until(refused, timeout=5)
        assert took < 3, f"refused only after {took:.1f} s"
        res = client.get(f"/api/{user}/tasks", headers=bearer(token))
        assert res.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_a_key_rotated_from_the_cli_is_picked_up_without_restart(tessera_factory):
    # a rotated key is published at once and signs after the activation delay (60 s by default)
    base = tessera_factory("--key-activation-delay", "2s")
    user, session, old = sign_up(base, "Frank")
    client = TestClient(create_app(Settings(issuer=base, audience=base, jwks_url=f"{base}/api/auth/jwks", jwks_cooldown=0.5)))
    assert client.get(f"/api/{user}/tasks", headers=bearer(old)).status_code == 200

    rotate = subprocess.run(
        [tessera_factory.binary, "keys", "rotate", "--database-url", tessera_factory.databases[base]],
        env={**os.environ, **SERVER_ENV}, capture_output=True, text=True, timeout=60,
    )
    assert rotate.returncode == 0, rotate.stderr
    # the running server reloads its keys (about once a second) and signs with the new one
    fresh: list[str] = []
    wait_until(lambda: kid_of(fresh.append(access_token(base, session)) or fresh[-1]) != kid_of(old), timeout=10, step=0.2)
    new = fresh[-1]
    # the backend meets an unknown kid, refetches the JWKS (after its cooldown) and accepts it
    wait_until(lambda: client.get(f"/api/{user}/tasks", headers=bearer(new)).status_code == 200, timeout=10, step=0.2)
    # tokens of the previous key keep working until they expire
    assert client.get(f"/api/{user}/tasks", headers=bearer(old)).status_code == 200
