"""The shared conformance cases (conformance/cases/*.json), also run by the Rust crate and the
JavaScript package: same files, same outcomes."""

from __future__ import annotations

import json

import pytest

from tessera_verify import RevokedSessions, Verifier, VerifyError

from conftest import CASES, Stub

CASE_FILES = sorted(CASES.glob("*.json"))


def test_the_cases_are_there():
    assert len(CASE_FILES) >= 100


def build(case: dict, jwks_url: str | None) -> Verifier:
    v = case["verifier"]
    keys = v["keys"]
    kwargs: dict = {}
    if "hs256_secret" in keys:
        kwargs["hs256_secret"] = keys["hs256_secret"]
    elif "jwks" in keys:
        kwargs["jwks"] = keys["jwks"]
    else:
        remote = keys["remote_jwks"]
        kwargs.update(jwks_url=jwks_url, jwks_cooldown=remote["cooldown_seconds"], jwks_max_bytes=remote["max_bytes"],
                      jwks_refresh_interval=0, http_timeout=5)
    if "revoked_sessions" in v:
        kwargs["revocation"] = RevokedSessions(v["revoked_sessions"])
    return Verifier(
        issuer=v["issuer"],
        audience=v["audiences"],
        leeway=v["leeway_seconds"],
        max_lifetime=v["max_lifetime_seconds"],
        clock=lambda: case["now"],
        **kwargs,
    )


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case(path):
    case = json.loads(path.read_text())
    remote = "remote_jwks" in case["verifier"]["keys"]
    stub = Stub() if remote else None
    try:
        verifier = build(case, f"{stub.url}/jwks" if stub else None)
        for index, step in enumerate(case["steps"]):
            where = f"{case['name']} step {index}"
            if stub and "jwks_response" in step:
                r = step["jwks_response"]
                stub.response = (r["status"], r["body"].encode(), r.get("headers", {}))
            expect = step["expect"]
            try:
                claims = verifier.verify(step["token"])
            except VerifyError as e:
                assert not expect["ok"], f"{where}: refused as {e.kind} ({e.detail})"
                assert e.kind == expect["error"], f"{where}: refused as {e.kind} ({e.detail}), expected {expect['error']}"
                if "claim" in expect:
                    assert e.claim == expect["claim"], f"{where}: claim {e.claim}, expected {expect['claim']}"
            else:
                assert expect["ok"], f"{where}: accepted, expected {expect['error']}"
                assert (claims.sub, claims.sid) == (expect["sub"], expect["sid"]), where
            if stub and "fetches" in step:
                assert stub.hits == step["fetches"], f"{where}: {stub.hits} JWKS fetches, expected {step['fetches']}"
    finally:
        if stub:
            stub.close()
