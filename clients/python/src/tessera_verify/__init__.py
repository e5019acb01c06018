"""Verify Tessera (and Better Auth) JWT access tokens in Python backends.

The same rules as the Rust crate `tessera-verify`: the algorithm is pinned by the key (never
taken from the token), `exp`/`nbf`/`iat` with a bounded leeway, `iss`, `aud`, a maximum
lifetime, `crit` and embedded-key headers refused, strict JSON, a cached remote JWKS, and the
revocation feed. See README.md; FastAPI dependencies are in :mod:`tessera_verify.fastapi`.

    verifier = Verifier(issuer="https://auth.example.com", audience="https://auth.example.com",
                        jwks_url="https://auth.example.com/api/auth/jwks")
    claims = verifier.verify_authorization(request.headers.get("authorization"))
"""

from ._claims import Claims
from ._errors import ConfigError, Forbidden, VerifyError
from ._feed import RevocationFeed
from ._jws import MAX_TOKEN_LEN
from ._verifier import (
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_JWKS_COOLDOWN,
    DEFAULT_JWKS_MAX_BYTES,
    DEFAULT_JWKS_REFRESH_INTERVAL,
    DEFAULT_LEEWAY,
    DEFAULT_MAX_LIFETIME,
    MAX_LEEWAY,
    RevocationCheck,
    RevokedSessions,
    Verifier,
    bearer_token,
)


def authenticate(verifier: Verifier, authorization: "str | list[str] | None") -> Claims:
    """The plain function for any framework (Starlette, Django, Flask, ...): the verified
    claims of a request, given its `Authorization` header value(s). On failure it raises
    :class:`VerifyError`, whose ``status``, ``headers`` and ``body`` are the answer to send."""
    return verifier.verify_authorization(authorization)


def check_owner(claims: Claims, user_id: str) -> Claims:
    """Raises :class:`Forbidden` (403, the same body whether or not that user exists) unless
    the token's subject is `user_id`."""
    if claims.sub != user_id:
        raise Forbidden()
    return claims


__all__ = [
    "Claims",
    "ConfigError",
    "DEFAULT_HTTP_TIMEOUT",
    "DEFAULT_JWKS_COOLDOWN",
    "DEFAULT_JWKS_MAX_BYTES",
    "DEFAULT_JWKS_REFRESH_INTERVAL",
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_LIFETIME",
    "Forbidden",
    "MAX_LEEWAY",
    "MAX_TOKEN_LEN",
    "RevocationCheck",
    "RevocationFeed",
    "RevokedSessions",
    "Verifier",
    "VerifyError",
    "authenticate",
    "bearer_token",
    "check_owner",
]
