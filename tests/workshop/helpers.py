"""Helpers for the workshop's tests: snapshots, raw HTTP, the board's feed, and a gate that
holds traffic."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import free_port  # noqa: F401  (re-exported for the tests beside it)
from tutor.workshop.snapshot import CheckCounts, Cluster, Process, Snapshot, StepState, Stuck

STEPS = (
    ("start", "Start minikube with the storage addons"),
    ("default-storageclass", "Make csi-hostpath-sc the default StorageClass"),
    ("deploy", "Deploy Pac-Man and MongoDB"),
)


def snapshot(
    seq: int = 0, *, done: int = 0, on_screen: str | None = "start", stuck: bool = False, **changes: Any
) -> Snapshot:
    """A day55-like snapshot: the first `done` steps done."""
    steps = tuple(
        StepState(
            step_id,
            title,
            done=index < done,
            checks=CheckCounts(passed=2, waiting=0, failed=0) if index < done else CheckCounts(passed=1, waiting=1),
            hints_used=1 if index == done else 0,
        )
        for index, (step_id, title) in enumerate(STEPS)
    )
    fields: dict[str, Any] = {
        "lesson": "day55",
        "lesson_title": "State and Ingress in Kubernetes",
        "steps": steps,
        "cluster": Cluster.SANDBOX,
        "tutor_version": "0.1.0",
        "sent_at": time.time(),
        "seq": seq,
        "on_screen": on_screen,
        "stuck": Stuck("deploy", 270, "mongo-0: 0/1 ready, PVC Pending") if stuck else None,
        "questions_answered": 1,
        "processes": (Process("pacman-forward", True),),
    }
    fields.update(changes)
    return Snapshot(**fields)


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        try:
            return str(self.json["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return None


def raw(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    token: str | None = None,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    chunked: bool = False,
) -> Answer:
    """One request to 127.0.0.1:`port`, body bytes as given (to send what a client should not)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = dict(headers or {})
    if content_type is not None and body is not None:
        sent["Content-Type"] = content_type
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    try:
        if chunked:
            conn.putrequest(method, path)
            for name, value in {**sent, "Transfer-Encoding": "chunked"}.items():
                conn.putheader(name, value)
            conn.endheaders()
            assert body is not None
            for start in range(0, len(body), 8192):
                part = body[start : start + 8192]
                conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return Answer(response.status, response.read(), {k.lower(): v for k, v in response.getheaders()})
    finally:
        conn.close()


def send_json(port: int, method: str, path: str, data: Any, *, token: str | None = None) -> Answer:
    return raw(port, method, path, json.dumps(data).encode(), token=token)


def join(port: int, code: str, name: str) -> tuple[str, str]:
    answer = send_json(port, "POST", f"/api/v1/join/{code}", {"name": name})
    assert answer.status == 201, answer.body
    return answer.json["learner"], answer.json["secret"]


def put_snapshot(port: int, learner: str, secret: str, snap: Snapshot) -> Answer:
    return send_json(port, "PUT", f"/api/v1/learners/{learner}/snapshot", snap.to_json(), token=secret)


def room(port: int, token: str) -> dict[str, Any]:
    answer = raw(port, "GET", "/api/v1/room", token=token)
    assert answer.status == 200, answer.body
    data: dict[str, Any] = answer.json
    return data


class Feed:
    """The board's live feed, read on a thread: `events` fills as they arrive."""

    def __init__(self, port: int, token: str) -> None:
        self.events: list[tuple[str, Any]] = []
        self.status = 0
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self._conn.request("GET", "/api/v1/events", headers={"Authorization": f"Bearer {token}"})
        self._response = self._conn.getresponse()
        self.status = self._response.status
        self._thread = threading.Thread(target=self._read, name="test feed", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event, data = "message", []
        # Closing the connection under the reader ends it with one of these.
        with contextlib.suppress(OSError, ValueError, AttributeError, http.client.HTTPException):
            while True:
                line = self._response.readline()
                if not line:
                    return
                text = line.decode().rstrip("\n")
                if text.startswith("event:"):
                    event = text[6:].strip()
                elif text.startswith("data:"):
                    data.append(text[5:].strip())
                elif not text:
                    if data:
                        self.events.append((event, json.loads("\n".join(data))))
                    event, data = "message", []

    def of(self, kind: str) -> list[Any]:
        return [data for event, data in list(self.events) if event == kind]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self._conn.sock is not None:
                self._conn.sock.shutdown(socket.SHUT_RDWR)
        self._conn.close()
        self._thread.join(5)


@dataclass
class Gate:
    """A TCP relay on 127.0.0.1 in front of `target`: `hold()` stops what clients send from
    going through (as a hung server or network would) until `release()`."""

    target: int
    port: int = 0
    held_data: threading.Event = field(default_factory=threading.Event)
    _open: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    def start(self) -> Gate:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._open = asyncio.Event()
            self._open.set()
            server = self._loop.run_until_complete(asyncio.start_server(self._relay, "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            server.close()
            for writer in self._writers:
                writer.close()
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

        self._thread = threading.Thread(target=run, name="test gate", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self._writers += [writer, up_writer]

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, gated: bool) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while chunk := await source.read(65536):
                    if gated and self._open is not None and not self._open.is_set():
                        self.held_data.set()
                        await self._open.wait()
                    sink.write(chunk)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))

    def hold(self) -> None:
        self.held_data.clear()
        self._on_loop(lambda gate: gate.clear())

    def release(self) -> None:
        self._on_loop(lambda gate: gate.set())

    def _on_loop(self, change: Callable[[asyncio.Event], None]) -> None:
        async def run() -> None:
            assert self._open is not None
            change(self._open)

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(5)

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self.release()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
