"""Tasks kept in memory, per owner (a real service would use its database)."""

from __future__ import annotations

import secrets
import string
import threading
from collections import defaultdict
from datetime import datetime, timezone

_ALPHABET = string.ascii_letters + string.digits


def _now() -> str:
    """ISO-8601 UTC with milliseconds, as Tessera writes timestamps."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TaskStore:
    def __init__(self) -> None:
        self._tasks: dict[str, list[dict]] = defaultdict(list)
        self._lock = threading.Lock()

    def list(self, owner: str) -> list[dict]:
        with self._lock:
            return [dict(t) for t in reversed(self._tasks[owner])]

    def add(self, owner: str, title: str, description: str) -> dict:
        now = _now()
        task = {
            "id": "".join(secrets.choice(_ALPHABET) for _ in range(32)),
            "userId": owner,
            "title": title,
            "description": description,
            "completed": False,
            "createdAt": now,
            "updatedAt": now,
        }
        with self._lock:
            self._tasks[owner].append(task)
        return dict(task)
