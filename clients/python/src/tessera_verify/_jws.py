"""Compact JWS parsing (RFC 7515 §7.1), strict JSON, and the protected header rules.

Nothing here trusts the token: it only splits, decodes and refuses. The rules and their
order are those of the Rust crate (crates/tessera-verify/src/jws.rs).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from ._errors import VerifyError

#: Longest token accepted, checked before any other work.
MAX_TOKEN_LEN = 8 * 1024
#: Deepest JSON nesting accepted (serde_json's default limit in the Rust crate).
MAX_DEPTH = 128

ALGORITHMS = ("HS256", "EdDSA", "ES256", "RS256")
_REFUSED_HEADER_MEMBERS = ("jwk", "jku", "x5u", "x5c")
_ACCESS_TOKEN_TYPES = ("jwt", "at+jwt", "application/at+jwt")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def malformed(detail: str) -> VerifyError:
    return VerifyError("malformed", detail)


@dataclass(frozen=True)
class Compact:
    signing_input: bytes
    header: str
    payload: str
    signature: str


def split(token: str) -> Compact:
    """Exactly three base64url parts; only the base64url alphabet and `.` anywhere."""
    if len(token) > MAX_TOKEN_LEN:
        raise malformed("token too long")
    if not token.isascii() or not _B64URL.fullmatch(token.replace(".", "")):
        raise malformed("character outside base64url")
    parts = token.split(".")
    if len(parts) != 3:
        raise malformed("not three dot-separated parts")
    header, payload, signature = parts
    if not header or not payload:
        raise malformed("empty header or payload")
    return Compact(f"{header}.{payload}".encode(), header, payload, signature)


def b64decode(part: str) -> bytes | None:
    """Strict base64url without padding: impossible lengths and non-zero unused bits are
    refused (one token, one encoding). `None` when not canonical."""
    if len(part) % 4 == 1 or not part.isascii() or not _B64URL.fullmatch(part):
        return None
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except ValueError:
        return None
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != part:
        return None
    return data


def decode_part(part: str, what: str) -> bytes:
    data = b64decode(part)
    if data is None:
        raise malformed(what)
    return data


class _Invalid(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _Invalid("duplicate object member")
        obj[key] = value
    return obj


def _no_constants(name: str) -> Any:
    raise _Invalid(f"{name} is not JSON")


def _too_deep(text: str) -> bool:
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def parse_object(data: bytes) -> dict[str, Any] | None:
    """A UTF-8 JSON object without duplicate member names at any depth, or `None`. NaN and
    Infinity, a byte order mark, and anything after the object are refused."""
    try:
        text = data.decode("utf-8")
        if _too_deep(text):
            return None
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Header:
    alg: str
    kid: str | None


def parse_header(data: bytes) -> Header:
    """Vets the protected header: refuses members naming key material, `crit`, JWE markers;
    `alg` must be, byte for byte, a supported name; `typ`, when present, an access token."""
    header = parse_object(data)
    if header is None:
        raise malformed("header is not a JSON object")
    if any(m in header for m in _REFUSED_HEADER_MEMBERS):
        raise malformed("header names key material")
    if "crit" in header:
        raise malformed("unsupported critical header extension")
    if "enc" in header or "zip" in header:
        raise malformed("JWE header")
    if "alg" not in header:
        raise malformed("header has no alg")
    alg = header["alg"]
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise VerifyError("algorithm_not_allowed", "alg not allowed")
    kid = header.get("kid")
    if "kid" in header and not isinstance(kid, str):
        raise malformed("kid is not a string")
    if "typ" in header:
        typ = header["typ"]
        if not isinstance(typ, str) or typ.lower() not in _ACCESS_TOKEN_TYPES:
            raise VerifyError("wrong_type", "typ is not an access token type")
    return Header(alg, kid)
