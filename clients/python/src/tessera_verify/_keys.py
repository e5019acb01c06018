"""JWK documents and the prepared keys signatures are checked with.

Each key is bound to exactly one algorithm when it is loaded (the rules of the Rust crate,
crates/tessera-verify/src/keys.rs); a token's `alg` must equal it. The public-key checks are
PyJWT's algorithm objects over `cryptography`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from ._errors import ConfigError
from ._jws import b64decode

log = logging.getLogger("tessera_verify")

#: Minimum HS256 secret length: the hash output size (RFC 7518 §3.2, RFC 8725 §3.5).
MIN_HS256_SECRET = 32

_STRING_MEMBERS = ("kid", "alg", "use", "crv", "x", "y", "n", "e")


class VerifyingKey:
    """A key that verifies signatures with exactly one algorithm."""

    __slots__ = ("alg", "_verify")

    def __init__(self, alg: str, verify: Any):
        self.alg = alg
        self._verify = verify

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            return bool(self._verify(message, signature))
        except Exception:  # noqa: BLE001 - any failure of a signature check is "no"
            return False

    def __repr__(self) -> str:  # never print key material
        return f"VerifyingKey(alg={self.alg!r})"

    @classmethod
    def hs256(cls, secret: bytes) -> VerifyingKey:
        if len(secret) < MIN_HS256_SECRET:
            raise ConfigError(f"the HS256 secret must be at least {MIN_HS256_SECRET} bytes (got {len(secret)})")

        def verify(message: bytes, signature: bytes) -> bool:
            return hmac.compare_digest(hmac.new(secret, message, hashlib.sha256).digest(), signature)

        return cls("HS256", verify)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> VerifyingKey:
        """Prepares a public JWK, or raises ValueError saying why it cannot be used."""
        use, key_ops = jwk.get("use"), jwk.get("key_ops")
        if use is not None and use != "sig":
            raise ValueError("`use` is not `sig`")
        if key_ops is not None and "verify" not in key_ops:
            raise ValueError("`key_ops` lacks `verify`")
        kty, alg, crv = jwk.get("kty"), jwk.get("alg"), jwk.get("crv")
        if kty == "oct":
            raise ValueError("symmetric (`oct`) keys are never used from a key set")
        if kty == "OKP" and alg in ("EdDSA", None) and crv == "Ed25519":
            alg = "EdDSA"
        elif kty == "EC" and alg in ("ES256", None) and crv == "P-256":
            alg = "ES256"
        elif kty == "RSA" and alg == "RS256":
            pass
        elif kty == "RSA" and alg is None:
            raise ValueError("RSA key without `alg` (ambiguous: RS256 or PS256)")
        else:
            raise ValueError("unsupported kty/crv/alg combination")

        def member(name: str) -> bytes:
            value = jwk.get(name)
            if value is None:
                raise ValueError("a required key member is missing")
            data = b64decode(value)
            if data is None:
                raise ValueError("a key member is not base64url")
            return data

        public_jwk: dict[str, Any]
        if alg == "EdDSA":
            if len(member("x")) != 32:
                raise ValueError("Ed25519 `x` is not 32 bytes")
            public_jwk = {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]}
            algorithm: Any = OKPAlgorithm()
        elif alg == "ES256":
            if len(member("x")) != 32 or len(member("y")) != 32:
                raise ValueError("P-256 coordinates are not 32 bytes")
            public_jwk = {"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"]}
            algorithm = ECAlgorithm(ECAlgorithm.SHA256)
        else:
            n = member("n").lstrip(b"\0")
            member("e")
            if len(n) < 256:
                raise ValueError("RSA modulus shorter than 2048 bits")
            if len(n) > 1024:
                raise ValueError("RSA modulus longer than 8192 bits")
            public_jwk = {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}
            algorithm = RSAAlgorithm(RSAAlgorithm.SHA256)
        try:
            key = algorithm.from_jwk(json.dumps(public_jwk))
        except Exception as e:  # noqa: BLE001
            raise ValueError("public key rejected by the crypto library") from e
        return cls(alg, lambda message, signature: algorithm.verify(message, key, signature))


def _well_formed(entry: Any) -> bool:
    """The shape the Rust crate's `Jwk` deserializes: string members, `key_ops` a list of strings."""
    if not isinstance(entry, dict) or not isinstance(entry.get("kty"), str):
        return False
    for name in _STRING_MEMBERS:
        if entry.get(name) is not None and not isinstance(entry[name], str):
            return False
    ops = entry.get("key_ops")
    return ops is None or (isinstance(ops, list) and all(isinstance(o, str) for o in ops))


class KeySet(Mapping[str, VerifyingKey]):
    """Prepared keys by `kid`. Unusable entries are skipped (logged at debug level); with a
    `kid` twice, the first usable key wins."""

    def __init__(self, jwks: Mapping[str, Any]):
        entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(entries, list):
            raise ConfigError("invalid JWKS: not an object with a `keys` array")
        self._keys: dict[str, VerifyingKey] = {}
        for index, entry in enumerate(entries):
            if not _well_formed(entry):
                log.debug("skipping JWKS entry %d that is not a JWK", index)
                continue
            kid = entry.get("kid")
            if kid is None:
                log.debug("skipping JWK without `kid`")
                continue
            try:
                key = VerifyingKey.from_jwk(entry)
            except ValueError as e:
                log.debug("skipping unusable JWK %r: %s", kid, e)
                continue
            self._keys.setdefault(kid, key)

    @classmethod
    def from_json(cls, text: str | bytes) -> KeySet:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise ConfigError(f"invalid JWKS: {e}") from e
        return cls(doc)

    def __getitem__(self, kid: str) -> VerifyingKey:
        return self._keys[kid]

    def __iter__(self):  # type: ignore[override]
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeySet(kids={sorted(self._keys)!r})"
