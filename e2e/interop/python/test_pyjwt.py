"""2. Tessera's access tokens verify in PyJWT, the way a Python backend verifies them:
PyJWKClient(jwks_url) + jwt.decode with the algorithm, issuer and audience pinned, and
with the shared secret in HS256 mode."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from jwt import PyJWKClient

from conftest import JWT_SECRET, http

CLAIMS = ["amr", "aud", "auth_time", "email", "emailVerified", "exp", "iat", "iss", "jti", "name", "sid", "sub"]
REQUIRED = ["exp", "iat", "iss", "aud", "sub"]


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def change_one_payload_char(token: str, old: str, new: str) -> str:
    header, payload, sig = token.split(".")
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert old in claims
    forged = claims.replace(old, new, 1)
    return f"{header}.{b64url(forged.encode())}.{sig}"


@pytest.fixture(scope="module", params=["EdDSA", "ES256", "RS256"])
def asymmetric(request, tessera_factory):
    alg = request.param
    server = tessera_factory() if alg == "EdDSA" else tessera_factory("--jwt-alg", alg)
    signed_up = server.sign_up(f"PyJWT {alg}")
    token = server.access_token(signed_up["token"])
    return alg, server, signed_up["user"], token


def test_pyjwkclient_and_decode_with_issuer_and_audience(asymmetric):
    alg, server, user, token = asymmetric
    client = PyJWKClient(server.jwks_url, cache_keys=True, timeout=5)
    signing_key = client.get_signing_key_from_jwt(token)
    assert signing_key.key_id == jwt.get_unverified_header(token)["kid"]
    assert signing_key.algorithm_name == alg

    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=[alg],
        issuer=server.base_url,
        audience=server.base_url,
        options={"require": REQUIRED},
    )
    assert sorted(claims) == CLAIMS
    assert claims["sub"] == user["id"]
    assert claims["email"] == user["email"]
    assert claims["name"] == user["name"]
    assert claims["emailVerified"] is False
    assert claims["iss"] == claims["aud"] == server.base_url
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60

    header = jwt.get_unverified_header(token)
    assert sorted(header) == ["alg", "kid", "typ"]
    assert header["alg"] == alg
    assert header["typ"] == "at+jwt"


def test_jwks_document_shape(asymmetric):
    alg, server, _, token = asymmetric
    status, headers, body = http("GET", server.jwks_url)
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert list(body) == ["keys"]
    [key] = body["keys"]
    expected = {
        "EdDSA": ["alg", "crv", "kid", "kty", "x"],
        "ES256": ["alg", "crv", "kid", "kty", "x", "y"],
        "RS256": ["alg", "e", "kid", "kty", "n"],
    }[alg]
    assert sorted(key) == expected
    assert key["alg"] == alg
    assert key["kid"] == jwt.get_unverified_header(token)["kid"]
    # PyJWKSet reads the whole document too
    assert jwt.PyJWKSet.from_dict(body)[key["kid"]].algorithm_name == alg


def test_wrong_audience_issuer_algorithm_and_tampering_are_rejected(asymmetric):
    alg, server, user, token = asymmetric
    key = PyJWKClient(server.jwks_url).get_signing_key_from_jwt(token).key
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key, algorithms=[alg], issuer=server.base_url, audience="https://api.other.example")
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(token, key, algorithms=[alg], issuer="https://evil.example", audience=server.base_url)
    other = "ES256" if alg == "EdDSA" else "EdDSA"
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, key, algorithms=[other], issuer=server.base_url, audience=server.base_url)
    other_last = "1" if user["id"].endswith("0") else "0"
    forged = change_one_payload_char(token, f'"sub":"{user["id"]}"', f'"sub":"{user["id"][:-1]}{other_last}"')
    assert forged != token
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key, algorithms=[alg], issuer=server.base_url, audience=server.base_url)


@pytest.fixture(scope="module")
def hs256(tessera_factory):
    server = tessera_factory("--jwt-alg", "HS256", "--jwt-secret", JWT_SECRET)
    signed_up = server.sign_up("PyJWT HS256")
    return server, signed_up["user"], server.access_token(signed_up["token"])


def test_hs256_decodes_with_the_shared_secret(hs256):
    server, user, token = hs256
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "at+jwt"}
    claims = jwt.decode(
        token,
        JWT_SECRET,
        algorithms=["HS256"],
        issuer=server.base_url,
        audience=server.base_url,
        options={"require": REQUIRED},
    )
    assert sorted(claims) == CLAIMS
    assert claims["sub"] == user["id"]


def test_hs256_publishes_no_keys(hs256):
    server, _, _ = hs256
    status, _, body = http("GET", server.jwks_url)
    assert status == 200
    assert body == {"keys": []}


def test_hs256_wrong_secret_and_audience_are_rejected(hs256):
    server, _, token = hs256
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, JWT_SECRET + "-not", algorithms=["HS256"], issuer=server.base_url, audience=server.base_url)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, JWT_SECRET, algorithms=["HS256"], issuer=server.base_url, audience="https://api.other.example")
