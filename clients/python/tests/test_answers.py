"""HTTP answers, the bearer rules, the FastAPI dependencies and the plain function."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from tessera_verify import Claims, ConfigError, Forbidden, Verifier, VerifyError, authenticate, bearer_token, check_owner
from tessera_verify.fastapi import current_user, install, owner, require_mfa

SECRET = "a-shared-secret-of-at-least-32-bytes!!"
ISS = "https://auth.test"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(**changes) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": ISS, "sub": "alice", "sid": "s1", "iat": now, "exp": now + 300, **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    signing_input = f"{b64(json.dumps({'alg': 'HS256'}).encode())}.{b64(json.dumps(claims).encode())}"
    sig = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


@pytest.fixture()
def verifier():
    return Verifier(issuer=ISS, audience=ISS, hs256_secret=SECRET)


@pytest.fixture()
def client(verifier):
    app = FastAPI()
    install(app, verifier)

    @app.get("/me")
    def me(claims: Claims = Depends(current_user)) -> dict:
        return {"sub": claims.sub}

    @app.get("/api/{user_id}/tasks")
    def tasks(claims: Claims = Depends(owner)) -> list:
        return ["secret task of " + claims.sub]

    @app.get("/sensitive")
    def sensitive(claims: Claims = Depends(require_mfa)) -> dict:
        return {"ok": True}

    return TestClient(app)


def test_bearer_rules():
    assert bearer_token("Bearer t") == "t"
    assert bearer_token("bearer t") == "t"
    for value, kind in [(None, "missing"), ([], "missing"), ("Basic dTpw", "missing"), ("t", "missing"),
                        ("Bearer", "malformed"), ("Bearer ", "malformed"), ("Bearer  t", "malformed"),
                        ("Bearer t x", "malformed"), (["Bearer a", "Bearer b"], "invalid_request")]:
        with pytest.raises(VerifyError) as e:
            bearer_token(value)
        assert e.value.kind == kind, value


def test_status_and_challenges_follow_rfc_6750():
    assert (VerifyError("missing").status, VerifyError("missing").www_authenticate) == (401, "Bearer")
    assert VerifyError("bad_signature").www_authenticate == 'Bearer error="invalid_token"'
    assert VerifyError("invalid_request").status == 400
    e = VerifyError("keys_unavailable", retry_after=30)
    assert (e.status, e.headers, e.body["code"]) == (503, {"Retry-After": "30"}, "SERVICE_UNAVAILABLE")
    assert VerifyError("expired").body == {"message": "Token expired", "code": "INVALID_TOKEN"}


def test_configuration_errors():
    with pytest.raises(ConfigError):
        Verifier(issuer="", audience=ISS, hs256_secret=SECRET)
    with pytest.raises(ConfigError):
        Verifier(issuer=ISS, audience=[], hs256_secret=SECRET)
    with pytest.raises(ConfigError):
        Verifier(issuer=ISS, audience=ISS, hs256_secret="short")
    with pytest.raises(ConfigError):
        Verifier(issuer=ISS, audience=ISS, hs256_secret=SECRET, jwks_url="http://x/jwks")
    with pytest.raises(ConfigError):
        Verifier(issuer=ISS, audience=ISS)
    with pytest.raises(ConfigError):
        Verifier(issuer=ISS, audience=ISS, hs256_secret=SECRET, leeway=301)
    with pytest.raises(ConfigError):
        Verifier(issuer=ISS, audience=ISS, jwks_url="file:///etc/passwd")
    assert SECRET not in repr(Verifier(issuer=ISS, audience=ISS, hs256_secret=SECRET))


def test_fastapi_current_user(client):
    assert client.get("/me", headers={"authorization": f"Bearer {mint()}"}).json() == {"sub": "alice"}
    res = client.get("/me")
    assert (res.status_code, res.headers["www-authenticate"], res.json()) == (401, "Bearer", {"message": "Unauthorized", "code": "UNAUTHORIZED"})
    res = client.get("/me", headers={"authorization": f"Bearer {mint(iss='https://evil.test')}"})
    assert (res.status_code, res.headers["www-authenticate"]) == (401, 'Bearer error="invalid_token"')
    assert res.json() == {"message": "Invalid token", "code": "INVALID_TOKEN"}
    res = client.get("/me", headers=[("authorization", f"Bearer {mint()}"), ("authorization", f"Bearer {mint()}")])
    assert res.status_code == 400


def test_fastapi_owner_is_403_with_one_body(client):
    token = {"authorization": f"Bearer {mint()}"}
    assert client.get("/api/alice/tasks", headers=token).json() == ["secret task of alice"]
    a = client.get("/api/bob/tasks", headers=token)
    b = client.get("/api/no-such-user/tasks", headers=token)
    assert a.status_code == b.status_code == 403
    assert a.json() == b.json() == {"message": "Forbidden", "code": "FORBIDDEN"}
    assert "secret" not in a.text
    assert client.get("/api/alice/tasks").status_code == 401


def test_fastapi_require_mfa_reads_amr(client):
    res = client.get("/sensitive", headers={"authorization": f"Bearer {mint()}"})
    assert res.status_code == 401
    assert res.headers["www-authenticate"] == 'Bearer error="insufficient_user_authentication"'
    assert res.json()["code"] == "MFA_REQUIRED"
    ok = client.get("/sensitive", headers={"authorization": f"Bearer {mint(amr=['pwd', 'mfa'])}"})
    assert ok.status_code == 200


def test_dependencies_without_install_fail_loudly():
    app = FastAPI()

    @app.get("/me")
    def me(claims: Claims = Depends(current_user)) -> dict:
        return {}

    with pytest.raises(RuntimeError):
        TestClient(app).get("/me")


def test_the_plain_function_for_other_frameworks(verifier):
    assert authenticate(verifier, f"Bearer {mint()}").sub == "alice"
    with pytest.raises(VerifyError) as e:
        authenticate(verifier, None)
    assert (e.value.status, e.value.headers, e.value.body["code"]) == (401, {"WWW-Authenticate": "Bearer"}, "UNAUTHORIZED")
    claims = authenticate(verifier, f"Bearer {mint()}")
    assert check_owner(claims, "alice") is claims
    with pytest.raises(Forbidden):
        check_owner(claims, "bob")


def test_concurrent_unknown_kids_from_cold_start_share_one_fetch(stub):
    """Single-flight: many threads with unknown kids and no keys yet cause one JWKS fetch."""
    import threading as th

    stub.response = (200, b'{"keys": []}', {})
    verifier = Verifier(issuer=ISS, audience=ISS, jwks_url=f"{stub.url}/jwks", jwks_refresh_interval=0)
    header = b64(json.dumps({"alg": "EdDSA", "kid": "nope"}).encode())
    token = f"{header}.{b64(b'{}')}.{b64(b'x' * 64)}"
    kinds: list[str] = []

    def run() -> None:
        try:
            verifier.verify(token)
        except VerifyError as e:
            kinds.append(e.kind)

    threads = [th.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert kinds == ["keys_unavailable"] * 8
    assert stub.hits == 1


def test_a_jwks_server_that_never_answers_times_out():
    """The fetch is bounded by http_timeout; with no keys ever loaded, 503."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections (backlog) but never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/jwks"
        verifier = Verifier(issuer=ISS, audience=ISS, jwks_url=url, http_timeout=0.5, jwks_refresh_interval=0)
        started = time.monotonic()
        with pytest.raises(VerifyError) as e:
            verifier.verify(f"{b64(json.dumps({'alg': 'EdDSA', 'kid': 'k'}).encode())}.e30.AA")
        assert e.value.kind == "keys_unavailable" and e.value.status == 503
        assert time.monotonic() - started < 3
    finally:
        listener.close()
