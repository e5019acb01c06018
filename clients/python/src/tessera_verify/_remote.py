"""A JWKS fetched from one configured URL, cached, refreshed, never taken from a token
(the behaviour of crates/tessera-verify/src/remote.rs, with threads).

* A request whose `kid` is known never waits for the network.
* An unknown `kid` triggers at most one refetch per cooldown; refetches are single-flight
  (one thread fetches, the others with unknown kids wait for its result).
* The first fetch counts as an on-demand fetch for the cooldown.
* A failed fetch keeps the last good set; with no good set ever, verification fails closed
  (`keys_unavailable`, 503).
* Optional background refresh in a daemon thread that stops with the verifier.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from ._errors import VerifyError
from ._http import FetchError, check_url, get_bounded
from ._keys import KeySet

log = logging.getLogger("tessera_verify")


class RemoteJwks:
    def __init__(self, url: str, *, cooldown: float, refresh_interval: float, timeout: float, max_bytes: int):
        self.url = check_url(url, "the JWKS URL")
        self.cooldown = cooldown
        self.refresh_interval = refresh_interval
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._current: KeySet | None = None
        self._fetch_lock = threading.Lock()
        self._slot_lock = threading.Lock()
        self._last_on_demand: float | None = None
        self._background: threading.Thread | None = None
        self._stop = threading.Event()

    def snapshot(self) -> KeySet | None:
        return self._current

    def _unavailable(self) -> VerifyError:
        return VerifyError("keys_unavailable", "signing keys unavailable", retry_after=max(1, int(self.cooldown)))

    def key_set_for(self, kid: str) -> KeySet:
        self._ensure_background_refresh()
        current = self._current
        if current is not None and kid in current:
            return current
        with self._fetch_lock:
            current = self._current
            if current is not None and kid in current:
                return current  # another thread fetched it while we waited
            if self._on_demand_allowed():
                self._fetch_and_store()
            current = self._current
        if current is None:
            raise self._unavailable()
        if kid not in current:
            raise VerifyError("unknown_key", "unknown signing key")
        return current

    def refresh(self) -> int:
        """Fetches now, ignoring the cooldown (still one fetch at a time)."""
        with self._fetch_lock:
            if not self._fetch_and_store():
                raise self._unavailable()
            return len(self._current or ())

    def _on_demand_allowed(self) -> bool:
        with self._slot_lock:
            now = time.monotonic()
            if self._last_on_demand is not None and now - self._last_on_demand < self.cooldown:
                return False
            self._last_on_demand = now
            return True

    def _fetch_and_store(self) -> bool:
        try:
            _, body = get_bounded(self.url, max_bytes=self.max_bytes, timeout=self.timeout)
            keys = KeySet.from_json(body)
            if not keys:
                raise FetchError("no usable key in the set")
        except Exception as e:  # noqa: BLE001 - every failure keeps the last good set
            log.warning("JWKS fetch from %s failed (%s); keeping the last good key set", self.url, e)
            return False
        log.debug("JWKS refreshed from %s: %d keys", self.url, len(keys))
        self._current = keys
        return True

    def _ensure_background_refresh(self) -> None:
        if self.refresh_interval <= 0 or self._background is not None:
            return
        with self._slot_lock:
            if self._background is not None:
                return
            ref = weakref.ref(self)
            stop, interval = self._stop, self.refresh_interval

            def run() -> None:
                while not stop.wait(interval):
                    this = ref()
                    if this is None:
                        return
                    with this._fetch_lock:
                        this._fetch_and_store()
                    del this

            self._background = threading.Thread(target=run, name="tessera-jwks-refresh", daemon=True)
            self._background.start()

    def close(self) -> None:
        self._stop.set()

    def __del__(self) -> None:
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
