"""Keeping what a passing check saw, with the pods that served it (see `Remembered`)."""

from __future__ import annotations

from typing import Any

from tutor.cluster import objects
from tutor.cluster.checks.context import CheckContext, Remembered, now
from tutor.cluster.view import ClusterView, WatchKey


def pod_uids(view: ClusterView, namespace: str) -> dict[str, str]:
    return {objects.name(pod): objects.uid(pod) or "" for pod in view.objects(WatchKey.of("pod", namespace))}


def remember_once(ctx: CheckContext, view: ClusterView, key: str, value: Any, namespace: str) -> bool:
    """Keep `value` under `key` unless something readable is kept there already.

    Only the first pass counts: a drift check re-run on resume (after mongo-0 was
    replaced) must not overwrite the uids a later `data_survives` compares against.
    """
    if Remembered.from_json(ctx.recall(key)) is not None:
        return False
    ctx.remember(key, Remembered(value, now(), {namespace: pod_uids(view, namespace)}).to_json())
    return True
