"""The process's standard streams, made safe before anything else opens a file."""

from __future__ import annotations

import os
import sys


def standard_streams() -> None:
    """Started with standard input, output or error closed (`<&-`): /dev/null stands in.

    Otherwise the next file the tutor opens (a socket, the sandbox's event loop) would take
    descriptor 0, 1 or 2, and a child process would read from it or write into it.
    """
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            stream = open(fd, "r" if fd == 0 else "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)
