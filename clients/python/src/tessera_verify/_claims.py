"""The verified claims and the rules they are checked against (crates/tessera-verify/src/claims.rs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._errors import VerifyError

_I64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Claims:
    """The claims of a verified token. Every claim is also in `raw`."""

    sub: str
    exp: int
    iss: str
    aud: tuple[str, ...]
    alg: str
    sid: str | None = None
    jti: str | None = None
    email: str | None = None
    name: str | None = None
    iat: int | None = None
    nbf: int | None = None
    kid: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def amr(self) -> tuple[str, ...]:
        """Authentication methods (RFC 8176) when the issuer sends them, e.g. ``("pwd", "mfa")``.

        Tessera adds `amr` with its two-factor feature; until then it is empty."""
        value = self.raw.get("amr")
        if isinstance(value, list):
            return tuple(v for v in value if isinstance(v, str))
        return ()


@dataclass(frozen=True)
class Rules:
    issuer: str
    audiences: tuple[str, ...]
    leeway: int
    max_lifetime: int


def _numeric_date(raw: dict[str, Any], name: str) -> int | None:
    """A JSON integer in 0..=i64::MAX; floats, strings, booleans, null are refused."""
    if name not in raw:
        return None
    value = raw[name]
    if type(value) is not int or not 0 <= value <= _I64_MAX:
        raise VerifyError("invalid_claim", f"invalid claim `{name}`", claim=name)
    return value


def _strict_string(raw: dict[str, Any], name: str) -> str | None:
    if name not in raw:
        return None
    value = raw[name]
    if not isinstance(value, str):
        raise VerifyError("invalid_claim", f"invalid claim `{name}`", claim=name)
    return value


def _loose_string(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    return value if isinstance(value, str) else None


def check_times(exp: int, nbf: int | None, iat: int | None, now: int, rules: Rules) -> None:
    if now >= exp + rules.leeway:
        raise VerifyError("expired", "token expired")
    if nbf is not None and nbf > now + rules.leeway:
        raise VerifyError("not_yet_valid", "token not yet valid")
    if iat is not None and iat > now + rules.leeway:
        raise VerifyError("issued_in_future", "token issued in the future")
    # A token that lives far longer than any access token should is refused, whether or not
    # it says when it was issued.
    lifetime_from_iat = exp - iat if iat is not None else 0
    if lifetime_from_iat > rules.max_lifetime or exp - now > rules.max_lifetime + rules.leeway:
        raise VerifyError("invalid_claim", "lifetime too long", claim="exp")


def validate(raw: dict[str, Any], now: int, rules: Rules, kid: str | None, alg: str) -> Claims:
    exp = _numeric_date(raw, "exp")
    if exp is None:
        raise VerifyError("missing_claim", "missing claim `exp`", claim="exp")
    nbf = _numeric_date(raw, "nbf")
    iat = _numeric_date(raw, "iat")
    check_times(exp, nbf, iat, now, rules)

    if "iss" not in raw:
        raise VerifyError("missing_claim", "missing claim `iss`", claim="iss")
    iss = raw["iss"]
    if not isinstance(iss, str) or iss != rules.issuer:
        raise VerifyError("wrong_issuer", "wrong issuer")

    if "aud" not in raw:
        raise VerifyError("missing_claim", "missing claim `aud`", claim="aud")
    aud_raw = raw["aud"]
    if isinstance(aud_raw, str):
        aud: tuple[str, ...] = (aud_raw,)
    elif isinstance(aud_raw, list) and all(isinstance(a, str) for a in aud_raw):
        aud = tuple(aud_raw)
    else:
        raise VerifyError("invalid_claim", "invalid claim `aud`", claim="aud")
    if not any(a in rules.audiences for a in aud):
        raise VerifyError("wrong_audience", "wrong audience")

    if "sub" not in raw:
        raise VerifyError("missing_claim", "missing claim `sub`", claim="sub")
    sub = raw["sub"]
    if not isinstance(sub, str) or not sub:
        raise VerifyError("invalid_claim", "invalid claim `sub`", claim="sub")

    return Claims(
        sub=sub,
        sid=_strict_string(raw, "sid"),
        jti=_strict_string(raw, "jti"),
        email=_loose_string(raw, "email"),
        name=_loose_string(raw, "name"),
        iat=iat,
        exp=exp,
        nbf=nbf,
        iss=iss,
        aud=aud,
        raw=raw,
        kid=kid,
        alg=alg,
    )
