"""`GET url` bounded in time and size, redirects refused. Shared by the JWKS fetcher and the
revocation feed."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from ._errors import ConfigError


class FetchError(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # the 3xx surfaces as an HTTPError


_opener = urllib.request.build_opener(_NoRedirect)


def check_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} must be an absolute http(s) URL")
    return url


def get_bounded(url: str, *, max_bytes: int, timeout: float, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """(status, body) of a 2xx answer; raises FetchError for anything else, or when the body is
    larger than `max_bytes`, or when the whole exchange takes longer than `timeout` seconds.
    Non-2xx answers raise FetchError with the status and (bounded) body in `.status` / `.body`."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"accept": "application/json", **(headers or {})})
    try:
        response = _opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        err = FetchError(f"unexpected status {e.code}")
        err.status = e.code  # type: ignore[attr-defined]
        try:
            err.body = e.read(max_bytes)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001
            err.body = b""  # type: ignore[attr-defined]
        e.close()
        raise err from None
    except (OSError, ValueError) as e:
        raise FetchError(f"request failed: {e}") from None
    with response:
        length = response.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise FetchError(f"response larger than {max_bytes} bytes")
        body = bytearray()
        try:
            while True:
                if time.monotonic() > deadline:
                    raise FetchError("timed out")
                chunk = response.read1(16384) if hasattr(response, "read1") else response.read(16384)
                if not chunk:
                    break
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"response larger than {max_bytes} bytes")
        except OSError as e:
            raise FetchError(f"reading failed: {e}") from None
        return response.status, bytes(body)
