#!/usr/bin/env python3
"""Writes conformance/cases/*.json: the verification cases that the Rust crate, the Python
package and the JavaScript package all run (see conformance/README.md).

Deterministic: the keys live in conformance/keys.json (created on the first run, then
committed), Ed25519, HMAC and RSA PKCS#1 v1.5 signatures are deterministic, and ES256 uses
RFC 6979 deterministic signing. Running it again rewrites identical files:

    python3 conformance/generate.py          # needs `cryptography` (PyJWT[crypto] brings it)
    python3 conformance/generate.py --check  # exit 1 if a committed file would change
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
KEYS_FILE = HERE / "keys.json"

NOW = 1_800_000_000
ISS = "https://auth.test"
AUD = "https://api.test"
SECRET = "conformance-hs256-shared-secret-0123456789"
MAX_TOKEN_LEN = 8 * 1024


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


# --- keys ---------------------------------------------------------------------------------


def load_keys() -> dict:
    """Private keys as PEM, created once. Ed25519 keys come from fixed seeds anyway."""
    if KEYS_FILE.exists():
        return json.loads(KEYS_FILE.read_text())

    def pem(key) -> str:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    keys = {
        "note": "Test keys for conformance/generate.py only. Never use them anywhere else.",
        "es256": pem(ec.generate_private_key(ec.SECP256R1())),
        "rs256": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "rs1024": pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
    }
    KEYS_FILE.write_text(json.dumps(keys, indent=2) + "\n")
    return keys


def ed_key(label: str) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"tessera-conformance {label}".encode()).digest())


class Signer:
    """Signs with one key; `jwk` is its public JWK."""

    def __init__(self, kind: str, key, kid: str | None):
        self.kind, self.key, self.kid = kind, key, kid

    @property
    def jwk(self) -> dict:
        pub = self.key.public_key()
        if self.kind == "EdDSA":
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": self.kid, "x": b64(raw)}
        if self.kind == "ES256":
            n = pub.public_numbers()
            return {
                "kty": "EC",
                "crv": "P-256",
                "alg": "ES256",
                "kid": self.kid,
                "x": b64(n.x.to_bytes(32, "big")),
                "y": b64(n.y.to_bytes(32, "big")),
            }
        n = pub.public_numbers()
        return {
            "kty": "RSA",
            "alg": "RS256",
            "kid": self.kid,
            "n": b64(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
            "e": b64(n.e.to_bytes(3, "big")),
        }

    def sign(self, data: bytes) -> bytes:
        if self.kind == "EdDSA":
            return self.key.sign(data)
        if self.kind == "ES256":
            der = self.key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
            r, s = decode_dss_signature(der)
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def header(self, **extra) -> dict:
        h = {"alg": self.kind, "typ": "JWT"}
        if self.kid is not None:
            h["kid"] = self.kid
        h.update(extra)
        return {k: v for k, v in h.items() if v is not None}


def hs(secret: bytes):
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def token_bytes(header: bytes, payload: bytes, sign) -> str:
    signing_input = f"{b64(header)}.{b64(payload)}".encode()
    return f"{signing_input.decode()}.{b64(sign(signing_input))}"


def token(header: dict, claims: dict, sign) -> str:
    return token_bytes(compact(header), compact(claims), sign)


def claims(**changes) -> dict:
    """Valid claims at NOW; a None value removes the claim."""
    c = {
        "iss": ISS,
        "aud": AUD,
        "sub": "user-alice",
        "sid": "session-alice",
        "jti": "token-1",
        "iat": NOW - 60,
        "exp": NOW + 840,
        "email": "alice@example.com",
        "name": "Alice",
    }
    c.update(changes)
    return {k: v for k, v in c.items() if v is not None}


# --- the cases ------------------------------------------------------------------------------


def verifier(keys: dict, **extra) -> dict:
    v = {"issuer": ISS, "audiences": [AUD], "leeway_seconds": 30, "max_lifetime_seconds": 86400, "keys": keys}
    v.update(extra)
    return v


def ok(sub: str = "user-alice", sid: str | None = "session-alice") -> dict:
    return {"ok": True, "sub": sub, "sid": sid}


def err(kind: str, claim: str | None = None) -> dict:
    e = {"ok": False, "error": kind}
    if claim:
        e["claim"] = claim
    return e


def main() -> int:
    check = "--check" in sys.argv[1:]
    pems = load_keys()
    k1 = Signer("EdDSA", ed_key("k1"), "k1")
    k2 = Signer("EdDSA", ed_key("k2"), "k2")
    attacker = Signer("EdDSA", ed_key("attacker"), "k1")  # claims k1's kid
    es = Signer("ES256", serialization.load_pem_private_key(pems["es256"].encode(), None), "es1")
    rs = Signer("RS256", serialization.load_pem_private_key(pems["rs256"].encode(), None), "rs1")
    rs_small = Signer("RS256", serialization.load_pem_private_key(pems["rs1024"].encode(), None), "rs-small")

    jwks = {"keys": [k1.jwk, es.jwk, rs.jwk]}
    static = verifier({"jwks": jwks})
    secret = verifier({"hs256_secret": SECRET})
    hs_sign = hs(SECRET.encode())

    cases: list[dict] = []

    def case(name: str, description: str, v: dict, tok: str, expect: dict) -> None:
        cases.append({"name": name, "description": description, "now": NOW, "verifier": v,
                      "steps": [{"token": tok, "expect": expect}]})

    good = token(k1.header(), claims(), k1.sign)
    h_good, p_good, s_good = good.split(".")

    # -- accepted tokens
    case("valid-eddsa", "A well-formed EdDSA token from the key set is accepted.", static, good, ok())
    case("valid-es256", "ES256 key from the set (P-256, raw r||s signature).", static,
         token(es.header(), claims(), es.sign), ok())
    case("valid-rs256", "RS256 key from the set (2048-bit modulus).", static,
         token(rs.header(), claims(), rs.sign), ok())
    case("valid-hs256", "HS256 with the shared secret; no kid needed.", secret,
         token({"alg": "HS256", "typ": "JWT"}, claims(), hs_sign), ok())
    case("valid-hs256-kid-ignored", "With a shared secret, a kid in the header is ignored.", secret,
         token({"alg": "HS256", "kid": "whatever"}, claims(), hs_sign), ok())
    case("valid-no-typ", "No typ header (Better Auth sends none).", static,
         token({"alg": "EdDSA", "kid": "k1"}, claims(), k1.sign), ok())
    case("valid-typ-at-jwt", "typ at+jwt (RFC 9068) is an access token.", static,
         token(k1.header(typ="at+jwt"), claims(), k1.sign), ok())
    case("valid-aud-array", "aud as an array containing a configured audience.", static,
         token(k1.header(), claims(aud=["https://other.test", AUD]), k1.sign), ok())
    case("valid-second-audience", "Any configured audience is accepted.",
         verifier({"jwks": jwks}, audiences=["https://first.test", AUD]), good, ok())
    case("valid-no-sid", "sid is optional.", static, token(k1.header(), claims(sid=None), k1.sign), ok(sid=None))
    case("valid-no-iat", "iat is optional.", static, token(k1.header(), claims(iat=None), k1.sign), ok())
    case("valid-extra-claims", "Unknown claims (Better Auth copies the user row) are kept.", static,
         token(k1.header(), claims(emailVerified=True, role="admin", nested={"a": [1, {"b": None}]}), k1.sign), ok())

    # -- algorithms
    for spelling, label in [("none", "lower"), ("None", "capitalised"), ("NONE", "upper"), ("nOnE", "mixed")]:
        case(f"alg-none-{label}", f'alg "{spelling}" with an empty signature.', static,
             f"{b64(compact({'alg': spelling, 'kid': 'k1'}))}.{p_good}.", err("algorithm_not_allowed"))
    case("alg-none-keeping-signature", "alg none while keeping a real signature.", static,
         f"{b64(compact({'alg': 'none', 'kid': 'k1'}))}.{p_good}.{s_good}", err("algorithm_not_allowed"))
    case("alg-none-hs256-verifier", "alg none against a shared-secret verifier.", secret,
         f"{b64(compact({'alg': 'none'}))}.{p_good}.", err("algorithm_not_allowed"))
    for bad_alg in ["eddsa", "EdDSA ", "HS512", "ES512", "PS256", "RS512", ""]:
        case(f"alg-not-allowed-{bad_alg.strip().lower() or 'empty'}{'-space' if bad_alg.endswith(' ') else ''}",
             f'alg "{bad_alg}" is not one of HS256, EdDSA, ES256, RS256 (exact spelling).', static,
             token({"alg": bad_alg, "kid": "k1"}, claims(), k1.sign), err("algorithm_not_allowed"))
    case("alg-not-a-string", "alg must be a string.", static,
         token({"alg": ["EdDSA"], "kid": "k1"}, claims(), k1.sign), err("algorithm_not_allowed"))
    case("alg-missing", "A header without alg.", static, token({"kid": "k1"}, claims(), k1.sign), err("malformed"))

    public_pem = k1.key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    raw_public = k1.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    case("key-confusion-hs256-with-public-pem", "HS256 signed with the EdDSA key's public PEM, naming its kid.", static,
         token({"alg": "HS256", "kid": "k1"}, claims(), hs(public_pem)), err("algorithm_not_allowed"))
    case("key-confusion-hs256-with-raw-public-key", "HS256 signed with the raw Ed25519 public key.", static,
         token({"alg": "HS256", "kid": "k1"}, claims(), hs(raw_public)), err("algorithm_not_allowed"))
    case("key-confusion-hs256-with-jwk-text", "HS256 signed with the published JWK's text.", static,
         token({"alg": "HS256", "kid": "k1"}, claims(), hs(compact(k1.jwk))), err("algorithm_not_allowed"))
    case("key-confusion-rs256-kid-with-es256", "ES256 header naming the RS256 key (the key fixes the algorithm).",
         static, token({"alg": "ES256", "kid": "rs1"}, claims(), es.sign), err("algorithm_not_allowed"))
    case("key-confusion-eddsa-for-secret", "An EdDSA token against a shared-secret verifier.", secret, good,
         err("algorithm_not_allowed"))
    case("key-confusion-hs256-secret-in-jwks", "An oct key in a JWKS is never used, so HS256 tokens naming it fail.",
         verifier({"jwks": {"keys": [k1.jwk, {"kty": "oct", "kid": "sym", "alg": "HS256", "k": b64(SECRET.encode())}]}}),
         token({"alg": "HS256", "kid": "sym"}, claims(), hs_sign), err("unknown_key"))

    # -- signatures and keys
    case("hs256-wrong-secret", "HS256 signed with another secret.", secret,
         token({"alg": "HS256"}, claims(), hs(b"another-secret-of-at-least-32-bytes-xx")), err("bad_signature"))
    case("signed-by-another-key-same-kid", "Signed by an attacker's key that claims kid k1.", static,
         token(attacker.header(), claims(), attacker.sign), err("bad_signature"))
    tampered = token(k1.header(), claims(sub="user-mallory"), k1.sign).split(".")[1]
    case("payload-swapped", "A valid signature over another payload.", static, f"{h_good}.{tampered}.{s_good}",
         err("bad_signature"))
    case("signature-empty", "An empty signature part.", static, f"{h_good}.{p_good}.", err("bad_signature"))
    case("signature-truncated", "A signature missing its last bytes.", static,
         f"{h_good}.{p_good}.{b64(k1.sign(f'{h_good}.{p_good}'.encode())[:-3])}", err("bad_signature"))
    case("unknown-kid", "A kid the key set does not have.", static,
         token(k2.header(), claims(), k2.sign), err("unknown_key"))
    case("no-kid-with-key-set", "A key set needs the token to name its key.", static,
         token({"alg": "EdDSA"}, claims(), k1.sign), err("unknown_key"))
    case("kid-not-a-string", "kid must be a string.", static,
         token({"alg": "EdDSA", "kid": 1}, claims(), k1.sign), err("malformed"))
    case("kid-path-injection", "kid strings are only looked up, never used as paths or queries.", static,
         token({"alg": "EdDSA", "kid": "../../../../dev/null"}, claims(), k1.sign), err("unknown_key"))

    # JWK selection rules
    def jwks_case(name, description, keys, tok, expect):
        case(name, description, verifier({"jwks": {"keys": keys}}), tok, expect)

    t_k1 = good
    jwks_case("jwk-use-enc-skipped", 'A key whose "use" is not "sig" is skipped.', [{**k1.jwk, "use": "enc"}, es.jwk], t_k1, err("unknown_key"))
    jwks_case("jwk-key-ops-without-verify-skipped", 'A key whose key_ops lacks "verify" is skipped.',
              [{**k1.jwk, "key_ops": ["sign"]}, es.jwk], t_k1, err("unknown_key"))
    jwks_case("jwk-alg-inferred-for-ed25519", "An OKP Ed25519 key without alg is EdDSA.",
              [{k: v for k, v in k1.jwk.items() if k != "alg"}], t_k1, ok())
    jwks_case("jwk-wrong-alg-for-kty-skipped", "An OKP key declared ES256 is skipped.", [{**k1.jwk, "alg": "ES256"}, es.jwk],
              t_k1, err("unknown_key"))
    jwks_case("jwk-rsa-without-alg-skipped", "An RSA key without alg is ambiguous and skipped.",
              [{k: v for k, v in rs.jwk.items() if k != "alg"}, k1.jwk], token(rs.header(), claims(), rs.sign), err("unknown_key"))
    jwks_case("jwk-rsa-1024-skipped", "RSA moduli under 2048 bits are skipped.", [rs_small.jwk, k1.jwk],
              token(rs_small.header(), claims(), rs_small.sign), err("unknown_key"))
    jwks_case("jwk-duplicate-kid-first-wins", "With a kid twice, the first usable key wins.",
              [k1.jwk, {**k2.jwk, "kid": "k1"}], t_k1, ok())
    jwks_case("jwk-duplicate-kid-second-ignored", "With a kid twice, the second key is not used.",
              [k1.jwk, {**k2.jwk, "kid": "k1"}], token({**k2.header(), "kid": "k1"}, claims(), k2.sign), err("bad_signature"))

    # -- header members that are refused
    case("crit-header", "crit is refused (no extension is implemented).", static,
         token(k1.header(crit=["exp"], exp=NOW + 900), claims(), k1.sign), err("malformed"))
    case("crit-empty", "crit is refused in every form, even empty.", static,
         token(k1.header(crit=[]), claims(), k1.sign), err("malformed"))
    attacker_jwk = {k: v for k, v in attacker.jwk.items() if k != "kid"}
    case("embedded-jwk", "A jwk header with the attacker's key, signed by it.", static,
         token({"alg": "EdDSA", "kid": "k1", "jwk": attacker_jwk}, claims(), attacker.sign), err("malformed"))
    case("embedded-jwk-no-kid", "A jwk header and no kid.", static,
         token({"alg": "EdDSA", "jwk": attacker_jwk}, claims(), attacker.sign), err("malformed"))
    case("embedded-jwk-validly-signed", "A jwk header is refused even when the signature is by a configured key.",
         static, token(k1.header(jwk=k1.jwk), claims(), k1.sign), err("malformed"))
    case("jku-header", "jku is refused and never fetched.", static,
         token(k1.header(jku="http://127.0.0.1:9/jwks"), claims(), k1.sign), err("malformed"))
    case("x5u-header", "x5u is refused and never fetched.", static,
         token(k1.header(x5u="http://127.0.0.1:9/cert"), claims(), k1.sign), err("malformed"))
    case("x5c-header", "x5c is refused.", static, token(k1.header(x5c=["MIIB"]), claims(), k1.sign), err("malformed"))
    case("jwe-header", "enc marks a JWE.", static, token(k1.header(enc="A256GCM"), claims(), k1.sign), err("malformed"))
    case("zip-header", "zip marks a JWE.", static, token(k1.header(zip="DEF"), claims(), k1.sign), err("malformed"))
    case("typ-refresh", "typ naming another kind of token.", static,
         token(k1.header(typ="refresh+jwt"), claims(), k1.sign), err("wrong_type"))
    case("typ-not-a-string", "typ must be a string.", static, token(k1.header(typ=1), claims(), k1.sign), err("wrong_type"))

    # -- strict JSON
    dup_header = b'{"alg":"EdDSA","kid":"k1","alg":"EdDSA"}'
    case("duplicate-header-member", "A header member twice.", static, token_bytes(dup_header, compact(claims()), k1.sign),
         err("malformed"))
    dup_alg = b'{"alg":"none","kid":"k1","alg":"EdDSA"}'
    case("duplicate-header-alg-none-first", "alg twice, the last one valid (parsers that keep the last are fooled).",
         static, token_bytes(dup_alg, compact(claims()), k1.sign), err("malformed"))
    body = compact(claims())[:-1] + b',"sub":"user-bob"}'
    case("duplicate-claim", "sub twice in the payload.", static, token_bytes(compact(k1.header()), body, k1.sign),
         err("malformed"))
    nested = compact(claims())[:-1] + b',"profile":{"role":"user","role":"admin"}}'
    case("duplicate-nested-claim", "Duplicates are refused at every depth.", static,
         token_bytes(compact(k1.header()), nested, k1.sign), err("malformed"))
    in_array = compact(claims())[:-1] + b',"list":[{"a":1,"a":2}]}'
    case("duplicate-in-array", "Duplicates inside arrays too.", static,
         token_bytes(compact(k1.header()), in_array, k1.sign), err("malformed"))
    escaped = compact(claims())[:-1] + b',"s\\u0075b":"user-bob"}'
    case("duplicate-claim-escaped", "A duplicate written with an escape is still a duplicate.", static,
         token_bytes(compact(k1.header()), escaped, k1.sign), err("malformed"))
    case("payload-array", "The payload must be a JSON object.", static,
         token_bytes(compact(k1.header()), b"[1,2]", k1.sign), err("malformed"))
    case("payload-not-json", "The payload must be JSON.", static,
         token_bytes(compact(k1.header()), b"sub=user-alice", k1.sign), err("malformed"))
    case("payload-trailing-data", "Nothing may follow the JSON object.", static,
         token_bytes(compact(k1.header()), compact(claims()) + b" {}", k1.sign), err("malformed"))
    case("payload-bom", "A UTF-8 byte order mark is not JSON.", static,
         token_bytes(compact(k1.header()), b"\xef\xbb\xbf" + compact(claims()), k1.sign), err("malformed"))
    case("payload-not-utf8", "Invalid UTF-8 inside a string.", static,
         token_bytes(compact(k1.header()), compact(claims())[:-1] + b',"n":"\xff"}', k1.sign), err("malformed"))
    case("payload-nan", "NaN is not JSON.", static,
         token_bytes(compact(k1.header()), compact(claims())[:-1] + b',"x":NaN}', k1.sign), err("malformed"))
    case("payload-infinity", "Infinity is not JSON.", static,
         token_bytes(compact(k1.header()), compact(claims())[:-1] + b',"x":-Infinity}', k1.sign), err("malformed"))
    case("payload-single-quotes", "Single quotes are not JSON.", static,
         token_bytes(compact(k1.header()), b"{'sub':'user-alice'}", k1.sign), err("malformed"))
    case("header-not-json", "The header must be a JSON object.", static,
         token_bytes(b"EdDSA", compact(claims()), k1.sign), err("malformed"))

    # -- compact serialization
    case("not-three-parts", "Two parts.", static, f"{h_good}.{p_good}", err("malformed"))
    case("four-parts", "Four parts.", static, f"{good}.{s_good}", err("malformed"))
    case("empty-token", "The empty string.", static, "", err("malformed"))
    case("padding", "Base64 padding is not base64url.", static, f"{h_good}.{p_good}.{s_good}==", err("malformed"))
    case("standard-base64-alphabet", "+ and / are not base64url.", static,
         f"{h_good}.{p_good}.{s_good[:-2]}+/", err("malformed"))
    case("whitespace", "Whitespace inside the token.", static, f"{h_good}. {p_good}.{s_good}", err("malformed"))
    case("json-serialization", "The JWS JSON serialization is refused.", static,
         json.dumps({"protected": h_good, "payload": p_good, "signature": s_good}), err("malformed"))
    case("empty-header", "An empty header part.", static, f".{p_good}.{s_good}", err("malformed"))
    # a base64url part whose unused trailing bits are not zero decodes to the same bytes
    # in lenient decoders; it is refused (one token, one encoding)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(s_good) % 4 == 2, "an Ed25519 signature (64 bytes) leaves 4 unused bits"
    last = alphabet.index(s_good[-1])
    case("non-canonical-base64", "Non-zero unused bits in the last base64url character.", static,
         f"{h_good}.{p_good}.{s_good[:-1]}{alphabet[last | 1]}", err("malformed"))
    case("signature-length-mod-4-is-1", "A base64url part of impossible length.", static,
         f"{h_good}.{p_good}.{s_good}AAA", err("malformed"))

    # -- size
    def sized(total: int) -> str:
        for pad in range(total):
            t = token(k1.header(), claims(pad="x" * pad), k1.sign)
            if len(t) >= total:
                return t
        raise AssertionError

    at_limit = sized(MAX_TOKEN_LEN)
    assert len(at_limit) in (MAX_TOKEN_LEN, MAX_TOKEN_LEN + 1)
    if len(at_limit) == MAX_TOKEN_LEN:
        case("size-at-limit", "A token of exactly 8192 bytes is accepted.", static, at_limit, ok())
    over = sized(MAX_TOKEN_LEN + 1)
    case("oversized", "A validly signed token over 8192 bytes is refused before any work.", static, over,
         err("malformed"))
    case("oversized-garbage", "100 KiB of garbage.", static, "A" * 100_000, err("malformed"))

    # -- claims: time
    def claim_case(name, description, c, expect, v=static, header=None):
        case(name, description, v, token(header or k1.header(), c, k1.sign), expect)

    claim_case("expired", "exp 31 s ago (leeway 30 s).", claims(iat=NOW - 900, exp=NOW - 31), err("expired"))
    claim_case("expired-at-leeway-boundary", "now == exp + leeway is expired.", claims(iat=NOW - 900, exp=NOW - 30),
               err("expired"))
    claim_case("expired-within-leeway", "exp 29 s ago is within the leeway.", claims(iat=NOW - 900, exp=NOW - 29), ok())
    claim_case("expired-long-ago", "exp a day ago.", claims(iat=NOW - 87000, exp=NOW - 86400), err("expired"))
    claim_case("expired-zero-leeway", "With no leeway, now == exp is expired.", claims(iat=NOW - 900, exp=NOW),
               err("expired"), v=verifier({"jwks": jwks}, leeway_seconds=0))
    claim_case("nbf-future", "nbf 31 s ahead.", claims(nbf=NOW + 31), err("not_yet_valid"))
    claim_case("nbf-within-leeway", "nbf 30 s ahead is within the leeway.", claims(nbf=NOW + 30), ok())
    claim_case("nbf-past", "nbf in the past.", claims(nbf=NOW - 60), ok())
    claim_case("iat-future", "iat 31 s ahead.", claims(iat=NOW + 31, exp=NOW + 900), err("issued_in_future"))
    claim_case("iat-within-leeway", "iat 30 s ahead is within the leeway.", claims(iat=NOW + 30, exp=NOW + 900), ok())
    claim_case("lifetime-over-max", "exp - iat one second over the maximum lifetime.", claims(iat=NOW, exp=NOW + 86401),
               err("invalid_claim", "exp"))
    claim_case("lifetime-at-max", "exp - iat equal to the maximum lifetime.", claims(iat=NOW, exp=NOW + 86400), ok())
    claim_case("lifetime-over-max-without-iat", "Without iat, exp - now over max lifetime + leeway.",
               claims(iat=None, exp=NOW + 86400 + 31), err("invalid_claim", "exp"))
    claim_case("lifetime-custom-max", "A verifier with a 15-minute maximum refuses a 1-hour token.",
               claims(iat=NOW, exp=NOW + 3600), err("invalid_claim", "exp"),
               v=verifier({"jwks": jwks}, max_lifetime_seconds=900))
    claim_case("exp-missing", "exp is required.", claims(exp=None), err("missing_claim", "exp"))
    claim_case("exp-string", "exp as a string.", claims(exp=str(NOW + 840)), err("invalid_claim", "exp"))
    claim_case("exp-bool", "exp as a boolean.", claims(exp=True), err("invalid_claim", "exp"))
    claim_case("exp-null", "exp as null.", {**claims(), "exp": None}, err("invalid_claim", "exp"))
    claim_case("exp-negative", "exp negative.", claims(exp=-1), err("invalid_claim", "exp"))
    claim_case("nbf-string", "nbf as a string.", claims(nbf="0"), err("invalid_claim", "nbf"))
    claim_case("iat-array", "iat as an array.", claims(iat=[NOW]), err("invalid_claim", "iat"))
    for literal, label in [(b"1800000840.0", "float-literal"), (b"1.80000084e9", "exponent-literal"),
                           (b"1800000840.5", "fraction")]:
        body = compact(claims(exp=None))[:-1] + b',"exp":' + literal + b"}"
        case(f"exp-{label}", f"exp written as {literal.decode()}: NumericDate must be a JSON integer.", static,
             token_bytes(compact(k1.header()), body, k1.sign), err("invalid_claim", "exp"))

    # -- claims: iss, aud, sub, sid
    claim_case("iss-wrong", "Another issuer.", claims(iss="https://evil.test"), err("wrong_issuer"))
    claim_case("iss-trailing-slash", "The issuer compares exactly.", claims(iss=ISS + "/"), err("wrong_issuer"))
    claim_case("iss-missing", "iss is required.", claims(iss=None), err("missing_claim", "iss"))
    claim_case("iss-not-a-string", "iss as an array.", claims(iss=[ISS]), err("wrong_issuer"))
    claim_case("aud-wrong", "Another audience.", claims(aud="https://other.test"), err("wrong_audience"))
    claim_case("aud-array-without-ours", "An audience list without ours.", claims(aud=["https://a.test", "https://b.test"]),
               err("wrong_audience"))
    claim_case("aud-missing", "aud is required.", claims(aud=None), err("missing_claim", "aud"))
    claim_case("aud-empty-array", "An empty audience list.", claims(aud=[]), err("wrong_audience"))
    claim_case("aud-array-with-non-string", "aud entries must be strings.", claims(aud=[AUD, 7]), err("invalid_claim", "aud"))
    claim_case("aud-number", "aud as a number.", claims(aud=7), err("invalid_claim", "aud"))
    claim_case("sub-missing", "sub is required.", claims(sub=None), err("missing_claim", "sub"))
    claim_case("sub-empty", "sub must not be empty.", claims(sub=""), err("invalid_claim", "sub"))
    claim_case("sub-number", "sub must be a string.", claims(sub=42), err("invalid_claim", "sub"))
    claim_case("sid-not-a-string", "sid feeds revocation, so a wrong type is refused.", claims(sid=["session-alice"]),
               err("invalid_claim", "sid"))
    claim_case("jti-not-a-string", "jti must be a string when present.", claims(jti=5), err("invalid_claim", "jti"))
    claim_case("email-not-a-string-is-ignored", "Informational claims of another type are ignored.", claims(email=5), ok())

    # -- revocation
    revoking = verifier({"jwks": jwks}, revoked_sessions=["session-alice", "session-other"])
    case("revoked-session", "A token whose sid is in the revoked set.", revoking, good, err("revoked"))
    case("revoked-other-session", "Another session's revocation does not affect this token.",
         verifier({"jwks": jwks}, revoked_sessions=["session-other"]), good, ok())
    case("revoked-hs256", "Revocation applies to shared-secret tokens too.",
         verifier({"hs256_secret": SECRET}, revoked_sessions=["session-alice"]),
         token({"alg": "HS256"}, claims(), hs_sign), err("revoked"))
    case("revoked-no-sid", "A token without sid is not affected by the revoked set.", revoking,
         token(k1.header(), claims(sid=None), k1.sign), ok(sid=None))
    case("revoked-after-other-checks", "An expired token of a revoked session is reported expired.", revoking,
         token(k1.header(), claims(iat=NOW - 900, exp=NOW - 60), k1.sign), err("expired"))

    # -- remote JWKS (a local server the test runs; `fetches` counts its requests so far)
    def remote(**extra) -> dict:
        return verifier({"remote_jwks": {"cooldown_seconds": extra.pop("cooldown", 0),
                                         "max_bytes": extra.pop("max_bytes", 262144)}}, **extra)

    def serve(keys_: list | None = None, status: int = 200, body: str | None = None, headers: dict | None = None) -> dict:
        r = {"status": status, "body": body if body is not None else json.dumps({"keys": keys_ or []})}
        if headers:
            r["headers"] = headers
        return r

    t1 = good
    t2 = token(k2.header(), claims(), k2.sign)
    t_unknown = token({**k2.header(), "kid": "k9"}, claims(), k2.sign)

    def remote_case(name, description, v, steps):
        cases.append({"name": name, "description": description, "now": NOW, "verifier": v, "steps": steps})

    remote_case("jwks-remote-fetched-once-and-cached", "The set is fetched on first use and then cached.", remote(), [
        {"jwks_response": serve([k1.jwk]), "token": t1, "expect": ok(), "fetches": 1},
        {"token": t1, "expect": ok(), "fetches": 1},
        {"token": token(k1.header(), claims(iss="https://evil.test"), k1.sign), "expect": err("wrong_issuer"), "fetches": 1},
    ])
    remote_case("jwks-rotation", "A new kid after rotation is found by one refetch; old tokens keep working.",
                remote(), [
        {"jwks_response": serve([k1.jwk]), "token": t1, "expect": ok(), "fetches": 1},
        {"jwks_response": serve([k2.jwk, k1.jwk]), "token": t2, "expect": ok(), "fetches": 2},
        {"token": t1, "expect": ok(), "fetches": 2},
        {"token": t2, "expect": ok(), "fetches": 2},
    ])
    remote_case("jwks-rotation-old-key-removed", "Once the old key is gone from the set, its tokens are unknown.",
                remote(), [
        {"jwks_response": serve([k1.jwk]), "token": t1, "expect": ok(), "fetches": 1},
        {"jwks_response": serve([k2.jwk]), "token": t2, "expect": ok(), "fetches": 2},
        {"token": t1, "expect": err("unknown_key"), "fetches": 3},
    ])
    remote_case("jwks-unknown-kid-cooldown", "Within the cooldown an unknown kid does not refetch "
                "(the first fetch counts); known kids never wait.", remote(cooldown=3600), [
        {"jwks_response": serve([k1.jwk]), "token": t1, "expect": ok(), "fetches": 1},
        {"jwks_response": serve([k1.jwk, k2.jwk]), "token": t2, "expect": err("unknown_key"), "fetches": 1},
        {"token": t_unknown, "expect": err("unknown_key"), "fetches": 1},
        {"token": t1, "expect": ok(), "fetches": 1},
    ])
    remote_case("jwks-outage-keeps-last-good", "A failed refetch keeps the last good keys.", remote(), [
        {"jwks_response": serve([k1.jwk]), "token": t1, "expect": ok(), "fetches": 1},
        {"jwks_response": serve(status=500, body="down"), "token": t2, "expect": err("unknown_key"), "fetches": 2},
        {"token": t1, "expect": ok(), "fetches": 2},
        {"jwks_response": serve(body="not json"), "token": t_unknown, "expect": err("unknown_key"), "fetches": 3},
        {"token": t1, "expect": ok(), "fetches": 3},
        {"jwks_response": serve([]), "token": t2, "expect": err("unknown_key"), "fetches": 4},
        {"token": t1, "expect": ok(), "fetches": 4},
        {"jwks_response": serve([k1.jwk, k2.jwk]), "token": t2, "expect": ok(), "fetches": 5},
    ])
    remote_case("jwks-never-fetched-fails-closed", "With no set ever loaded, every token is refused (503).", remote(), [
        {"jwks_response": serve(status=503, body="unavailable"), "token": t1, "expect": err("keys_unavailable"), "fetches": 1},
        {"token": t1, "expect": err("keys_unavailable"), "fetches": 2},
        {"jwks_response": serve([k1.jwk]), "token": t1, "expect": ok(), "fetches": 3},
    ])
    remote_case("jwks-never-fetched-cooldown", "Failing closed does not hammer the JWKS: one fetch per cooldown.",
                remote(cooldown=3600), [
        {"jwks_response": serve(status=500, body="down"), "token": t1, "expect": err("keys_unavailable"), "fetches": 1},
        {"jwks_response": serve([k1.jwk]), "token": t1, "expect": err("keys_unavailable"), "fetches": 1},
    ])
    remote_case("jwks-invalid-document", "A document that is not a JWKS is a failed fetch.", remote(), [
        {"jwks_response": serve(body='{"keys": "nope"}'), "token": t1, "expect": err("keys_unavailable"), "fetches": 1},
        {"jwks_response": serve(body="[]"), "token": t1, "expect": err("keys_unavailable"), "fetches": 2},
    ])
    remote_case("jwks-no-usable-key", "A set without a usable key is a failed fetch.", remote(), [
        {"jwks_response": serve([{"kty": "oct", "kid": "k1", "k": b64(SECRET.encode())}]), "token": t1,
         "expect": err("keys_unavailable"), "fetches": 1},
    ])
    big = json.dumps({"keys": [k1.jwk], "padding": "x" * 2000})
    remote_case("jwks-oversized", "A JWKS over the size limit is a failed fetch.", remote(max_bytes=1024), [
        {"jwks_response": serve(body=big), "token": t1, "expect": err("keys_unavailable"), "fetches": 1},
        {"jwks_response": serve([k1.jwk]), "token": t1, "expect": ok(), "fetches": 2},
    ])
    remote_case("jwks-redirect-not-followed", "Redirects are not followed.", remote(), [
        {"jwks_response": serve(status=302, body="", headers={"location": "/elsewhere"}), "token": t1,
         "expect": err("keys_unavailable"), "fetches": 1},
    ])
    remote_case("jwks-token-without-kid", "A remote set needs a kid; nothing is fetched for a token without one.",
                remote(), [
        {"jwks_response": serve([k1.jwk]), "token": token({"alg": "EdDSA"}, claims(), k1.sign),
         "expect": err("unknown_key"), "fetches": 0},
    ])
    remote_case("jwks-malformed-token-fetches-nothing", "Refused headers are refused before any fetch.", remote(), [
        {"jwks_response": serve([k1.jwk]), "token": token(k1.header(jku="http://127.0.0.1:9/x"), claims(), k1.sign),
         "expect": err("malformed"), "fetches": 0},
        {"token": f"{b64(compact({'alg': 'none', 'kid': 'k1'}))}.{p_good}.", "expect": err("algorithm_not_allowed"),
         "fetches": 0},
    ])

    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"

    wanted = {f"{c['name']}.json": json.dumps(c, indent=2, ensure_ascii=False) + "\n" for c in cases}
    CASES.mkdir(exist_ok=True)
    existing = {p.name for p in CASES.glob("*.json")}
    changed = [n for n, text in wanted.items() if not (CASES / n).exists() or (CASES / n).read_text() != text]
    stale = sorted(existing - set(wanted))
    if check:
        if changed or stale:
            print(f"conformance cases out of date: changed {changed}, stale {stale}", file=sys.stderr)
            return 1
        print(f"{len(wanted)} conformance cases up to date")
        return 0
    for n in stale:
        (CASES / n).unlink()
    for n, text in wanted.items():
        (CASES / n).write_text(text)
    print(f"wrote {len(wanted)} cases to {CASES.relative_to(HERE.parent)} ({len(changed)} changed, {len(stale)} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
