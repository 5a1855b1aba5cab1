"""A guard process that ends the tutor's children when the tutor dies of SIGKILL.

No code runs in a process killed with SIGKILL (or by the OOM killer), so its children
live on: a `kubectl port-forward` keeps the port, a tunnel keeps 80/443, and the next
lesson fails with "address already in use". The guard is a second, tiny Python
process (stdlib only, started with -I -S: about 10 ms, a few MB) in its own session,
so Ctrl+C and a closed terminal do not reach it. The tutor tells it, through a pipe,
each process group it starts ("+pgid") and sees end ("-pgid"). When the pipe reaches
end-of-file the tutor is gone, whatever the cause: the guard terminates the groups
still listed, SIGTERM then SIGKILL, and exits. After a clean exit the list is empty
and it just exits.

Why not prctl(PR_SET_PDEATHSIG)? It is Linux-only, fires when the *thread* that forked
the child ends (not the process), covers only the direct child (not the group's
grandchildren such as the tunnel's `sudo ssh`), and is cleared when a set-user-ID
program such as sudo starts. The guard is portable (pipes, setsid, killpg) and
covers whole groups.

This file is also the guard's program: it runs as a script, importing only the
standard library.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

_GUARD_ARGV = (sys.executable, "-I", "-S", os.path.abspath(__file__))


class Watchdog:
    """The tutor's end of the guard: a GroupListener that forwards to the pipe."""

    def __init__(self, process: subprocess.Popen[bytes], pipe: int) -> None:
        self.process = process
        self._pipe = pipe
        # Re-entrant: the exit signal handler may release groups while the main thread,
        # which it interrupted, was in the middle of a write.
        self._lock = threading.RLock()
        self._broken = False

    @classmethod
    def start(cls, grace: float = 2.0) -> Watchdog:
        read_end, write_end = os.pipe()
        try:
            # The guard is the one child not in the registry: it must outlive the
            # tutor. Its stdin is the pipe; nothing else of the tutor's is inherited.
            process = subprocess.Popen(
                [*_GUARD_ARGV, str(grace)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(read_end)
        return cls(process, write_end)

    def added(self, pgid: int) -> None:
        self._send(f"+{pgid}\n")

    def removed(self, pgid: int) -> None:
        self._send(f"-{pgid}\n")

    def _send(self, message: str) -> None:
        with self._lock:
            if self._broken:
                return
            try:
                os.write(self._pipe, message.encode())
            except OSError:
                # The guard is gone (killed by hand?): the tutor still cleans up itself.
                self._broken = True


def _guard(grace: float) -> None:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
    groups: set[int] = set()
    buffer = b""
    while chunk := os.read(0, 4096):
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line[:1] == b"+":
                groups.add(int(line[1:]))
            elif line[:1] == b"-":
                groups.discard(int(line[1:]))
    _end_groups(groups, grace)


def _end_groups(groups: set[int], grace: float) -> None:
    def signal_all(sig: int) -> set[int]:
        alive = set()
        for pgid in groups:
            try:
                os.killpg(pgid, sig)
                alive.add(pgid)
            except OSError:
                pass
        return alive

    groups = signal_all(signal.SIGTERM)
    signal_all(signal.SIGCONT)
    deadline = time.monotonic() + grace
    while groups and time.monotonic() < deadline:
        time.sleep(0.05)
        # A group of zombies answers signal 0 too; SIGKILL at the deadline is harmless.
        groups = signal_all(0)
    signal_all(signal.SIGKILL)


if __name__ == "__main__":
    _guard(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
