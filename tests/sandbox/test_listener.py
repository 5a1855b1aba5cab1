"""The sandbox's servers stop cleanly: a connection made as a server shuts never hangs.

A regression test for the race behind `test_the_server_closes_when_the_pod_stops` timing
out under load. With asyncio's `Server`, a connection the loop accepted in the same step
as the (thread-safe) request to stop got its transport after `Server.close()`, where
CPython 3.11's `Server._attach` assertion failed; the loop swallowed the error and the
accepted socket stayed open, unread and unanswered, until the client gave up. This test
did hang in 36 of 40 rounds that way; each round here connects, then asks the loop to
shut the listener, then sends a request, as the pod server's test does.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

from aiohttp import web

from tutor.sandbox.listener import Listener, listen_socket

ROUNDS = 20
HANG = 3.0


async def hello(request: web.BaseRequest) -> web.Response:
    return web.Response(text="hello")


def connect_then_shut(loop: asyncio.AbstractEventLoop, shut: Callable[[], None], port: int) -> str:
    """How one connection ends when the server is told to stop right after it connected."""
    try:
        conn = socket.create_connection(("127.0.0.1", port), timeout=HANG)
    except OSError as error:
        return type(error).__name__
    loop.call_soon_threadsafe(shut)
    with conn:
        try:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return "answered" if conn.recv(64) else "closed"
        except TimeoutError:
            return "hung"
        except OSError as error:
            return type(error).__name__


async def test_a_connection_made_as_the_listener_shuts_does_not_hang() -> None:
    loop = asyncio.get_running_loop()
    outcomes = []
    for _ in range(ROUNDS):
        server = web.Server(hello)
        listener = Listener(listen_socket(), server)
        closing: list[asyncio.Task[None]] = []

        def shut(
            listener: Listener = listener, server: web.Server = server, closing: list[asyncio.Task[None]] = closing
        ) -> None:
            closing.append(loop.create_task(listener.close(lambda: server.shutdown(0.1))))

        outcomes.append(await asyncio.to_thread(connect_then_shut, loop, shut, listener.port))
        await asyncio.gather(*closing)
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", listener.port)) != 0, "still listening"
    assert "hung" not in outcomes, outcomes


async def test_while_not_accepting_connections_are_reset() -> None:
    server = web.Server(hello)
    up = False
    listener = Listener(listen_socket(), server, accepting=lambda: up)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()
        up = True
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(reader.read(), 2)).startswith(b"HTTP/1.1 200")
        writer.close()
    finally:
        await listener.close(lambda: server.shutdown(0.1))
