"""Kubernetes Events, as the scheduler, the kubelet and the controllers record them.

The tutor's diagnosis reads them (``FailedScheduling``, ``BackOff``...), and so does
``kubectl describe``. Repeats of the same event are aggregated into one object whose
``count`` and ``lastTimestamp`` grow, as the real event recorder does.
"""

from __future__ import annotations

import logging

from tutor.sandbox.errors import ApiError
from tutor.sandbox.objects import Obj, random_hex, rfc3339, rfc3339_micro
from tutor.sandbox.store import Store

log = logging.getLogger(__name__)


class EventRecorder:
    def __init__(self, store: Store, node_name: str = "minikube") -> None:
        self.store = store
        self.node_name = node_name
        self._keys: dict[tuple[str, ...], tuple[str, str]] = {}

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
    ) -> None:
        """Record (or bump) an event about ``obj``; failures are ignored, as upstream."""
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
        now = self.store.clock()
        source: Obj = {"component": component}
        if host:
            source["host"] = self.node_name
        try:
            existing = self._keys.get(key)
            if existing is not None:
                current = self.store.peek("events", *existing)
                if current is not None:
                    updated = dict(current)
                    updated["count"] = int(current.get("count") or 1) + 1
                    updated["lastTimestamp"] = rfc3339(now)
                    updated["metadata"] = {k: v for k, v in current["metadata"].items() if k != "resourceVersion"}
                    self.store.update(updated, resource="events")
                    return
            name = f"{meta.get('name', 'unknown')}.{random_hex(16)}"
            self.store.create(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": name, "namespace": namespace},
                    "involvedObject": involved,
                    "reason": reason,
                    "message": message,
                    "source": source,
                    "firstTimestamp": rfc3339(now),
                    "lastTimestamp": rfc3339(now),
                    "count": 1,
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
