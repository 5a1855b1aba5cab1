"""Listening on a loopback socket so that stopping really stops: no connection outlives it.

Every server of the sandbox (the API server, the control endpoint, the ingress stand-in,
each pod's game server) listens through a :class:`Listener` rather than asyncio's
``loop.create_server`` or aiohttp's sites, because of a race in asyncio's ``Server``
(CPython 3.11): a connection the loop has accepted in the step just before
``Server.close()`` gets its transport a step later, when ``Server._attach()`` asserts
that the server is still open. The loop swallows that error (outside debug mode), and the
accepted socket stays open: never read, never answered, never closed. A client there
hangs for as long as it waits, a port-forward to a stopped pod included; that was the
"server closes when the pod stops" test timing out under load.

A Listener accepts with ``add_reader`` and ``sock.accept()`` itself and hands each
connection to ``loop.connect_accepted_socket``, which involves no ``Server``. Stopping
(:meth:`Listener.shut`) stops reading the socket and closes it at once (new connections
are refused, the kernel resets any it had queued); a connection accepted before is
still connected, and :meth:`Listener.close` then closes every connection it ever made,
after the caller's own graceful cleanup (aiohttp's, for requests in flight).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import weakref
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


def listen_socket(port: int = 0, host: str = LOOPBACK) -> socket.socket:
    """A listening, non-blocking TCP socket on loopback; port 0 lets the OS choose."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class ResetProtocol(asyncio.Protocol):
    """Resets the connection at once: what a client sees when nothing listens."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.abort()


class Listener:
    """Serves ``factory``'s protocols on ``sock`` (which it owns), on the running loop.

    ``accepting()``, when given, is asked for every new connection: while it is false
    connections are reset, as a port with nothing behind it does. With ``tls``, every
    connection speaks TLS with that context.
    """

    def __init__(
        self,
        sock: socket.socket,
        factory: Callable[[], asyncio.BaseProtocol],
        *,
        accepting: Callable[[], bool] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.port = int(sock.getsockname()[1])
        self._sock = sock
        self._factory = factory
        self._accepting = accepting or (lambda: True)
        self._tls = tls
        self._connecting: set[asyncio.Task[None]] = set()
        self._transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()
        self._shut = False
        sock.setblocking(False)
        self.loop.add_reader(sock.fileno(), self._on_readable)

    @property
    def open(self) -> bool:
        return not self._shut

    def _protocol(self) -> asyncio.BaseProtocol:
        # Asked again when the connection is made: the listener may have shut meanwhile.
        if self._shut or not self._accepting():
            return ResetProtocol()
        return self._factory()

    def _on_readable(self) -> None:
        for _ in range(128):
            try:
                conn, _address = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                # Out of descriptors or the like: stop reading for a moment, as asyncio does.
                log.warning("sandbox: accept on port %s failed: %s", self.port, error)
                self.loop.remove_reader(self._sock.fileno())
                self.loop.call_later(1.0, self._resume_reading)
                return
            task = self.loop.create_task(self._connect(conn))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)

    def _resume_reading(self) -> None:
        if not self._shut:
            self.loop.add_reader(self._sock.fileno(), self._on_readable)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            transport, _protocol = await self.loop.connect_accepted_socket(self._protocol, conn, ssl=self._tls)
        except BaseException as error:
            conn.close()
            if not isinstance(error, Exception):
                raise
            log.debug("sandbox: connection on port %s not set up: %s", self.port, error)
            return
        self._transports.add(transport)

    def shut(self) -> None:
        """Stop listening now: connecting clients are refused from here on."""
        if self._shut:
            return
        self._shut = True
        with contextlib.suppress(ValueError, OSError):
            self.loop.remove_reader(self._sock.fileno())
        self._sock.close()

    async def close(self, cleanup: Callable[[], Awaitable[None]] | None = None) -> None:
        """Shut, let ``cleanup()`` end the connections gracefully, then abort what is left."""
        self.shut()
        if self._connecting:
            # Connections accepted before the shut: each is a step or two from connected.
            await asyncio.gather(*list(self._connecting), return_exceptions=True)
        if cleanup is not None:
            await cleanup()
        for transport in list(self._transports):
            if not transport.is_closing():
                assert isinstance(transport, asyncio.Transport)
                transport.abort()
