"""A record of the HTTP requests the API served, for measurements such as "requests
while idle" and for asserting that a client resumed its watch."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass
class RequestRecord:
    time: float
    method: str
    path: str
    query: str
    watch: bool
    #: The HTTP status; None while a request (such as a watch) is still running.
    status: int | None = None


class RequestLog:
    """Thread-safe; keeps the newest ``maxlen`` records and counts every request."""

    def __init__(self, maxlen: int = 20_000) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=maxlen)
        self.total = 0

    def record(self, method: str, path: str, query: str, watch: bool) -> RequestRecord:
        rec = RequestRecord(time.time(), method, path, query, watch)
        with self._lock:
            self._records.append(rec)
            self.total += 1
        return rec

    def records(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        watch: bool | None = None,
        since: float | None = None,
    ) -> list[RequestRecord]:
        """Records matching all given filters; ``path`` is a regular expression (search)."""
        pattern = re.compile(path) if path else None
        with self._lock:
            items = list(self._records)
        return [
            r
            for r in items
            if (method is None or r.method == method.upper())
            and (pattern is None or pattern.search(r.path))
            and (watch is None or r.watch == watch)
            and (since is None or r.time >= since)
        ]

    def count(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        watch: bool | None = None,
        since: float | None = None,
    ) -> int:
        return len(self.records(method=method, path=path, watch=watch, since=since))

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
