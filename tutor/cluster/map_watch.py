"""The live object map, kept current while it is shown: its watches, and a debounced rebuild.

`MapWatch` asks the check engine to watch what the map needs besides the active checks'
keys (`CheckEngine.watch_also`: only the kinds no check watches are new watches, and only
until `stop`), and rebuilds the map (`object_map.build_map`, a pure read of the watch
cache) on its own thread, named `k8s-tutor map`, once a burst of changes has settled for
DEBOUNCE seconds. `on_map` hears each map that differs from the last one, on that thread.
While nothing changes it neither rebuilds nor sends a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from tutor.cluster.engine import CheckEngine
from tutor.cluster.object_map import ObjectMap, build_map, map_keys
from tutor.lesson.map_subjects import MapSubject

log = logging.getLogger(__name__)

DEBOUNCE = 0.1
"""Seconds the map waits after a change for the next one, so a burst of events is one map."""
JOIN_TIMEOUT = 1.5

MapListener = Callable[[ObjectMap], None]


class MapWatch:
    def __init__(
        self,
        engine: CheckEngine[Any],
        subjects: Sequence[MapSubject],
        steps: Sequence[str],
        on_map: MapListener,
        *,
        debounce: float = DEBOUNCE,
    ) -> None:
        """`subjects` with their names, namespaces and selectors filled in; `steps`: the
        lesson's step ids, in order."""
        self._engine = engine
        self._subjects = tuple(subjects)
        self._steps = tuple(steps)
        self._on_map = on_map
        self._debounce = debounce
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._last: ObjectMap | None = None
        self._thread = threading.Thread(target=self._run, name="k8s-tutor map", daemon=True)
        self.builds = 0
        """Maps built (for tests and the benchmark: none while idle)."""

    def start(self) -> None:
        self._engine.watch_also(map_keys(self._subjects), self._changed.set)
        self._changed.set()  # the first map at once, even before anything is read
        self._thread.start()

    def stop(self) -> None:
        """Stop watching for the map; returns once its thread ended (at once on that thread)."""
        self._stop.set()
        self._changed.set()
        self._engine.watch_also((), None)
        if self._thread.ident is not None and self._thread is not threading.current_thread():
            self._thread.join(JOIN_TIMEOUT)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._changed.wait()
            # The first change of a burst: the rest of it comes within the debounce.
            if self._stop.wait(self._debounce):
                return
            self._changed.clear()
            try:
                found = build_map(self._engine.cache, self._subjects, self._steps, errors=self._engine.cache.error)
            except Exception:  # a bug in one map must not end the map's thread
                log.exception("building the object map failed")
                continue
            self.builds += 1
            if found != self._last and not self._stop.is_set():
                self._last = found
                self._on_map(found)
