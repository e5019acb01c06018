"""FastAPI dependencies: ``current_user``, ``owner`` and ``require_mfa``.

    app = FastAPI()
    install(app, Verifier(...))

    @app.get("/api/{user_id}/tasks")
    def list_tasks(user: Claims = Depends(owner)): ...

Answers follow RFC 6750: no credentials → 401 ``WWW-Authenticate: Bearer``; a bad token →
401 ``Bearer error="invalid_token"``; keys never loaded → 503 with ``Retry-After``; another
user's ``{user_id}`` → 403 with the same body whether or not that user exists. Bodies are
``{"message": ..., "code": ...}`` as Tessera's. The dependencies are plain functions, so
FastAPI runs them in its thread pool: a JWKS fetch never blocks the event loop.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ._claims import Claims
from ._errors import Forbidden, VerifyError
from ._verifier import Verifier

__all__ = ["AuthError", "current_user", "install", "owner", "require_mfa"]

_STATE_KEY = "tessera_verifier"


class AuthError(HTTPException):
    """An authentication or authorisation failure with its exact answer; :func:`install`
    registers the handler that sends it as ``{"message", "code"}``. (Raised elsewhere without
    that handler, FastAPI still sends its status and headers, with ``{"detail": {...}}``.)"""

    def __init__(self, status: int, body: dict[str, str], headers: dict[str, str]):
        super().__init__(status_code=status, detail=body, headers=headers or None)
        self.body = body


def _answer(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    return JSONResponse(exc.body, status_code=exc.status_code, headers=exc.headers)


def install(app: FastAPI, verifier: Verifier) -> None:
    """Makes `verifier` the one the dependencies use and answers their errors in Tessera's shape."""
    setattr(app.state, _STATE_KEY, verifier)
    app.add_exception_handler(AuthError, _answer)


def _verifier(request: Request) -> Verifier:
    verifier: Any = getattr(request.app.state, _STATE_KEY, None)
    if not isinstance(verifier, Verifier):
        raise RuntimeError("call tessera_verify.fastapi.install(app, verifier) at startup")
    return verifier


def current_user(request: Request) -> Claims:
    """The verified caller's claims; 401 without a Bearer token or with an invalid one."""
    try:
        return _verifier(request).verify_authorization(request.headers.getlist("authorization"))
    except VerifyError as e:
        raise AuthError(e.status, e.body, e.headers) from None


def owner(user_id: str, claims: Claims = Depends(current_user)) -> Claims:
    """The caller, who must be the route's ``{user_id}``: 403 otherwise (same body whether or
    not that user exists)."""
    if claims.sub != user_id:
        raise AuthError(Forbidden.status, Forbidden().body, {})
    return claims


MFA_CHALLENGE = 'Bearer error="insufficient_user_authentication"'


def require_mfa(claims: Claims = Depends(current_user)) -> Claims:
    """The caller, who must have signed in with a second factor: the token's ``amr`` claim
    (RFC 8176) contains ``"mfa"``. Otherwise 401 with RFC 9470's
    ``insufficient_user_authentication`` challenge, so the client knows to step up.

    Tessera adds ``amr`` to its tokens with the two-factor feature; until then every token is
    refused here."""
    if "mfa" not in claims.amr:
        raise AuthError(
            401,
            {"message": "Two-factor authentication required", "code": "MFA_REQUIRED"},
            {"WWW-Authenticate": MFA_CHALLENGE},
        )
    return claims
