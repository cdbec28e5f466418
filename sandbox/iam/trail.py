"""The decision trail: every authorization decision IAM makes, kept for the notebook to read
(the records themselves are ``sandbox.trail.Entry``)."""

from __future__ import annotations

import threading
from collections import deque

from ..trail import Entry

KEPT = 5000  # the newest decisions; older ones fall off, as a trail's retention would have it


class Trail:
    def __init__(self) -> None:
        self._entries: deque[Entry] = deque(maxlen=KEPT)
        self._lock = threading.Lock()

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
