"""Where the Pac-Man stand-in keeps its scores: with the volume MongoDB would write them to.

No MongoDB runs in the sandbox. What the lesson shows is *where the data lives*: a
score survives `kubectl delete pod mongo-0` because the new pod mounts the same claim,
hence the same PersistentVolume, and it is lost with the claim (whose volume has
reclaim policy Delete). So the stand-in follows the same chain the real traffic would:
the game's `MONGO_SERVICE_HOST` names a Service, the Service's selector finds the ready
MongoDB pod, the pod's volume names a claim, the claim names its volume; the data is
kept per volume. A MongoDB pod whose data directory is not on a claim (an emptyDir, no
volume at all) keeps its data per pod, so it dies with the pod, as it would for real.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from tutor.sandbox.objects import Obj, condition, is_deleting, labels_of
from tutor.sandbox.store import Store


class Unreachable(Exception):
    """The database cannot be reached now; the message says why, as a driver would."""


@dataclass
class Database:
    """The two collections the game uses, `highscore` and `userstats`."""

    key: str
    highscores: list[dict[str, Any]] = field(default_factory=list)
    userstats: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def insert_score(self, doc: dict[str, Any]) -> None:
        with self.lock:
            self.highscores.append(doc)

    def top_scores(self, limit: int) -> list[dict[str, Any]]:
        with self.lock:
            # Sorted by score, highest first; insertion order among equal scores, as
            # MongoDB's sort on a single key usually gives. NaN scores (null) sort last.
            ranked = sorted(
                self.highscores,
                key=lambda d: -d["score"] if isinstance(d.get("score"), int) else float("inf"),
            )
            return [{k: doc.get(k) for k in ("name", "cloud", "zone", "host", "score")} for doc in ranked[:limit]]

    def new_user(self) -> str:
        object_id = os.urandom(12).hex()
        with self.lock:
            self.userstats[object_id] = {}
        return object_id

    def update_user(self, user_id: str, fields: dict[str, Any]) -> bool:
        with self.lock:
            doc = self.userstats.setdefault(user_id, {})
            doc.update(fields)
            doc["updateCounter"] = int(doc.get("updateCounter", 0)) + 1
        return True

    def user_stats(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {
                    "cloud": d.get("cloud"),
                    "zone": d.get("zone"),
                    "host": d.get("host"),
                    "score": d.get("score"),
                    "level": d.get("level"),
                    "lives": d.get("lives"),
                    "et": d.get("elapsedTime"),
                    "txncount": d.get("updateCounter"),
                }
                for d in self.userstats.values()
                if d.get("score") is not None
            ]


class Databases:
    """Every MongoDB data directory in the cluster, keyed by where it lives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, Database] = {}

    def get(self, key: str) -> Database:
        with self._lock:
            if key not in self._data:
                self._data[key] = Database(key)
            return self._data[key]

    def forget(self, key: str) -> None:
        """The volume (or pod) holding this data is gone, and the data with it."""
        with self._lock:
            self._data.pop(key, None)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._data)


def pv_key(pv_name: str) -> str:
    return f"pv/{pv_name}"


def pod_key(uid: str) -> str:
    return f"pod/{uid}"


def _selector_matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _ready(pod: Obj) -> bool:
    ready = condition(pod, "Ready")
    return (
        (pod.get("status") or {}).get("phase") == "Running"
        and ready is not None
        and ready.get("status") == "True"
        and not is_deleting(pod)
    )


def mongo_hosts(container: dict[str, Any]) -> tuple[list[str], str]:
    """The hosts the game's MongoDB URL names, and the URL's host list as text."""
    env = {v.get("name"): v.get("value") for v in container.get("env") or [] if "value" in v}
    hosts = str(env.get("MONGO_SERVICE_HOST") or env.get("MONGO_NAMESPACE_SERVICE_HOST") or "localhost")
    port = str(env.get("MY_MONGO_PORT") or "27017")
    names = [h.strip() for h in hosts.split(",") if h.strip()]
    return names, ",".join(f"{h}:{port}" for h in names)


def find_database(store: Store, databases: Databases, namespace: str, hosts: list[str]) -> Database:
    """The database a pod in `namespace` reaches through `hosts`, or `Unreachable`."""
    last_error = "no host"
    for host in hosts:
        parts = host.split(".")
        service_name = parts[0]
        service_ns = parts[1] if len(parts) > 1 and parts[1] != "svc" else namespace
        service = store.get("services", service_ns, service_name)
        if service is None:
            last_error = f"getaddrinfo ENOTFOUND {host}"
            continue
        selector = (service.get("spec") or {}).get("selector") or {}
        pods = [
            pod for pod in store.list("pods", service_ns) if _selector_matches(selector, labels_of(pod)) and _ready(pod)
        ]
        if not pods:
            last_error = f"connect ECONNREFUSED {host}:27017 (no ready pod behind service {service_ns}/{service_name})"
            continue
        # Reads go to the first ready member: with one replica, mongo-0.
        pod = sorted(pods, key=lambda p: p["metadata"]["name"])[0]
        return databases.get(_data_key(store, pod))
    raise Unreachable(last_error)


def _data_key(store: Store, pod: Obj) -> str:
    namespace = pod["metadata"].get("namespace", "")
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in (pod.get("spec") or {}).get("volumes") or []
        if (v.get("persistentVolumeClaim") or {}).get("claimName")
    ]
    for claim_name in claims:
        claim = store.get("persistentvolumeclaims", namespace, claim_name)
        volume = ((claim or {}).get("spec") or {}).get("volumeName")
        if volume:
            return pv_key(volume)
    return pod_key(pod["metadata"]["uid"])
