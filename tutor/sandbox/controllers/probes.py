"""Running a container's probes against what its process serves, as the kubelet does.

``httpGet`` asks the routes the process serves (the image catalogue's, or a stand-in
app's): 200-399 passes, anything else is ``HTTP probe failed with statuscode: N``; a
port nothing listens on is ``connection refused``. ``tcpSocket`` and ``grpc`` pass when
something listens on the port. ``exec`` runs the command through the program
interpreter against the container's files at that instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tutor.sandbox import programs
from tutor.sandbox.images import Served

PROBE_KINDS = ("startupProbe", "livenessProbe", "readinessProbe")
LABEL = {"startupProbe": "Startup", "livenessProbe": "Liveness", "readinessProbe": "Readiness"}


@dataclass(frozen=True)
class Timing:
    """A probe's schedule and thresholds, with the API's defaults."""

    initial_delay: float
    period: float
    failure_threshold: int
    success_threshold: int
    termination_grace: float | None

    @classmethod
    def of(cls, probe: Mapping[str, Any]) -> Timing:
        grace = probe.get("terminationGracePeriodSeconds")
        return cls(
            float(probe.get("initialDelaySeconds") or 0),
            float(probe.get("periodSeconds") or 10),
            int(probe.get("failureThreshold") or 3),
            int(probe.get("successThreshold") or 1),
            float(grace) if grace is not None else None,
        )


@dataclass(frozen=True)
class Result:
    ok: bool
    message: str = ""


def _port(value: Any, container: Mapping[str, Any]) -> int | None:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    for port in container.get("ports") or []:
        if port.get("name") == text:
            return int(port.get("containerPort", 0))
    return None


def run(
    probe: Mapping[str, Any],
    container: Mapping[str, Any],
    *,
    ip: str,
    serves: tuple[Served, ...],
    files: Mapping[str, str],
    ctx: programs.Context,
) -> Result:
    """One probe at this instant."""
    listening = {s.port: s for s in serves}
    if "httpGet" in probe:
        get = probe["httpGet"] or {}
        port = _port(get.get("port"), container)
        path = str(get.get("path") or "/")
        scheme = str(get.get("scheme") or "HTTP").lower()
        url = f"{scheme}://{ip}:{port}{path}"
        served = listening.get(port) if port is not None else None
        if served is None:
            return Result(False, f'Get "{url}": dial tcp {ip}:{port}: connect: connection refused')
        if served.http is None:
            return Result(False, f'Get "{url}": EOF')
        route = served.http.get(path.split("?", 1)[0])
        status = route.status if route is not None else 404
        if 200 <= status < 400:
            return Result(True)
        return Result(False, f"HTTP probe failed with statuscode: {status}")
    if "tcpSocket" in probe or "grpc" in probe:
        spec = probe.get("tcpSocket") or probe.get("grpc") or {}
        port = _port(spec.get("port"), container)
        if port in listening:
            return Result(True)
        return Result(False, f"dial tcp {ip}:{port}: connect: connection refused")
    if "exec" in probe:
        command = [str(a) for a in (probe.get("exec") or {}).get("command") or []]
        code, output = programs.run_probe(command, ctx, files)
        return Result(code == 0, output if code else "")
    return Result(True)
