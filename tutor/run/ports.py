"""Who holds a local TCP port: asked before a background command that listens on one starts.

A port-forward on a port another program holds dies at once with "address already in
use", and a supervised restart only repeats it. Asked first, the tutor can say so before
anything runs, name the program (a learner's own `kubectl port-forward`, a web server
left running), and offer a port that is free.

Whether the port is taken is decided as the command would find it: a bind to
127.0.0.1 (with SO_REUSEADDR, as kubectl and most servers set it, so connections in
TIME_WAIT do not count). Who holds it comes, on Linux, from the kernel's socket tables
(/proc/net/tcp and tcp6: listening sockets and their inodes) and the processes' open
files (/proc/PID/fd links `socket:[INODE]`). Another user's processes cannot be looked
into; their sockets still name the user. Elsewhere the port is only said to be taken.
A privileged port (below 1024) cannot be bound to test it without root: there only the
socket tables can tell, and without them the answer is "not known to be taken".
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"
"""The TCP state LISTEN in /proc/net/tcp."""
LOOPBACK = "127.0.0.1"
COVERING_V4 = frozenset({"0.0.0.0", LOOPBACK})
COVERING_V6 = frozenset({"::", "::ffff:127.0.0.1", "::ffff:0.0.0.0"})
"""Listening addresses that keep 127.0.0.1 from being bound (IPv6 ones when dual-stack)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""A process names itself: its name reaches the learner's terminal without control characters."""


@dataclass(frozen=True)
class PortHolder:
    """A process that listens on the port, as far as the system lets us see it."""

    pid: int | None
    program: str | None
    """Its name (`kubectl`, `python3`), or None when the process could not be looked into."""
    command: str | None = None
    """Its command line, shortened."""
    uid: int | None = None
    """The owner of the socket, from the kernel's table."""

    def describe(self) -> str:
        if self.program is None:
            if self.uid is not None and self.uid != os.getuid():
                return f"a process of another user (uid {self.uid})"
            return "a process the system does not name"
        who = f"{self.program} (pid {self.pid})" if self.pid is not None else self.program
        if self.command and self.command != self.program:
            who += f": {self.command}"
        return who


@dataclass(frozen=True)
class PortUse:
    """A port something else holds, and what holds it (empty when it cannot be found)."""

    port: int
    holders: tuple[PortHolder, ...] = ()

    def describe(self) -> str:
        """`port 9090 on 127.0.0.1 is taken by python3 (pid 4242): python3 -m http.server 9090`."""
        where = f"port {self.port} on {LOOPBACK} is taken"
        if not self.holders:
            return where
        return f"{where} by " + "; ".join(holder.describe() for holder in self.holders)


def port_in_use(port: int, *, proc: Path = PROC) -> PortUse | None:
    """What holds `port` on 127.0.0.1, or None when it is free (or cannot be known to be taken)."""
    taken = _bind_refused(port)
    sockets = _listening(port, proc)
    if taken is None:
        # A privileged port: only the socket tables can say.
        taken = any(address in COVERING_V4 | COVERING_V6 for address, _, _ in sockets)
    if not taken:
        return None
    covering = [entry for entry in sockets if entry[0] in COVERING_V4 | COVERING_V6] or sockets
    return PortUse(port, _holders(covering, proc))


def free_port_near(port: int, *, tries: int = 50) -> int | None:
    """The first port after `port` that can be bound on 127.0.0.1 now (for a suggestion)."""
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        if candidate >= 1024 and _bind_refused(candidate) is False:
            return candidate
    return None


def _bind_refused(port: int) -> bool | None:
    """True: in use; False: free; None: this process may not bind it (a privileged port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return True
            if err.errno == errno.EACCES:
                return None
            raise
    return False


def _listening(port: int, proc: Path) -> list[tuple[str, int, int]]:
    """Listening sockets on `port` from the kernel's tables: (address, inode, uid)."""
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != LISTEN:
                continue
            address, _, hex_port = fields[1].partition(":")
            try:
                if int(hex_port, 16) != port or len(address) != width:
                    continue
                found.append((_address(address), int(fields[9]), int(fields[7])))
            except ValueError:
                continue
    return found


def _address(hex_address: str) -> str:
    """The kernel writes each 32-bit word of the address in host byte order."""
    raw = b"".join(int(hex_address[i : i + 8], 16).to_bytes(4, "little") for i in range(0, len(hex_address), 8))
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    return socket.inet_ntop(socket.AF_INET6, raw)


def _holders(sockets: list[tuple[str, int, int]], proc: Path) -> tuple[PortHolder, ...]:
    if not sockets:
        return ()
    wanted = {f"socket:[{inode}]": uid for _, inode, uid in sockets}
    holders: dict[int, PortHolder] = {}
    seen_links: set[str] = set()
    with contextlib.suppress(OSError):
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                for fd in (entry / "fd").iterdir():
                    with contextlib.suppress(OSError):
                        link = os.readlink(fd)
                        if link in wanted:
                            pid = int(entry.name)
                            seen_links.add(link)
                            holders.setdefault(pid, _holder(pid, entry, wanted[link]))
    # Sockets whose process could not be looked into: say whose they are.
    unseen = [PortHolder(None, None, None, uid) for link, uid in wanted.items() if link not in seen_links]
    return (*holders.values(), *unseen[: 1 if not holders else 0])


def _holder(pid: int, entry: Path, uid: int) -> PortHolder:
    program = None
    with contextlib.suppress(OSError):
        program = _CONTROL.sub("?", (entry / "comm").read_text().strip()) or None
    command = None
    with contextlib.suppress(OSError):
        argv = [part for part in (entry / "cmdline").read_bytes().split(b"\0") if part]
        text = _CONTROL.sub("?", " ".join(part.decode("utf-8", errors="replace") for part in argv))
        command = text if len(text) <= 120 else text[:119] + "…"
    return PortHolder(pid, program, command or None, uid)


def describe_holders(port: int, *, proc: Path = PROC) -> str | None:
    """Who listens on `port` on this machine, in words; None when it is free or nobody can be named."""
    use = port_in_use(port, proc=proc)
    if use is None or not use.holders:
        return None
    return "; ".join(holder.describe() for holder in use.holders)
