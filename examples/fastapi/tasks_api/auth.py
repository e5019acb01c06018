"""How this backend checks Tessera's access tokens: with the `tessera-verify` package.

Everything security-relevant lives in the package (clients/python): the algorithm pinned by
each key, `exp`/`nbf`/`iat`, `iss`, `aud`, the cached JWKS, the revocation feed, and the
FastAPI dependencies `current_user`, `owner` and `require_mfa`. This module only reads the
configuration from the environment and builds the verifier.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from tessera_verify import RevocationFeed, Verifier
from tessera_verify.fastapi import current_user, owner, require_mfa

__all__ = ["Settings", "build", "current_user", "owner", "require_mfa"]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Settings:
    """Where keys come from and which tokens to accept.

    JWKS mode (`jwks_url`, Tessera's default EdDSA keys — or ES256/RS256, the key says which)
    or HS256 mode (`jwt_secret`, the same secret as Tessera's `--jwt-secret`). `issuer` and
    `audience` are Tessera's base-URL origin unless it sets others. With `revocations_secret`
    (Tessera's `--revocations-secret`) the backend follows the revocation feed at
    `revocations_url` (default: `<issuer>/api/auth/revocations`), so signed-out sessions'
    tokens are refused within about `revocations_interval` seconds.
    """

    issuer: str
    audience: str
    jwks_url: str | None = None
    jwt_secret: str | None = None
    revocations_url: str | None = None
    revocations_secret: str | None = None
    revocations_interval: float = 1.0
    jwks_cooldown: float = 30.0

    def __post_init__(self) -> None:
        if bool(self.jwks_url) == bool(self.jwt_secret):
            raise ValueError("set exactly one of TESSERA_JWKS_URL and TESSERA_JWT_SECRET")
        if self.jwt_secret and len(self.jwt_secret.encode()) < 32:
            raise ValueError("TESSERA_JWT_SECRET must be at least 32 bytes")

    @classmethod
    def from_env(cls) -> Settings:
        """TESSERA_JWKS_URL or TESSERA_JWT_SECRET; TESSERA_ISSUER (default: the JWKS URL's
        origin), TESSERA_AUDIENCE (default: the issuer); TESSERA_REVOCATIONS_SECRET (and
        optionally TESSERA_REVOCATIONS_URL, TESSERA_REVOCATIONS_INTERVAL) to follow the feed;
        TESSERA_JWKS_COOLDOWN (seconds between refetches for unknown keys, default 30)."""
        env = os.environ
        jwks_url = env.get("TESSERA_JWKS_URL") or None
        issuer = env.get("TESSERA_ISSUER") or (_origin(jwks_url) if jwks_url else None)
        if not issuer:
            raise ValueError("set TESSERA_ISSUER (Tessera's base URL origin, e.g. http://127.0.0.1:8080)")
        return cls(
            issuer=issuer,
            audience=env.get("TESSERA_AUDIENCE") or issuer,
            jwks_url=jwks_url,
            jwt_secret=env.get("TESSERA_JWT_SECRET") or None,
            revocations_url=env.get("TESSERA_REVOCATIONS_URL") or None,
            revocations_secret=env.get("TESSERA_REVOCATIONS_SECRET") or None,
            revocations_interval=float(env.get("TESSERA_REVOCATIONS_INTERVAL") or 1.0),
            jwks_cooldown=float(env.get("TESSERA_JWKS_COOLDOWN") or 30.0),
        )


def build(settings: Settings) -> tuple[Verifier, RevocationFeed | None]:
    """The verifier (and the revocation feed it consults, if configured)."""
    feed = None
    if settings.revocations_secret:
        feed = RevocationFeed(
            settings.revocations_url or f"{settings.issuer}/api/auth/revocations",
            secret=settings.revocations_secret,
            interval=settings.revocations_interval,
        )
    verifier = Verifier(
        issuer=settings.issuer,
        audience=settings.audience,
        jwks_url=settings.jwks_url,
        hs256_secret=settings.jwt_secret,
        jwks_cooldown=settings.jwks_cooldown,
        revocation=feed,
    )
    return verifier, feed
