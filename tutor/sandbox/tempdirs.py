"""The sandbox's temporary folders, and the sweep of those a killed tutor left behind.

A sandbox (its kubeconfig, its volumes' data) and its stand-ins (the shims on PATH)
each live in a folder under the system's temporary directory, removed when they close.
A process killed outright (SIGKILL, a power cut) cannot remove them, so each folder
names its owner in a file (`.owner`: the pid and, where the system says, when that
process started, so a reused pid is not taken for the owner), and every new folder
first removes the ones whose owner is gone. A folder without that file is left alone
unless it is a day old: it may be one another tutor is creating at this very moment.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

OWNER = ".owner"
PREFIXES = ("k8s-tutor-sandbox-", "k8s-tutor-standins-")
"""Every kind of folder made here: creating any one sweeps them all."""
ORPHAN_AGE = 24 * 3600.0
"""Seconds after which a folder that names no owner is taken as left behind."""


def create(prefix: str) -> Path:
    """A new folder `<tmp>/<prefix>XXXX` owned by this process, after a sweep of PREFIXES."""
    assert prefix in PREFIXES, prefix
    for kind in PREFIXES:
        sweep(kind)
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / OWNER).write_text(_identity(os.getpid()) or str(os.getpid()))
    return path


def sweep(prefix: str, where: Path | None = None) -> list[Path]:
    """Remove the folders `<where>/<prefix>*` whose owner has ended; returns them."""
    removed: list[Path] = []
    base = where or Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for path in base.glob(f"{prefix}*"):
            if path.is_dir() and not path.is_symlink() and _left_behind(path):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def _left_behind(path: Path) -> bool:
    try:
        owner = (path / OWNER).read_text().split()
    except FileNotFoundError:
        try:
            return time.time() - path.stat().st_mtime > ORPHAN_AGE
        except OSError:
            return False
    except OSError:
        return False
    if not owner or not owner[0].isdigit():
        return False
    pid = int(owner[0])
    if pid == os.getpid():
        return False
    if not _alive(pid):
        return True
    # The pid runs: is it still the process that made the folder?
    recorded = " ".join(owner)
    current = _identity(pid)
    return len(owner) > 1 and current is not None and current != recorded


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def _identity(pid: int) -> str | None:
    """`pid starttime` from /proc (Linux), or None where the system does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    if len(fields) < 20:
        return None
    return f"{pid} {fields[19]}"
