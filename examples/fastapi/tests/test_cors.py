"""CORS for a browser frontend on another origin: only the listed origins, and the 401s the
frontend reacts to must be readable by it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tasks_api.auth import Settings
from tasks_api.main import cors_origins_from_env, create_app

from conftest import HS_SECRET, ISSUER

FRONTEND = "http://127.0.0.1:3000"


def make_client(origins: list[str] | None) -> TestClient:
    settings = Settings(issuer=ISSUER, audience=ISSUER, jwt_secret=HS_SECRET)
    return TestClient(create_app(settings, cors_origins=origins))


def preflight(client: TestClient, origin: str):
    return client.options(
        "/api/u1/tasks",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type",
        },
    )


def test_listed_origin_may_send_authorization_without_credentials():
    res = preflight(make_client([FRONTEND]), FRONTEND)
    assert res.status_code == 200
    assert res.headers["access-control-allow-origin"] == FRONTEND
    allowed = res.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in res.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in res.headers


def test_other_origins_get_no_cors_headers():
    client = make_client([FRONTEND])
    res = preflight(client, "http://127.0.0.1:4000")
    assert res.status_code == 400
    assert "access-control-allow-origin" not in res.headers
    res = client.get("/api/u1/tasks", headers={"origin": "http://127.0.0.1:4000"})
    assert "access-control-allow-origin" not in res.headers


def test_a_refused_token_is_readable_cross_origin():
    res = make_client([FRONTEND]).get(
        "/api/u1/tasks", headers={"origin": FRONTEND, "authorization": "Bearer not-a-jwt"}
    )
    assert res.status_code == 401
    assert res.headers["access-control-allow-origin"] == FRONTEND


def test_no_cors_unless_configured():
    res = preflight(make_client(None), FRONTEND)
    assert "access-control-allow-origin" not in res.headers


def test_origins_from_env(monkeypatch):
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", " http://127.0.0.1:3000/ , https://app.example.com ")
    assert cors_origins_from_env() == [FRONTEND, "https://app.example.com"]
    monkeypatch.delenv("CORS_ALLOW_ORIGINS")
    assert cors_origins_from_env() == []
