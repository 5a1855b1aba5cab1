"""Relaying one TCP connection to another, for the port-forward and tunnel stand-ins.

Standard library only: it runs in the learner's `kubectl port-forward` and
`minikube tunnel` processes.
"""

from __future__ import annotations

import asyncio


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def relay(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until the far side is done: its end (or reset) ends the client's too.

    The client's half-close only half-closes the far side, so a request whose answer is
    still coming is not cut short; a far side that goes away does not leave the client
    waiting on a connection nobody will answer.
    """
    upstream = asyncio.ensure_future(pipe(reader, up_writer))
    try:
        await pipe(up_reader, writer)
    finally:
        upstream.cancel()
        for w in (writer, up_writer):
            w.close()
