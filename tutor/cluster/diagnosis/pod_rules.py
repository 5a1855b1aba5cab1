"""Rules about pods: container states, scheduling, init containers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tutor.cluster import objects
from tutor.cluster.diagnosis.case import Case
from tutor.cluster.objects import Obj
from tutor.cluster.results import Finding
from tutor.cluster.view import find

PULL_ERRORS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName")


def _describe(pod: Obj) -> str:
    return f"kubectl describe pod {objects.name(pod)} -n {objects.namespace(pod)}"


def _containers(pod: Obj) -> Iterator[tuple[bool, Mapping[str, Any]]]:
    for init in (True, False):
        for item in objects.container_statuses(pod, init=init):
            yield init, item


def _waiting(item: Mapping[str, Any]) -> Mapping[str, Any]:
    state = item.get("state")
    waiting = state.get("waiting") if isinstance(state, Mapping) else None
    return waiting if isinstance(waiting, Mapping) else {}


def image_pull(case: Case) -> Iterator[Finding]:
    for pod in case.pods():
        for init, item in _containers(pod):
            waiting = _waiting(item)
            reason = waiting.get("reason")
            if reason not in PULL_ERRORS:
                continue
            container = str(item.get("name", "?"))
            image = objects.container_images(pod, init=init).get(container) or str(item.get("image", "?"))
            role = "init container" if init else "container"
            yield Finding(
                "image_pull",
                f"{objects.name(pod)} cannot pull the image {image} for {role} {container} ({reason}): "
                "check the image name and tag, and that the node can reach the registry",
                tuple(str(waiting["message"]).split("\n")[:2]) if waiting.get("message") else (),
                _describe(pod),
            )


def crash_loop(case: Case) -> Iterator[Finding]:
    for pod in case.pods():
        for init, item in _containers(pod):
            if _waiting(item).get("reason") != "CrashLoopBackOff":
                continue
            container = str(item.get("name", "?"))
            restarts = objects.as_int(item.get("restartCount"))
            last = item.get("lastState")
            terminated = last.get("terminated") if isinstance(last, Mapping) else None
            evidence: tuple[str, ...] = ()
            if isinstance(terminated, Mapping):
                evidence = (
                    f"last exit code {terminated.get('exitCode', '?')} ({terminated.get('reason') or 'Error'})"
                    + (f": {terminated['message']}" if terminated.get("message") else ""),
                )
            role = "init container" if init else "container"
            yield Finding(
                "crash_loop",
                f"{role} {container} of {objects.name(pod)} keeps crashing (CrashLoopBackOff, {restarts} restarts): "
                "its log says why",
                evidence,
                f"kubectl logs {objects.name(pod)} -n {objects.namespace(pod)} -c {container} --previous",
            )


def container_config(case: Case) -> Iterator[Finding]:
    for pod in case.pods():
        for _, item in _containers(pod):
            waiting = _waiting(item)
            if waiting.get("reason") in ("CreateContainerConfigError", "CreateContainerError", "RunContainerError"):
                yield Finding(
                    "container_config",
                    f"container {item.get('name', '?')} of {objects.name(pod)} cannot start ({waiting['reason']})",
                    (str(waiting.get("message", "")),) if waiting.get("message") else (),
                    _describe(pod),
                )


def unschedulable(case: Case) -> Iterator[Finding]:
    for pod in case.pods():
        scheduled = objects.condition(pod, "PodScheduled")
        if scheduled is None or scheduled.get("status") != "False":
            continue
        message = " ".join(str(scheduled.get("message", "")).split())
        ns = objects.namespace(pod)
        unbound = []
        for claim in objects.pod_claims(pod):
            pvc = find(case.view, "pvc", ns, claim)
            if pvc is None or objects.pvc_phase(pvc) != "Bound":
                unbound.append(f"{claim} ({'missing' if pvc is None else objects.pvc_phase(pvc)})")
        if unbound or "unbound" in message:
            what = ", ".join(unbound) or "a claim"
            text = f"{objects.name(pod)} cannot be scheduled: its claim {what} is not bound to a volume yet"
        else:
            text = f"{objects.name(pod)} cannot be scheduled: {message or scheduled.get('reason', 'Unschedulable')}"
        yield Finding("unschedulable", text, (message,) if message else (), _describe(pod))


def init_containers(case: Case) -> Iterator[Finding]:
    for pod in case.pods():
        word = objects.pod_state_word(pod)
        if not word.startswith("Init:") or word.removeprefix("Init:") in ("CrashLoopBackOff", *PULL_ERRORS):
            continue
        running = [
            str(item.get("name"))
            for item in objects.container_statuses(pod, init=True)
            if not _done(item) and item.get("name")
        ]
        which = f" {running[0]}" if running else ""
        yield Finding(
            "init_containers",
            f"{objects.name(pod)} is still running its init container{which} ({word})",
            (),
            f"kubectl logs {objects.name(pod)} -n {objects.namespace(pod)} -c {running[0]}"
            if running
            else _describe(pod),
        )


def _done(item: Mapping[str, Any]) -> bool:
    state = item.get("state")
    terminated = state.get("terminated") if isinstance(state, Mapping) else None
    return isinstance(terminated, Mapping) and objects.as_int(terminated.get("exitCode"), 1) == 0
