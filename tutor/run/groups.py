"""Process groups: the unit the run layer signals, watches and ends.

Every child starts as the leader of its own process group, and its descendants stay
in that group unless they create their own session. Signalling the group reaches
grandchildren too (`minikube tunnel`'s `ssh`, a shell's background jobs), which
signalling the child alone does not.

"Is the group still there?" has one trap: `killpg(pgid, 0)` also succeeds while the
only members left are zombies, and where PID 1 does not reap orphans (some containers,
this project's CI machines among them) they stay zombies for good. On Linux, /proc
tells a zombie from a live process, so an ended group is seen as ended; elsewhere
init reaps promptly and `killpg` alone is right.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable

_PROC = "/proc"
KILL_WAIT = 2.0
"""Seconds to wait for SIGKILLed processes to be gone before reporting them as left over."""
_HAS_PROC = os.path.isdir(os.path.join(_PROC, "self"))


def signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to the group; False when no process is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        # A member runs as another user (a command under sudo): it exists, and this
        # process cannot signal it; sudo relays what it receives itself.
        return True
    return True


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies do not count)."""
    if not signal_group(pgid, 0):
        return False
    return not _HAS_PROC or any(True for _ in live_members(pgid))


def live_members(pgid: int) -> Iterable[int]:
    """PIDs of the group's processes that are not zombies (Linux /proc only)."""
    for name in os.listdir(_PROC):
        if not name.isdigit():
            continue
        try:
            with open(os.path.join(_PROC, name, "stat"), "rb") as stat:
                data = stat.read()
        except OSError:
            continue
        # Fields after the command name, which may itself contain spaces and ')'.
        fields = data[data.rfind(b")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            yield int(name)


def terminate_groups(pgids: Iterable[int], grace: float, *, poll: float = 0.01) -> set[int]:
    """SIGTERM every group, SIGKILL what is left after `grace` seconds.

    Blocks until all are gone or killed; returns the groups still present after
    SIGKILL (members this process may not signal). Safe to call from any thread.
    """
    pending = {pgid for pgid in pgids if signal_group(pgid, signal.SIGTERM)}
    for pgid in pending:
        # A stopped member (SIGTTIN, Ctrl+Z) acts on SIGTERM only once continued.
        signal_group(pgid, signal.SIGCONT)
    deadline = time.monotonic() + grace
    while pending and time.monotonic() < deadline:
        time.sleep(poll)
        pending = {pgid for pgid in pending if group_alive(pgid)}
    for pgid in pending:
        signal_group(pgid, signal.SIGKILL)
    # SIGKILL cannot be refused, but a process dies only once it is next scheduled: on a
    # busy machine that takes a while. Wait for it (bounded: a process in uninterruptible
    # sleep, or one this process may not signal, is reported instead).
    deadline = time.monotonic() + KILL_WAIT
    while pending and time.monotonic() < deadline:
        time.sleep(poll)
        pending = {pgid for pgid in pending if group_alive(pgid)}
    return pending
