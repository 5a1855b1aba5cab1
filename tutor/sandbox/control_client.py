"""How the stand-in commands (minikube, kubectl port-forward, tunnel) reach the sandbox.

The stand-ins run as separate processes, often in the learner's own shell, while the
simulated cluster runs elsewhere (in the tutor, or `k8s-tutor sandbox`). They talk to
the sandbox's control endpoint (`tutor.sandbox.control`): JSON over HTTP on loopback,
with a per-sandbox token so that a web page cannot drive it through the browser.

This module is imported by every shim invocation, so it uses only the standard
library, and only its cheap parts: importing aiohttp would add ~0.2 s to each
`minikube` or `kubectl port-forward` command, asyncio ~30 ms (only the streams need it,
and import it themselves) and urllib.request ~10 ms more than the `http.client` it wraps.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

CONTROL_ENV = "K8S_TUTOR_SANDBOX_CONTROL"
"""`http://127.0.0.1:PORT`: the control endpoint of the sandbox the shims belong to."""
TOKEN_ENV = "K8S_TUTOR_SANDBOX_TOKEN"
TOKEN_HEADER = "X-K8s-Tutor-Sandbox-Token"


class ControlError(Exception):
    """The control endpoint could not be reached or refused the request."""


class SandboxUnreachable(ControlError):
    """Nothing answers at the control address: the sandbox is not running."""


@dataclass(frozen=True)
class ControlAddress:
    url: str
    token: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ControlAddress | None:
        environ = os.environ if env is None else env
        url = environ.get(CONTROL_ENV, "")
        if not url:
            return None
        return cls(url.rstrip("/"), environ.get(TOKEN_ENV, ""))

    def hostport(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        host = parts.hostname or "127.0.0.1"
        if not _is_loopback(host):
            # The stand-ins never connect anywhere but loopback, whatever the environment says.
            raise ControlError(f"sandbox control address {self.url} is not a loopback address")
        return host, parts.port or 80


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def call(
    address: ControlAddress,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    *,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """One JSON request; the answer's JSON object. Errors carry the server's message."""
    host, port = address.hostport()
    data = json.dumps(body or {}).encode() if method != "GET" else None
    # A direct connection: a learner's http_proxy must not capture a loopback request.
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(
            method, path, body=data, headers={"Content-Type": "application/json", TOKEN_HEADER: address.token}
        )
        response = connection.getresponse()
        status, raw = response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        # Refused, reset, timed out or cut off mid-answer: the sandbox is not there (any more).
        raise SandboxUnreachable(str(error) or type(error).__name__) from None
    finally:
        connection.close()
    if status >= 400:
        try:
            message = str(json.loads(raw)["message"])
        except (ValueError, TypeError, KeyError):
            message = f"HTTP {status}: {raw[:200].decode(errors='replace')}"
        raise ControlError(message)
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise ControlError(f"unexpected answer from the sandbox: {raw[:200]!r}") from None
    if not isinstance(answer, dict):
        raise ControlError(f"unexpected answer from the sandbox: {answer!r}")
    return answer


async def stream(
    address: ControlAddress, path: str, body: Mapping[str, Any] | None = None
) -> AsyncGenerator[dict[str, Any], None]:
    """POST `body` and yield the JSON lines the endpoint streams back until it closes.

    HTTP/1.0 keeps the answer unchunked, so a few lines of asyncio suffice; the stream
    ending (the sandbox closing it, or going away) ends the iteration.
    """
    import asyncio  # here, not at the top: most commands make plain calls only

    host, port = address.hostport()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        raise SandboxUnreachable(str(error)) from None
    try:
        payload = json.dumps(body or {}).encode()
        head = (
            f"POST {path} HTTP/1.0\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            f"{TOKEN_HEADER}: {address.token}\r\n\r\n"
        )
        writer.write(head.encode() + payload)
        await writer.drain()
        status_line = await reader.readline()
        status = status_line.split(b" ", 2)
        while (await reader.readline()).strip():
            pass
        if len(status) < 2 or status[1] != b"200":
            text = (await reader.read()).decode(errors="replace")
            try:
                message = json.loads(text).get("message", text)
            except ValueError:
                message = text or status_line.decode(errors="replace").strip()
            raise ControlError(message)
        while line := await reader.readline():
            if line.strip():
                yield json.loads(line)
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
