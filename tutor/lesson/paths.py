"""What a path the lesson names is, for the parser and for whoever keeps a parsed lesson."""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_LESSON_BYTES = 1024 * 1024
"""A lesson file is text for a person to read: larger than 1 MB is not one."""


class UnreadableLesson(OSError):
    """A lesson path that cannot be read as a lesson file; the message says why."""


def read_lesson_bytes(path: Path) -> bytes:
    """The bytes of a lesson file: a regular file of at most MAX_LESSON_BYTES.

    Never blocks and never reads without end: a FIFO (opened without waiting for a
    writer), a device such as /dev/zero, a folder or a symlink loop raise
    UnreadableLesson (or OSError) at once.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableLesson(f"it is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > MAX_LESSON_BYTES:
            raise UnreadableLesson(f"it is larger than 1 MB ({info.st_size} bytes): not a lesson")
        data = handle.read(MAX_LESSON_BYTES + 1)
    if len(data) > MAX_LESSON_BYTES:
        raise UnreadableLesson("it is larger than 1 MB: not a lesson")
    return data


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def path_kind(path: Path) -> str:
    """'folder', 'file' (or anything else that exists) or 'missing'."""
    if path.is_dir():
        return "folder"
    return "file" if path.exists() else "missing"
