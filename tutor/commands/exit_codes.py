"""Exit statuses of every k8s-tutor command, and the two errors that end a command with one.

0  done: every check passes, the thing asked for was done;
1  it ran, and the answer is no: a check fails, a doctor finding fails, something could
   not be done (a cleanup command failed, nothing to reset, the learner said no);
2  it could not run as asked: a bad flag or value, an unknown lesson or step, a cluster
   the guard does not let the tutor use;
130  interrupted (Ctrl+C).
"""

from __future__ import annotations

OK = 0
FAIL = 1
USAGE = 2
INTERRUPTED = 130


class UsageError(Exception):
    """The command cannot run as asked: one message, prefixed with the command, exit USAGE."""


class Failed(Exception):
    """The command ran and could not do its work: one message, prefixed with the command, exit FAIL."""
