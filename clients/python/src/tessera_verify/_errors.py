"""Typed errors and their HTTP answers (RFC 6750 §3), the same table as the Rust crate."""

from __future__ import annotations

import json

CHALLENGE_NO_CREDENTIALS = "Bearer"
CHALLENGE_INVALID_TOKEN = 'Bearer error="invalid_token"'
CHALLENGE_INVALID_REQUEST = 'Bearer error="invalid_request"'


class ConfigError(ValueError):
    """A verifier could not be built: the configuration is unsafe or incomplete."""


class VerifyError(Exception):
    """Why a request's token was not accepted.

    `kind` is one of the stable names shared with the Rust crate and the JavaScript package
    (conformance/README.md): ``missing``, ``invalid_request``, ``malformed``,
    ``bad_signature``, ``expired``, ``not_yet_valid``, ``issued_in_future``,
    ``wrong_issuer``, ``wrong_audience``, ``wrong_type``, ``unknown_key``,
    ``algorithm_not_allowed``, ``missing_claim``, ``invalid_claim``, ``revoked``,
    ``keys_unavailable``. `claim` names the claim for the two claim kinds. `detail` is for
    logs; it never contains the token. Clients get the generic :attr:`message`.

    ======================  =========  ==================================
    kind                    status     WWW-Authenticate
    ======================  =========  ==================================
    missing                 401        ``Bearer``
    invalid_request         400        ``Bearer error="invalid_request"``
    keys_unavailable        503        (none; ``Retry-After`` instead)
    everything else         401        ``Bearer error="invalid_token"``
    ======================  =========  ==================================
    """

    def __init__(self, kind: str, detail: str = "", *, claim: str | None = None, retry_after: int | None = None):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.claim = claim
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        if self.kind == "invalid_request":
            return 400
        if self.kind == "keys_unavailable":
            return 503
        return 401

    @property
    def www_authenticate(self) -> str | None:
        if self.kind == "missing":
            return CHALLENGE_NO_CREDENTIALS
        if self.kind == "invalid_request":
            return CHALLENGE_INVALID_REQUEST
        if self.kind == "keys_unavailable":
            return None
        return CHALLENGE_INVALID_TOKEN

    @property
    def code(self) -> str:
        return {
            "missing": "UNAUTHORIZED",
            "invalid_request": "INVALID_REQUEST",
            "keys_unavailable": "SERVICE_UNAVAILABLE",
        }.get(self.kind, "INVALID_TOKEN")

    @property
    def message(self) -> str:
        return {
            "missing": "Unauthorized",
            "invalid_request": "Invalid request",
            "keys_unavailable": "Service unavailable",
            "expired": "Token expired",
        }.get(self.kind, "Invalid token")

    @property
    def body(self) -> dict[str, str]:
        """The JSON body of the answer: ``{"message": ..., "code": ...}``."""
        return {"message": self.message, "code": self.code}

    @property
    def headers(self) -> dict[str, str]:
        """The headers of the answer (``WWW-Authenticate`` or ``Retry-After``)."""
        h: dict[str, str] = {}
        if self.www_authenticate:
            h["WWW-Authenticate"] = self.www_authenticate
        if self.retry_after is not None:
            h["Retry-After"] = str(self.retry_after)
        return h

    def json(self) -> str:
        return json.dumps(self.body, separators=(",", ":"))


class Forbidden(Exception):
    """The token is valid but its subject is not the route's ``{user_id}``: 403, with the
    same body whether or not that user exists."""

    status = 403
    code = "FORBIDDEN"
    message = "Forbidden"
    headers: dict[str, str] = {}

    @property
    def body(self) -> dict[str, str]:
        return {"message": self.message, "code": self.code}
