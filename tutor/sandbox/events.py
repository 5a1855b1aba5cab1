"""Kubernetes Events, as the scheduler, the kubelet and the controllers record them.

The tutor's diagnosis reads them (``FailedScheduling``, ``BackOff``...), and so does
``kubectl describe``. Repeats of the same event are aggregated into one object whose
``count`` and ``lastTimestamp`` grow, as the real event recorder does.

An event is named ``<object>.<UnixNano in hex>`` of the instant it happened, as the real
recorder names it, so that a list sorted by name (what the API returns) is in the order
things happened: Scheduled, Pulling, Pulled, Created, Started. Names stay unique and
increasing even for events of the same nanosecond.
"""

from __future__ import annotations

import logging

from tutor.sandbox.errors import ApiError
from tutor.sandbox.objects import Obj, rfc3339, rfc3339_micro
from tutor.sandbox.store import Store

log = logging.getLogger(__name__)


class EventRecorder:
    def __init__(self, store: Store, node_name: str = "minikube") -> None:
        self.store = store
        self.node_name = node_name
        self._keys: dict[tuple[str, ...], tuple[str, str]] = {}
        self._last_nano = 0

    def record(
        self,
        obj: Obj,
        type_: str,
        reason: str,
        message: str,
        *,
        component: str,
        field_path: str | None = None,
        host: bool = False,
        at: float | None = None,
        last: float | None = None,
        count: int = 1,
    ) -> None:
        """Record (or bump by ``count``) an event about ``obj`` that happened ``at`` (first)
        and ``last`` (default: now); failures are ignored, as upstream."""
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        involved: Obj = {
            "kind": obj.get("kind", ""),
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if not involved["namespace"]:
            del involved["namespace"]
        if field_path:
            involved["fieldPath"] = field_path
        key = (involved["uid"], field_path or "", type_, reason, message, component)
        first = self.store.clock() if at is None else at
        latest = first if last is None else last
        source: Obj = {"component": component}
        if host:
            source["host"] = self.node_name
        try:
            existing = self._keys.get(key)
            if existing is not None:
                current = self.store.peek("events", *existing)
                if current is not None:
                    updated = dict(current)
                    updated["count"] = int(current.get("count") or 1) + count
                    updated["lastTimestamp"] = rfc3339(latest)
                    updated["metadata"] = {k: v for k, v in current["metadata"].items() if k != "resourceVersion"}
                    self.store.update(updated, resource="events")
                    return
            nano = max(int(first * 1e9), self._last_nano + 1)
            self._last_nano = nano
            name = f"{meta.get('name', 'unknown')}.{nano:x}"
            self.store.create(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": name, "namespace": namespace},
                    "involvedObject": involved,
                    "reason": reason,
                    "message": message,
                    "source": source,
                    "firstTimestamp": rfc3339(first),
                    "lastTimestamp": rfc3339(latest),
                    "count": count,
                    "type": type_,
                    "eventTime": None,
                    "reportingComponent": component,
                    "reportingInstance": self.node_name if host else "",
                },
                resource="events",
            )
            self._keys[key] = (namespace, name)
        except ApiError as err:
            log.debug("event %s on %s dropped: %s", reason, involved["name"], err.message)

    @staticmethod
    def micro_time() -> str:
        return rfc3339_micro()
