"""The FastAPI app with locally minted tokens: what is accepted and what is refused."""

from __future__ import annotations

import time

import jwt
import pytest
from fastapi.testclient import TestClient

from tasks_api.auth import Settings
from tasks_api.main import create_app

from conftest import HS_SECRET, ISSUER, Keys, claims_for

TASK_KEYS = ["completed", "createdAt", "description", "id", "title", "updatedAt", "userId"]
INVALID = {"message": "Invalid token", "code": "INVALID_TOKEN"}


@pytest.fixture()
def client(jwks_server):
    return TestClient(create_app(Settings(issuer=ISSUER, audience=ISSUER, jwks_url=jwks_server)))


@pytest.fixture()
def hs_client():
    return TestClient(create_app(Settings(issuer=ISSUER, audience=ISSUER, jwt_secret=HS_SECRET)))


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def assert_invalid(res, message: str = "Invalid token") -> None:
    assert res.status_code == 401, res.text
    assert res.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert res.json() == {**INVALID, "message": message}


def test_valid_token_lists_and_creates_tasks(client, keys):
    token = keys.mint(sub="alice")
    res = client.get("/api/alice/tasks", headers=bearer(token))
    assert res.status_code == 200
    assert res.json() == []

    res = client.post("/api/alice/tasks", headers=bearer(token), json={"title": "write docs", "userId": "bob"})
    assert res.status_code == 201
    task = res.json()
    assert sorted(task) == TASK_KEYS
    assert task["userId"] == "alice"
    assert task["title"] == "write docs"
    assert task["description"] == ""
    assert task["completed"] is False

    assert client.get("/api/alice/tasks", headers=bearer(token)).json() == [task]
    # Bob's list is his own
    assert client.get("/api/bob/tasks", headers=bearer(keys.mint(sub="bob"))).json() == []


@pytest.mark.parametrize("headers", [{}, {"authorization": "Basic YTpi"}])
def test_missing_or_non_bearer_credentials_are_401_bearer(client, headers):
    res = client.get("/api/alice/tasks", headers=headers)
    assert res.status_code == 401
    assert res.headers["www-authenticate"] == "Bearer"
    assert res.json() == {"message": "Unauthorized", "code": "UNAUTHORIZED"}


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer  x", "Bearer a b"])
def test_a_bearer_header_without_exactly_one_token_is_invalid_token(client, value):
    # as the Rust crate: the Bearer scheme was used, so the credentials are malformed
    assert_invalid(client.get("/api/alice/tasks", headers={"authorization": value}))


def test_another_users_id_is_403(client, keys):
    token = keys.mint(sub="alice")
    for method in ("get", "post"):
        res = getattr(client, method)("/api/bob/tasks", headers=bearer(token), **({"json": {"title": "x"}} if method == "post" else {}))
        assert res.status_code == 403
        assert res.json() == {"message": "Forbidden", "code": "FORBIDDEN"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 120},
        {"aud": "https://someone-else.example"},
        {"iss": "https://evil.example"},
        {"sub": None},
        {"exp": None},
    ],
    ids=["expired", "wrong-aud", "wrong-iss", "no-sub", "no-exp"],
)
def test_bad_claims_are_401_invalid_token(client, keys, overrides):
    # as the Rust crate, the message says "expired" (and nothing more about any other check)
    message = "Token expired" if overrides.get("exp") else "Invalid token"
    assert_invalid(client.get("/api/user-1/tasks", headers=bearer(keys.mint(**overrides))), message)


def test_forged_and_confused_tokens_are_401(client, keys):
    # signed by another key that claims the same kid
    assert_invalid(client.get("/api/user-1/tasks", headers=bearer(Keys("key-1").mint())))
    # unknown kid (the JWKS is refetched, then the token refused)
    assert_invalid(client.get("/api/user-1/tasks", headers=bearer(Keys("key-2").mint())))
    # alg none
    none = jwt.encode(claims_for(), None, algorithm="none", headers={"kid": "key-1"})
    assert_invalid(client.get("/api/user-1/tasks", headers=bearer(none)))
    # HS256 in JWKS mode
    hs = jwt.encode(claims_for(), HS_SECRET, algorithm="HS256", headers={"kid": "key-1"})
    assert_invalid(client.get("/api/user-1/tasks", headers=bearer(hs)))
    # one payload character changed
    h, p, s = keys.mint().split(".")
    assert_invalid(client.get("/api/user-1/tasks", headers=bearer(f"{h}.{p[:-2]}{'A' if p[-2] != 'A' else 'B'}{p[-1]}.{s}")))
    # not a JWT at all
    assert_invalid(client.get("/api/user-1/tasks", headers=bearer("not-a-jwt")))


def test_unreachable_jwks_is_503_not_401(keys):
    from conftest import free_port

    app = create_app(Settings(issuer=ISSUER, audience=ISSUER, jwks_url=f"http://127.0.0.1:{free_port()}/jwks"))
    res = TestClient(app).get("/api/user-1/tasks", headers=bearer(keys.mint()))
    assert res.status_code == 503
    assert res.json()["code"] == "SERVICE_UNAVAILABLE"


def test_invalid_body_is_400_after_auth(client, keys):
    token = keys.mint(sub="alice")
    res = client.post("/api/alice/tasks", headers=bearer(token), json={"title": ""})
    assert res.status_code == 400
    assert res.json()["code"] == "VALIDATION_ERROR"
    # without a token the answer is 401, whatever the body
    assert client.post("/api/alice/tasks", json={"title": ""}).status_code == 401


def test_hs256_mode(hs_client, keys):
    token = jwt.encode(claims_for(sub="carol"), HS_SECRET, algorithm="HS256", headers={"typ": "at+jwt"})
    assert hs_client.get("/api/carol/tasks", headers=bearer(token)).status_code == 200
    wrong = jwt.encode(claims_for(sub="carol"), HS_SECRET + "-not", algorithm="HS256")
    assert_invalid(hs_client.get("/api/carol/tasks", headers=bearer(wrong)))
    # an EdDSA token means nothing to an HS256 backend
    assert_invalid(hs_client.get("/api/user-1/tasks", headers=bearer(keys.mint())))


def test_settings_refuse_ambiguous_or_weak_configuration():
    with pytest.raises(ValueError):
        Settings(issuer=ISSUER, audience=ISSUER)
    with pytest.raises(ValueError):
        Settings(issuer=ISSUER, audience=ISSUER, jwks_url="http://x/jwks", jwt_secret=HS_SECRET)
    with pytest.raises(ValueError):
        Settings(issuer=ISSUER, audience=ISSUER, jwt_secret="short")


def test_settings_from_env_default_issuer_to_the_jwks_origin(monkeypatch):
    monkeypatch.delenv("TESSERA_JWT_SECRET", raising=False)
    monkeypatch.delenv("TESSERA_ISSUER", raising=False)
    monkeypatch.delenv("TESSERA_AUDIENCE", raising=False)
    monkeypatch.delenv("TESSERA_REVOCATIONS_SECRET", raising=False)
    monkeypatch.setenv("TESSERA_JWKS_URL", "http://127.0.0.1:8080/api/auth/jwks")
    s = Settings.from_env()
    assert (s.issuer, s.audience, s.revocations_secret) == ("http://127.0.0.1:8080", "http://127.0.0.1:8080", None)
