"""Following Tessera's revocation feed (`GET /api/auth/revocations`) in a background thread,
so the access tokens of ended sessions are refused within about one polling interval instead
of at their `exp`.

Protocol: the first poll has no `since`; answers are
``{"sessions": [...], "window_seconds": 960, "cursor": "...", "more": false}``; while
`more` is true the next page is asked for at once with ``since=<cursor>``; later polls send
the last cursor. Each id stays in the local set for `window_seconds` after it was first
received (by then every access token of that session has expired), then it is dropped. A
failed poll keeps the set and the cursor (logged once, not on every poll); a cursor the
server no longer understands (400 ``INVALID_CURSOR``) starts over without `since`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

from ._claims import Claims
from ._errors import ConfigError
from ._http import FetchError, check_url, get_bounded

log = logging.getLogger("tessera_verify")

#: Largest feed page accepted (1000 ids of any sane length fit easily).
MAX_FEED_BYTES = 1 << 20
#: Pages read in one round at most (a server that always says `more` cannot pin the thread).
MAX_PAGES_PER_POLL = 100
#: Window assumed when the server does not say (Tessera's 15-minute tokens plus a minute).
DEFAULT_WINDOW_SECONDS = 960


class RevocationFeed:
    """Polls `url` every `interval` seconds and keeps the set of recently ended sessions.

    Pass it as a verifier's ``revocation``. ``secret`` is the feed secret Tessera is started
    with (``--revocations-secret``), sent as ``Authorization: Bearer``. The thread starts at
    once unless ``start=False``; :meth:`close` (or leaving a ``with`` block) stops it.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        interval: float = 1.0,
        timeout: float | None = None,
        start: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.url = check_url(url, "the revocation feed URL")
        if interval < 0.1:
            raise ConfigError("the revocation feed interval must be at least 0.1 s")
        self.interval = interval
        self.timeout = timeout if timeout is not None else max(interval, 2.0)
        self._headers = {"authorization": f"Bearer {secret}"} if secret else {}
        self._clock = clock
        self._revoked: dict[str, float] = {}  # sid -> when to forget it (clock time)
        self._cursor: str | None = None
        self._failing = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._polled = threading.Event()
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    def __repr__(self) -> str:  # never print the secret
        return f"RevocationFeed(url={self.url!r}, interval={self.interval}, revoked={len(self)})"

    # -- the set --------------------------------------------------------------------------

    def __contains__(self, sid: object) -> bool:
        return sid in self._revoked

    def __len__(self) -> int:
        return len(self._revoked)

    def is_revoked(self, claims: Claims) -> bool:
        return claims.sid is not None and claims.sid in self._revoked

    @property
    def cursor(self) -> str | None:
        return self._cursor

    @property
    def healthy(self) -> bool:
        """Whether the last poll succeeded."""
        return self._polled.is_set() and not self._failing

    # -- polling --------------------------------------------------------------------------

    def poll(self) -> bool:
        """One round: pages until `more` is false. Returns whether it succeeded."""
        with self._lock:
            try:
                for _ in range(MAX_PAGES_PER_POLL):
                    if not self._page():
                        break
            except Exception as e:  # noqa: BLE001 - any failure keeps the set and the cursor
                if not self._failing:
                    log.warning("revocation feed %s failed (%s); keeping %d revoked sessions", self.url, e, len(self._revoked))
                self._failing = True
                return False
            finally:
                self._expire()
            if self._failing:
                log.info("revocation feed %s reachable again", self.url)
            self._failing = False
            self._polled.set()
            return True

    def _page(self) -> bool:
        """Fetches one page; returns whether another page follows at once."""
        url = self.url
        if self._cursor is not None:
            url += ("&" if "?" in url else "?") + "since=" + quote(self._cursor, safe="")
        try:
            _, body = get_bounded(url, max_bytes=MAX_FEED_BYTES, timeout=self.timeout, headers=self._headers)
        except FetchError as e:
            if getattr(e, "status", None) == 400 and self._cursor is not None and b"INVALID_CURSOR" in getattr(e, "body", b""):
                log.warning("revocation feed %s refused the cursor; starting over", self.url)
                self._cursor = None
                return True
            raise
        doc = json.loads(body)
        sessions = doc.get("sessions") if isinstance(doc, dict) else None
        if not isinstance(sessions, list) or not all(isinstance(s, str) for s in sessions):
            raise ValueError("not a revocation feed document")
        window = doc.get("window_seconds", DEFAULT_WINDOW_SECONDS)
        cursor = doc.get("cursor")
        more = doc.get("more", False)
        if type(window) is not int or window <= 0 or not (cursor is None or isinstance(cursor, str)) or not isinstance(more, bool):
            raise ValueError("not a revocation feed document")
        forget_at = self._clock() + window
        revoked = dict(self._revoked)
        for sid in sessions:
            revoked.setdefault(sid, forget_at)  # kept for the window after it was *first* seen
        self._revoked = revoked
        if cursor is not None:
            self._cursor = cursor
        return more and cursor is not None

    def _expire(self) -> None:
        now = self._clock()
        if any(t <= now for t in self._revoked.values()):
            self._revoked = {sid: t for sid, t in self._revoked.items() if t > now}

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="tessera-revocation-feed", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """Waits until a poll has succeeded (e.g. at startup); returns whether one did."""
        return self._polled.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.timeout + 1)

    def __enter__(self) -> RevocationFeed:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
