"""Files the tutor writes and later reads back: only ever its own.

Progress, trust records and the lesson cache live in folders of the user's. What the
tutor reads back from them decides what it runs (a trust record) or what it shows, so
it reads only what it can tell it wrote itself:

- a folder it uses is created 0700; one that already exists must be a real folder (not
  a symlink), owned by this user and writable by no one else; a folder of this user's
  that others may read is made private (0700);
- a file is opened without following a symlink, and must be a regular file owned by
  this user and writable by no one else; it is read up to a size limit;
- a file is written whole, 0600, next to where it goes, and renamed into place: a
  reader never sees half of it, and a symlink planted where it goes is replaced, never
  followed.

Anything else raises `NotPrivate`, which says what is wrong; whoever reads decides what
to do without the file (parse the lesson again, keep progress in memory, trust nothing).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

MAX_SIZE = 4 * 1024 * 1024
"""Bytes read from one file at most: more is not a file the tutor wrote."""


class NotPrivate(OSError):
    """A folder or file that is not the tutor's own; the message says why."""


def _owner_problem(info: os.stat_result) -> str | None:
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return f"it belongs to another user (uid {info.st_uid})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"others may write to it (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def private_dir(folder: Path, *, create: bool = True) -> Path:
    """`folder`, made if missing (0700, parents too), checked; raises NotPrivate or OSError."""
    if create:
        # mkdir's mode applies to the last folder only: the parents get the umask's.
        folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise NotPrivate(f"{folder} is a symbolic link, not a folder of k8s-tutor's")
    if not stat.S_ISDIR(info.st_mode):
        raise NotPrivate(f"{folder} is not a folder")
    problem = _owner_problem(info)
    if problem:
        raise NotPrivate(f"folder {folder} is not private: {problem}")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(folder, 0o700)  # ours, readable by others: made private, as it would have been made
    return folder


def read_private(path: Path, *, limit: int = MAX_SIZE) -> bytes:
    """The bytes of `path`, a file of this user's that no one else may write.

    Raises FileNotFoundError when it does not exist, NotPrivate when it is not the
    tutor's own (a symlink, another owner, writable by others, too large), OSError else.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        if os.path.islink(path):
            raise NotPrivate(f"{path} is a symbolic link; k8s-tutor reads back only files it wrote") from err
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotPrivate(f"{path} is not a regular file")
        problem = _owner_problem(info)
        if problem:
            raise NotPrivate(f"{path} is not private: {problem}")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise NotPrivate(f"{path} is larger than {limit} bytes: not a file k8s-tutor wrote")
    return data


def write_private(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to `path` whole, 0600, through a new file renamed into place.

    `durable`: fsync the file and its folder, so a crash keeps either the old or the new
    content. The folder is not checked here: write into a `private_dir`.
    """
    import tempfile  # only when writing: not on the way to a cached lesson

    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
