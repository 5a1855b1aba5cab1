"""JSON over HTTP to a workshop server, with the standard library only.

The learner's tutor loads this (not aiohttp) so that joining a workshop costs the lesson
no start-up time; `workshop status` uses it too. One `JsonHttp` keeps one connection
alive and is used from one thread at a time (`abort` excepted).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_CODE = re.compile(r"[A-Za-z0-9-]{1,64}")


class Unreachable(Exception):
    """No answer from the server (refused, timed out, cut off, or not HTTP)."""


class BadUrl(ValueError):
    pass


@dataclass(frozen=True)
class WorkshopUrl:
    """`http(s)://HOST:PORT` and, for a learner, the join code that follows it."""

    scheme: str
    host: str
    port: int
    code: str | None = None

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.base}/{self.code}" if self.code else self.base

    @classmethod
    def parse(cls, text: str, *, join: bool) -> WorkshopUrl:
        """`join`: the URL must end in a join code (a learner's); otherwise any path is ignored
        (the board's URL, or the join URL, both name the server)."""
        example = "http://192.168.1.20:8055/k7m2p-x9qrt" if join else "http://127.0.0.1:8055"
        try:
            parts = urlsplit(text.strip())
            port = parts.port
        except ValueError as err:
            raise BadUrl(f"not a workshop URL: {text!r} ({err}); it looks like {example}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadUrl(f"not a workshop URL: {text!r}; it looks like {example}")
        if parts.username or parts.password:
            raise BadUrl(f"a workshop URL carries no user name or password: {text!r}")
        code = None
        if join:
            code = parts.path.strip("/")
            if not _CODE.fullmatch(code) or parts.query or parts.fragment:
                raise BadUrl(f"the workshop URL must end in the join code, as in {example}; got {text!r}")
        return cls(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), code)


@dataclass(frozen=True)
class Reply:
    status: int
    data: Any
    """The decoded JSON body, or None when there was none (or it was not JSON)."""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> str | None:
        """The server's stable `error.code` for a refusal."""
        if isinstance(self.data, dict) and isinstance(self.data.get("error"), dict):
            code = self.data["error"].get("code")
            return code if isinstance(code, str) else None
        return None

    @property
    def error_message(self) -> str:
        if isinstance(self.data, dict) and isinstance(self.data.get("error"), dict):
            return str(self.data["error"].get("message", ""))[:300]
        return f"HTTP {self.status}"


class JsonHttp:
    def __init__(self, url: WorkshopUrl, *, timeout: float = 10.0, tls: ssl.SSLContext | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self._tls = tls
        self._conn: http.client.HTTPConnection | None = None
        self._aborted = False

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self.url.scheme == "https":
            return http.client.HTTPSConnection(
                self.url.host, self.url.port, timeout=timeout, context=self._tls or ssl.create_default_context()
            )
        return http.client.HTTPConnection(self.url.host, self.url.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """Send one request; raises `Unreachable` when no HTTP answer came back."""
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        wait = self.timeout if timeout is None else timeout
        # A kept-alive connection the server has since closed fails at once: try a fresh one.
        for attempt in (1, 2):
            if self._aborted:
                raise Unreachable("stopped")
            reused = self._conn is not None
            if self._conn is None:
                self._conn = self._connect(wait)
            conn = self._conn
            try:
                conn.timeout = wait
                if conn.sock is not None:
                    conn.sock.settimeout(wait)
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except (OSError, http.client.HTTPException) as err:
                self.close()
                if reused and attempt == 1 and not isinstance(err, TimeoutError):
                    continue
                raise Unreachable(_describe(err)) from None
            if response.will_close:
                self.close()
            return Reply(response.status, _decode(raw, response.getheader("Content-Type", "")))
        raise AssertionError("unreachable")  # pragma: no cover

    def abort(self) -> None:
        """Cut a request in flight from another thread (it raises `Unreachable`), and refuse
        any after it: for closing."""
        self._aborted = True
        conn = self._conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _decode(raw: bytes, content_type: str) -> Any:
    if not raw or "json" not in content_type:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _describe(err: BaseException) -> str:
    match err:
        case ConnectionRefusedError():
            return "connection refused"
        case TimeoutError() | socket.timeout():
            return "no answer in time"
        case ssl.SSLCertVerificationError():
            return f"its TLS certificate is not trusted ({err.verify_message})"
        case ssl.SSLError():
            return f"TLS failed ({err.reason or err})"
        case socket.gaierror():
            return "no such host"
        case http.client.HTTPException():
            return f"not an HTTP answer ({type(err).__name__})"
        case OSError() if err.strerror:
            return err.strerror.lower()
        case _:
            return str(err) or type(err).__name__
