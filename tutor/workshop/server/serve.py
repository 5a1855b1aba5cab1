"""Running the workshop server: on the caller's event loop, or in a thread of its own.

`RunningServer` binds one socket (loopback unless told otherwise) and serves the app on
it; `ServerThread` runs one in a background thread with its own loop, for tests and the
benchmark. `k8s-tutor workshop serve` runs one in the foreground (see `main.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from tutor.workshop.server.app import Settings, make_app
from tutor.workshop.server.store import Store

T = TypeVar("T")


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def is_wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "")


class _OneLine(logging.Formatter):
    """aiohttp logs a malformed request with a traceback; the instructor's terminal gets one line."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            detail = " ".join(str(error).split())[:160]
            message = f"{message}: {type(error).__name__}{': ' + detail if detail else ''}"
        return f"k8s-tutor workshop: {message}"


def one_line_logs() -> None:
    """Send aiohttp's warnings and errors to stderr as single lines, never tracebacks."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    for name in ("aiohttp", "asyncio"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` (port 0: any free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(256)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class RunningServer:
    """The app on one socket, on the running loop. `start`, then `stop` once."""

    def __init__(
        self, store: Store, sock: socket.socket, *, settings: Settings, tls: ssl.SSLContext | None = None
    ) -> None:
        self.store = store
        self.sock = sock
        self.port = int(sock.getsockname()[1])
        self._tls = tls
        self._runner = web.AppRunner(
            make_app(store, settings), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )

    async def start(self) -> None:
        await self._runner.setup()
        await web.SockSite(self._runner, self.sock, ssl_context=self._tls).start()

    async def stop(self) -> None:
        await self._runner.cleanup()
        self.sock.close()


class ServerThread:
    """A workshop server on 127.0.0.1 in a thread of its own; `stop()` joins it.

    The store is opened on the server's thread and closed there; `join_code` and
    `instructor_token` are read once at start, for the caller.
    """

    def __init__(self, db: Path, *, port: int = 0, name: str = "test", settings: Settings | None = None) -> None:
        self.db = db
        self._port = port
        self._name = name
        self._settings = settings
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: RunningServer | None = None
        self._thread = threading.Thread(target=self._run, name="k8s-tutor workshop server", daemon=True)
        self.port = 0
        self.join_code = ""
        self.instructor_token = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def store(self) -> Store:
        assert self._server is not None
        return self._server.store

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def inspect(self, look: Callable[[Store], T]) -> T:
        """`look(store)`, run on the server's thread (the store is not thread-safe)."""

        async def run() -> T:
            return look(self.store)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as err:
            self._error = err
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._stop())
        self._loop.close()

    async def _start(self) -> None:
        store, _ = Store.open(self.db, name=self._name)
        try:
            sock = bind("127.0.0.1", self._port)
        except OSError:
            store.close()
            raise
        settings = self._settings or Settings(public_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
        self._server = RunningServer(store, sock, settings=settings)
        await self._server.start()
        self.port = self._server.port
        self.join_code = store.join_code
        self.instructor_token = store.instructor_token

    async def _stop(self) -> None:
        assert self._server is not None
        await self._server.stop()
        self._server.store.close()

    def stop(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
