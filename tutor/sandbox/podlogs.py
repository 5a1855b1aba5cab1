"""``GET pods/NAME/log``: what a container printed, as ``kubectl logs`` reads it.

The API server's part (which container, and the errors it answers itself) and the
kubelet's part (whose log: the running instance, the last one that exited, or with
``previous=true`` the one before; or why there is none yet) with the real messages::

    a container name must be specified for pod web, choose one of: [app sidecar]
    container nope is not valid for pod web
    previous terminated container "mongo" in pod "mongo-0" not found
    container "web" in pod "web" is waiting to start: trying and failing to pull image

Query parameters: ``container``, ``previous``, ``tailLines``, ``sinceSeconds``,
``sinceTime``, ``timestamps``, ``limitBytes`` and ``follow`` (the stream goes on while
the container runs, and ends when it stops or the client goes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from tutor.sandbox import errors
from tutor.sandbox.controllers.containers import Instance, Stage
from tutor.sandbox.objects import Obj, parse_time

if TYPE_CHECKING:
    from tutor.sandbox.controllers.kubelet import Kubelet

#: How often a followed log is looked at again for new lines.
FOLLOW_POLL = 0.25


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _int(request: web.Request, name: str) -> int | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None


def _stamp(at: float) -> str:
    whole = datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{round((at - int(at)) * 1e9):09d}Z"


class PodLogs:
    """Answers the log subresource from the kubelet of the current cluster."""

    def __init__(self, kubelet: Callable[[], Kubelet], clock: Callable[[], float]) -> None:
        self._kubelet = kubelet
        self._clock = clock

    def _container_name(self, pod: Obj, request: web.Request) -> str:
        spec = pod.get("spec") or {}
        names = [str(c.get("name", "")) for c in spec.get("containers") or []]
        inits = [str(c.get("name", "")) for c in spec.get("initContainers") or []]
        name = request.query.get("container", "")
        pod_name = pod["metadata"]["name"]
        if not name:
            if len(names) == 1:
                return names[0]
            message = f"a container name must be specified for pod {pod_name}, choose one of: [{' '.join(names)}]"
            if inits:
                message += f" or one of the init containers: [{' '.join(inits)}]"
            raise errors.bad_request(message)
        if name not in names and name not in inits:
            raise errors.bad_request(f"container {name} is not valid for pod {pod_name}")
        return name

    def _source(self, pod: Obj, container: str, previous: bool) -> Instance | None:
        """The instance to read; None when the pod is not on the node yet (no log at all)."""
        if not (pod.get("spec") or {}).get("nodeName"):
            return None
        run = self._kubelet().container(pod, container)
        pod_name = pod["metadata"]["name"]
        if run is None:
            source: Instance | str = (
                "previous terminated container {c} in pod {p} not found"
                if previous
                else "container {c} in pod {p} is waiting to start: ContainerCreating"
            )
        else:
            source = run.log_source(previous)
        if isinstance(source, str):
            raise errors.bad_request(source.format(c=f'"{container}"', p=f'"{pod_name}"'))
        return source

    def _lines(self, inst: Instance, request: web.Request, since: float | None) -> list[tuple[float, str]]:
        lines = [(at, text) for at, text in inst.log if since is None or at >= since]
        tail = _int(request, "tailLines")
        if tail is not None and tail >= 0:
            lines = lines[len(lines) - tail :] if tail else []
        return lines

    @staticmethod
    def _render(lines: list[tuple[float, str]], timestamps: bool) -> bytes:
        if timestamps:
            return "".join(f"{_stamp(at)} {text}\n" for at, text in lines).encode()
        return "".join(f"{text}\n" for _at, text in lines).encode()

    async def serve(self, request: web.Request, pod: Obj, server_closing: Callable[[], bool]) -> web.StreamResponse:
        container = self._container_name(pod, request)
        previous = _flag(request.query.get("previous"))
        inst = self._source(pod, container, previous)
        if inst is None:
            return web.Response(body=b"", content_type="text/plain")
        since: float | None = None
        if (seconds := _int(request, "sinceSeconds")) is not None:
            since = self._clock() - seconds
        elif request.query.get("sinceTime"):
            since = parse_time(request.query["sinceTime"])
        timestamps = _flag(request.query.get("timestamps"))
        body = self._render(self._lines(inst, request, since), timestamps)
        limit = _int(request, "limitBytes")
        if limit is not None and limit >= 0:
            body = body[:limit]
        if not _flag(request.query.get("follow")) or previous:
            return web.Response(body=body, content_type="text/plain")
        return await self._follow(request, pod, container, inst, body, timestamps, server_closing)

    async def _follow(
        self,
        request: web.Request,
        pod: Obj,
        container: str,
        inst: Instance,
        body: bytes,
        timestamps: bool,
        server_closing: Callable[[], bool],
    ) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        with contextlib.suppress(ConnectionResetError, ConnectionError, RuntimeError):
            await resp.prepare(request)
            await resp.write(body)
            sent = len(inst.log)
            last_seen = inst.log[-1] if inst.log else None
            while not server_closing():
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
                run = self._kubelet().container(pod, container)
                if run is None:
                    break
                lines = list(inst.log)
                if last_seen is not None and last_seen in lines:
                    fresh = lines[len(lines) - lines[::-1].index(last_seen) :]
                else:
                    fresh = lines[sent:] if last_seen is None else lines
                if fresh:
                    await resp.write(self._render(fresh, timestamps))
                    last_seen = fresh[-1]
                    sent = len(lines)
                if run.current is not inst or run.stage is Stage.TERMINATED:
                    break
                await asyncio.sleep(FOLLOW_POLL)
        return resp
