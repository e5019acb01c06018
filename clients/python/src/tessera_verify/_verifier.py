"""The verifier: one key source, the claim rules, and an optional revocation check."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, Union

from ._claims import Claims, Rules, validate
from ._errors import ConfigError, VerifyError
from ._jws import MAX_TOKEN_LEN, decode_part, malformed, parse_header, parse_object, split
from ._keys import KeySet, VerifyingKey
from ._remote import RemoteJwks

log = logging.getLogger("tessera_verify")

DEFAULT_LEEWAY = 30
MAX_LEEWAY = 300
DEFAULT_MAX_LIFETIME = 24 * 60 * 60
DEFAULT_JWKS_COOLDOWN = 30
DEFAULT_JWKS_REFRESH_INTERVAL = 5 * 60
DEFAULT_HTTP_TIMEOUT = 5.0
DEFAULT_JWKS_MAX_BYTES = 256 * 1024


class RevocationCheck(Protocol):
    def is_revoked(self, claims: Claims) -> bool: ...


Revocation = Union[RevocationCheck, Callable[[Claims], bool]]


class RevokedSessions:
    """A thread-safe set of revoked session ids (`sid` claims). Tokens without `sid` are
    never affected."""

    def __init__(self, sids: Iterable[str] = ()):
        self._ids = frozenset(sids)

    def add(self, sid: str) -> None:
        self._ids = self._ids | {sid}

    def replace_all(self, sids: Iterable[str]) -> None:
        self._ids = frozenset(sids)

    def __contains__(self, sid: object) -> bool:
        return sid in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def is_revoked(self, claims: Claims) -> bool:
        return claims.sid is not None and claims.sid in self._ids


def bearer_token(authorization: str | Sequence[str] | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1).

    Pass the header's value, or all its values when the framework keeps repeats. No header or
    another scheme → ``missing`` (401 ``Bearer``); several headers → ``invalid_request``
    (400); ``Bearer`` not followed by exactly one space and one token → ``malformed``."""
    if authorization is None:
        raise VerifyError("missing", "no bearer credentials")
    values = [authorization] if isinstance(authorization, str) else list(authorization)
    if not values:
        raise VerifyError("missing", "no bearer credentials")
    if len(values) > 1:
        raise VerifyError("invalid_request", "more than one Authorization header")
    value = values[0]
    scheme, sep, token = value.partition(" ")
    if scheme.lower() != "bearer":
        raise VerifyError("missing", "no bearer credentials")
    if not sep:
        raise malformed("empty bearer token")
    if len(token) > MAX_TOKEN_LEN:
        raise malformed("token too long")
    if not token or " " in token:
        raise malformed("bearer credentials are not one token")
    return token


class Verifier:
    """Verifies access tokens; thread-safe. Exactly one key source is required:

    * ``hs256_secret``: the secret shared with Tessera (``--jwt-secret``, at least 32 bytes);
    * ``jwks``: a fixed JWKS document (dict or JSON text);
    * ``jwks_url``: Tessera's ``/api/auth/jwks``, fetched and cached.

    ``issuer`` and ``audience`` (one or several) are required: Tessera's base-URL origin by
    default. ``revocation`` is a :class:`RevocationFeed`, a :class:`RevokedSessions`, or any
    callable taking the claims and returning ``True`` to refuse them.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | Sequence[str],
        hs256_secret: str | bytes | None = None,
        jwks: Mapping[str, Any] | str | None = None,
        jwks_url: str | None = None,
        leeway: int = DEFAULT_LEEWAY,
        max_lifetime: int = DEFAULT_MAX_LIFETIME,
        jwks_cooldown: float = DEFAULT_JWKS_COOLDOWN,
        jwks_refresh_interval: float = DEFAULT_JWKS_REFRESH_INTERVAL,
        http_timeout: float = DEFAULT_HTTP_TIMEOUT,
        jwks_max_bytes: int = DEFAULT_JWKS_MAX_BYTES,
        revocation: Revocation | None = None,
        clock: Callable[[], float] = time.time,
    ):
        audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        if not issuer:
            raise ConfigError("an issuer is required")
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise ConfigError("at least one non-empty audience is required")
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ConfigError(f"leeway must be between 0 and {MAX_LEEWAY} seconds")
        if max_lifetime < 1:
            raise ConfigError("max_lifetime must be at least one second")
        if http_timeout <= 0 or jwks_max_bytes <= 0 or jwks_cooldown < 0:
            raise ConfigError("http_timeout and jwks_max_bytes must be positive, jwks_cooldown not negative")
        sources = [s for s in (hs256_secret, jwks, jwks_url) if s is not None]
        if not sources:
            raise ConfigError("a key source is required (hs256_secret, jwks or jwks_url)")
        if len(sources) > 1:
            raise ConfigError("exactly one key source may be configured")
        self._single: VerifyingKey | None = None
        self._static: KeySet | None = None
        self._remote: RemoteJwks | None = None
        if hs256_secret is not None:
            secret = hs256_secret.encode() if isinstance(hs256_secret, str) else bytes(hs256_secret)
            self._single = VerifyingKey.hs256(secret)
        elif jwks is not None:
            self._static = KeySet.from_json(jwks) if isinstance(jwks, str) else KeySet(jwks)
            if not self._static:
                raise ConfigError("the JWKS contains no usable signing key")
        else:
            assert jwks_url is not None
            self._remote = RemoteJwks(
                jwks_url,
                cooldown=jwks_cooldown,
                refresh_interval=jwks_refresh_interval,
                timeout=http_timeout,
                max_bytes=jwks_max_bytes,
            )
        self._rules = Rules(issuer, audiences, int(leeway), int(max_lifetime))
        self._revocation = revocation
        self._clock = clock

    @property
    def issuer(self) -> str:
        return self._rules.issuer

    @property
    def audiences(self) -> tuple[str, ...]:
        return self._rules.audiences

    def __repr__(self) -> str:
        source = "hs256 (secret redacted)" if self._single else "static jwks" if self._static else "remote jwks"
        return f"Verifier(issuer={self.issuer!r}, audiences={self.audiences!r}, source={source!r})"

    def refresh_keys(self) -> int:
        """Fetches a remote JWKS now (e.g. at startup); raises ``keys_unavailable`` on failure."""
        if self._remote is not None:
            return self._remote.refresh()
        return 1 if self._single else len(self._static or ())

    def verify_authorization(self, authorization: str | Sequence[str] | None) -> Claims:
        """Reads the bearer token from the `Authorization` header value(s) and verifies it."""
        return self.verify(bearer_token(authorization))

    def verify(self, token: str) -> Claims:
        """Verifies a compact JWS access token and returns its claims, or raises
        :class:`VerifyError` saying which check failed.

        Steps (as the Rust crate): length bound → three base64url parts → header (strict JSON,
        `alg` allow-list, refuses jwk/jku/x5u/x5c/crit) → the key the configuration binds to
        `kid` (its algorithm must equal `alg`) → signature → claims → revocation."""
        try:
            return self._verify(token)
        except VerifyError as e:
            log.debug("token refused: %s", e)
            raise

    def _verify(self, token: str) -> Claims:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LEN:
            raise malformed("token too long")
        now = int(self._clock())
        parts = split(token)
        header = parse_header(decode_part(parts.header, "header is not base64url"))

        if self._single is not None:
            key = self._single  # one key; a kid in the token is ignored
        else:
            if header.kid is None:
                raise VerifyError("unknown_key", "a key set needs a kid")
            keys = self._static if self._static is not None else self._remote.key_set_for(header.kid)  # type: ignore[union-attr]
            found = keys.get(header.kid)
            if found is None:
                raise VerifyError("unknown_key", "unknown signing key")
            key = found
        # The key fixes the algorithm; the header must agree exactly (RFC 8725 §3.1).
        if key.alg != header.alg:
            raise VerifyError("algorithm_not_allowed", "alg is not the key's algorithm")
        signature = decode_part(parts.signature, "signature is not base64url")
        if not key.verify(parts.signing_input, signature):
            raise VerifyError("bad_signature", "bad signature")

        raw = parse_object(decode_part(parts.payload, "payload is not base64url"))
        if raw is None:
            raise malformed("payload is not a JSON object")
        claims = validate(raw, now, self._rules, header.kid, header.alg)
        if self._is_revoked(claims):
            raise VerifyError("revoked", "token revoked")
        return claims

    def _is_revoked(self, claims: Claims) -> bool:
        check = self._revocation
        if check is None:
            return False
        if hasattr(check, "is_revoked"):
            return bool(check.is_revoked(claims))
        return bool(check(claims))  # type: ignore[operator]


