"""One GET for the http and data_survives checks, made safe to point at a learner's machine.

- Only this machine and the cluster's nodes: the URL's host must be a loopback
  address, `localhost`, or an InternalIP of a node the cluster lists. Names are never
  resolved (a DNS query is already a request to the network), and nothing else is
  contacted, so a lesson cannot make the tutor reach the internet or a LAN.
- No proxy (the environment's HTTP_PROXY would send a request for 127.0.0.1 elsewhere),
  no redirects (a redirect could lead off the machine).
- A short timeout, so a probe never holds up the engine's probe thread for long.
- TLS is not verified: ingress controllers on local clusters use self-signed certificates.
"""

from __future__ import annotations

import http.client
import ipaddress
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT = 2.0
MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Answer:
    url: str
    status: int | None = None
    body: bytes = b""
    error: str | None = None
    """Why no HTTP answer came (refused, timed out, not allowed)."""
    refused_by_policy: bool = False

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed(host: str, node_addresses: Iterable[str]) -> bool:
    return is_loopback(host) or host.strip("[]") in set(node_addresses)


def get(
    url: str, *, host_header: str | None = None, node_addresses: Iterable[str] = (), timeout: float = TIMEOUT
) -> Answer:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        return Answer(url, error=f"'{url}' is not an http:// or https:// URL", refused_by_policy=True)
    if not allowed(host, node_addresses):
        return Answer(
            url,
            error=f"k8s-tutor sends checks only to this machine (localhost) and the cluster's nodes, not {host}",
            refused_by_policy=True,
        )
    # Connect to the loopback address itself rather than resolving "localhost".
    target = "127.0.0.1" if host.lower() == "localhost" else host
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(target, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(target, port, timeout=timeout)
    headers = {"Host": host_header or parts.netloc, "User-Agent": "k8s-tutor-check", "Connection": "close"}
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read(MAX_BODY)
        return Answer(url, response.status, body)
    except TimeoutError:
        return Answer(url, error=f"no answer within {timeout:g} s")
    except ConnectionRefusedError:
        return Answer(url, error="connection refused: nothing listens there")
    except (OSError, http.client.HTTPException) as err:
        return Answer(url, error=str(err) or type(err).__name__)
    finally:
        conn.close()
