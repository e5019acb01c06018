"""Verifying Tessera's access tokens in FastAPI.

Tessera signs short-lived JWTs: EdDSA (or ES256/RS256) with its keys published at
`/api/auth/jwks`, or HS256 with a secret shared with this backend. This module checks the
signature with the algorithm pinned by configuration (never taken from the token), then
`exp`, `iss` and `aud`, and turns the result into a `User` for route handlers:

    @app.get("/api/{user_id}/tasks")
    def list_tasks(user: User = Depends(owner)): ...
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt import PyJWKClient, PyJWKClientConnectionError

ASYMMETRIC = {"EdDSA", "ES256", "RS256"}
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


class ApiError(Exception):
    """An error answered as Tessera does: `{"message", "code"}` with a status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def unauthorized() -> ApiError:
    return ApiError(401, "UNAUTHORIZED", "Unauthorized", {"WWW-Authenticate": "Bearer"})


def invalid_token() -> ApiError:
    return ApiError(401, "INVALID_TOKEN", "Invalid token", {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Settings:
    """Where keys come from and which tokens to accept.

    JWKS mode (`jwks_url`): `algorithm` is EdDSA unless Tessera runs with another
    `--jwt-alg`. HS256 mode (`jwt_secret`): the same secret as Tessera's `--jwt-secret`.
    `issuer` and `audience` are Tessera's base-URL origin unless it sets others.
    """

    issuer: str
    audience: str
    jwks_url: str | None = None
    jwt_secret: str | None = None
    algorithm: str = "EdDSA"
    leeway_seconds: int = 30

    def __post_init__(self) -> None:
        if bool(self.jwks_url) == bool(self.jwt_secret):
            raise ValueError("set exactly one of TESSERA_JWKS_URL and TESSERA_JWT_SECRET")
        if self.jwt_secret and len(self.jwt_secret.encode()) < 32:
            raise ValueError("TESSERA_JWT_SECRET must be at least 32 bytes")
        if self.jwks_url and self.algorithm not in ASYMMETRIC:
            raise ValueError(f"TESSERA_JWT_ALG must be one of {sorted(ASYMMETRIC)} with a JWKS")

    @classmethod
    def from_env(cls) -> Settings:
        """TESSERA_JWKS_URL or TESSERA_JWT_SECRET; TESSERA_ISSUER (default: the JWKS URL's
        origin), TESSERA_AUDIENCE (default: the issuer), TESSERA_JWT_ALG (default EdDSA)."""
        jwks_url = os.environ.get("TESSERA_JWKS_URL") or None
        issuer = os.environ.get("TESSERA_ISSUER") or (_origin(jwks_url) if jwks_url else None)
        if not issuer:
            raise ValueError("set TESSERA_ISSUER (Tessera's base URL origin, e.g. http://127.0.0.1:8080)")
        return cls(
            issuer=issuer,
            audience=os.environ.get("TESSERA_AUDIENCE") or issuer,
            jwks_url=jwks_url,
            jwt_secret=os.environ.get("TESSERA_JWT_SECRET") or None,
            algorithm=os.environ.get("TESSERA_JWT_ALG", "EdDSA"),
        )


@dataclass(frozen=True)
class User:
    """The caller, from the token's claims."""

    id: str
    email: str | None
    name: str | None
    session_id: str | None


class TokenVerifier:
    """Checks a compact JWS; keys from a cached JWKS (refetched on an unknown `kid`) or the
    shared secret."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._jwks = (
            PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300, timeout=5) if settings.jwks_url else None
        )
        self._algorithms = [settings.algorithm] if self._jwks else ["HS256"]

    def verify(self, token: str) -> User:
        s = self.settings
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key if self._jwks else s.jwt_secret
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                issuer=s.issuer,
                audience=s.audience,
                leeway=s.leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except PyJWKClientConnectionError as e:
            # Tessera unreachable: not the caller's fault
            raise ApiError(503, "SERVICE_UNAVAILABLE", "Token keys are unavailable; try again") from e
        except jwt.PyJWTError as e:
            raise invalid_token() from e
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise invalid_token()
        return User(id=claims["sub"], email=claims.get("email"), name=claims.get("name"), session_id=claims.get("sid"))


_bearer = HTTPBearer(auto_error=False)


def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> User:
    """The verified caller: 401 without a Bearer token or with an invalid one."""
    if credentials is None:
        raise unauthorized()
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(credentials.credentials)


def owner(user_id: str, user: User = Depends(current_user)) -> User:
    """The caller, who must be the `{user_id}` of the route: 403 otherwise."""
    if user.id != user_id:
        raise ApiError(403, "FORBIDDEN", "Forbidden")
    return user
