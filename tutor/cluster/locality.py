"""Where a context's API server is: on this machine, or not. Decided from files, never by connecting.

Local means one of:
- the server's address is a loopback address (127.0.0.0/8, ::1), or the unspecified
  address (0.0.0.0, ::), which a connection from this machine reaches on this machine;
- the server's host is `localhost` (or a name under `.localhost`, RFC 6761), or a name
  that this machine's hosts file maps to loopback addresses only. A name is never looked
  up in DNS (a lookup is a request to another machine, and its answer can change between
  the decision and the connection): the tutor connects to the loopback address it
  decided on (`pin`), and keeps the name for TLS;
- the server is exactly the address (IP and port) that the minikube profile of the same
  name records in its own file under the minikube home
  (`profiles/NAME/config.json`: the control-plane node's `IP` and `Port`, or the
  cluster's `APIServerPort`), and that file is this user's and writable by nobody else.
  minikube's docker driver on macOS, Windows and WSL publishes the API server on
  127.0.0.1 with a forwarded port, which the loopback rule covers; the `ssh` driver's
  node is another machine, so it never counts.

Names (`minikube`, `kind-*`, `docker-desktop`) and kubeconfig extensions (minikube's
provider, the sandbox's) never make a context local: anyone can write them.
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from tutor.provenance import current_uid

HOSTS_FILE = Path("/etc/hosts")
MAX_FILE = 1 << 20
"""Profile and hosts files larger than this are not read (neither is ever near it)."""
PIN_V4 = "127.0.0.1"


@dataclass(frozen=True)
class Locality:
    local: bool
    why: str
    """For the learner: what the decision rests on."""
    pin: str | None = None
    """The loopback address to connect to instead of a host *name* that was judged local."""


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, server: str) -> Endpoint | None:
        try:
            parts: SplitResult = urlsplit(server)
            port = parts.port
        except ValueError:
            return None
        host = (parts.hostname or "").rstrip(".")
        if parts.scheme not in ("http", "https") or not host:
            return None
        return cls(parts.scheme, host, port if port is not None else (443 if parts.scheme == "https" else 80))

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.host.split("%")[0])
        except ValueError:
            return None


def minikube_home() -> Path:
    """Where minikube keeps its profiles: MINIKUBE_HOME(/.minikube) or ~/.minikube."""
    env = os.environ.get("MINIKUBE_HOME")
    if env:
        home = Path(env).expanduser()
        return home if home.name == ".minikube" else home / ".minikube"
    return Path("~/.minikube").expanduser()


def is_loopback_host(host: str) -> bool:
    """An address literal on loopback (or unspecified), or `localhost`: never a lookup."""
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def locate(
    server: str,
    context: str,
    *,
    proxy: str | None = None,
    hosts_file: Path | None = None,
    home: Path | None = None,
) -> Locality:
    endpoint = Endpoint.parse(server)
    if endpoint is None:
        return Locality(False, f"the server address {server!r} is not an http(s) URL with a host")
    if proxy:
        proxy_at = Endpoint.parse(proxy)
        if proxy_at is None or not is_loopback_host(proxy_at.host):
            return Locality(False, f"requests go through the proxy {proxy}, which is not on this machine")
    address = endpoint.ip
    if address is not None and (address.is_loopback or address.is_unspecified):
        return Locality(True, f"{endpoint.host} is this machine (a loopback address)")
    if address is None:
        name = endpoint.host.lower()
        if name == "localhost" or name.endswith(".localhost"):
            return Locality(True, f"{endpoint.host} is this machine (connected as {PIN_V4})", pin=PIN_V4)
        mapped = hosts_lookup(name, hosts_file if hosts_file is not None else HOSTS_FILE)
        if mapped:
            return Locality(
                True,
                f"the hosts file maps {endpoint.host} to {mapped} on this machine (connected as {mapped})",
                pin=mapped,
            )
    profile = minikube_profile_address(context, home if home is not None else minikube_home())
    if isinstance(profile, str):
        return Locality(False, f"{endpoint.host} is not on this machine ({profile})")
    if address is not None and any(ip == address and endpoint.port == port for ip, port in profile.addresses):
        return Locality(True, f"{endpoint.host}:{endpoint.port} is the node of minikube profile {context}")
    if profile.addresses:
        recorded = ", ".join(f"{ip}:{port}" for ip, port in sorted(profile.addresses, key=str))
        return Locality(
            False,
            f"{endpoint.host}:{endpoint.port} is not on this machine: minikube profile {context} records {recorded}",
        )
    return Locality(False, f"{endpoint.host} is not on this machine")


def hosts_lookup(name: str, path: Path) -> str | None:
    """The loopback address the hosts file gives `name`, if every address it gives is loopback."""
    # /etc/hosts may be a link into a root-owned store (NixOS): the file it names is checked.
    text = _private_text(path, owners=(0, current_uid()), follow=True)
    if text is None:
        return None
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or name not in (field.lower().rstrip(".") for field in fields[1:]):
            continue
        found.append(fields[0])
    loopback = []
    for entry in found:
        try:
            address = ipaddress.ip_address(entry.split("%")[0])
        except ValueError:
            return None
        if not address.is_loopback:
            return None
        loopback.append(str(address))
    return loopback[0] if loopback else None


@dataclass(frozen=True)
class ProfileAddress:
    addresses: frozenset[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]


def minikube_profile_address(profile: str, home: Path) -> ProfileAddress | str:
    """The API server addresses minikube profile `profile` records, or why none can be used."""
    if not profile or "/" in profile or profile in (".", ".."):
        return ProfileAddress(frozenset())
    path = home / "profiles" / profile / "config.json"
    if not path.exists():
        return ProfileAddress(frozenset())
    text = _private_text(path, owners=(current_uid(), 0))
    if text is None:
        return f"{path} is not a private file of this user, so it is not trusted"
    try:
        data = json.loads(text)
    except ValueError:
        return f"{path} is not valid JSON"
    if not isinstance(data, Mapping):
        return f"{path} is not a minikube profile"
    if str(data.get("Driver") or "") == "ssh":
        return f"minikube profile {profile} uses the ssh driver: its node is another machine"
    nodes = [node for node in _list(data.get("Nodes")) if isinstance(node, Mapping)]
    control = [node for node in nodes if node.get("ControlPlane") is True] or nodes[:1]
    ports = {port for port in (_port(data.get("APIServerPort")),) if port}
    found = set()
    for node in control:
        try:
            ip = ipaddress.ip_address(str(node.get("IP") or ""))
        except ValueError:
            continue
        for port in {_port(node.get("Port")), *ports}:
            if port:
                found.add((ip, port))
    return ProfileAddress(frozenset(found))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _port(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536 else None


def _private_text(path: Path, *, owners: tuple[int, ...], follow: bool = False) -> str | None:
    """The file's text if it is a regular file of one of `owners`, writable by no one else."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    info = os.fstat(fd)
    private = os.name != "posix" or (info.st_uid in owners and not info.st_mode & 0o022)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE or not private:
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_FILE + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
