"""Proof that a folder of programs was made by k8s-tutor, for whoever later finds its path in a file.

A foreground sandbox (`k8s-tutor sandbox`) names its `minikube` and `kubectl` stand-ins in
its kubeconfig, so that `reset --cluster` and the lesson's commands reach the simulated
minikube rather than a real one. A kubeconfig is only data, though: anyone can write one
that names any folder. So the folder's path is signed with a key only this user's
k8s-tutor knows (HMAC-SHA256, the key kept 0600 in the tutor's state folder), and the
tutor runs nothing from a folder unless the signature matches and the folder, its parent
and every file in it belong to this user and are writable by nobody else.

A leaf module: both the sandbox (which signs) and the cluster layer (which checks) use
it, and it imports nothing of the tutor.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

KEY_FILE = "provenance.key"
KEY_BYTES = 32
MAX_FILES = 64
"""A stand-in folder holds a handful of scripts; more than this is not one of ours."""


class Unproven(Exception):
    """The folder cannot be shown to be k8s-tutor's; the message says why."""


def state_root() -> Path:
    """The tutor's state folder (`K8S_TUTOR_STATE_DIR`, else the platform's user state folder)."""
    override = os.environ.get("K8S_TUTOR_STATE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("k8s-tutor", appauthor=False))


def key_path() -> Path:
    return state_root() / "keys" / KEY_FILE


def sign(folder: Path) -> str | None:
    """The proof for `folder` (hex), creating the key on first use; None when no key can be kept."""
    try:
        key = _key(create=True)
    except (OSError, Unproven):
        return None
    return _mac(key, str(folder))


def verify(folder: str, proof: object) -> Path:
    """The folder, once proven to be k8s-tutor's and safe to run from; raises Unproven."""
    if not isinstance(proof, str) or not proof:
        raise Unproven("it carries no proof that k8s-tutor made it")
    if not os.path.isabs(folder) or os.path.normpath(folder) != folder:
        raise Unproven("it is not an absolute, normal path")
    try:
        key = _key(create=False)
    except OSError as err:
        raise Unproven(f"there is no key to check it with ({err.strerror or err})") from None
    if not hmac.compare_digest(_mac(key, folder), proof):
        raise Unproven("its proof does not match: this user's k8s-tutor did not make it")
    path = Path(folder)
    _private(path.parent, directory=True)
    _private(path, directory=True)
    entries = list(path.iterdir())
    if len(entries) > MAX_FILES:
        raise Unproven(f"it holds {len(entries)} entries")
    for entry in entries:
        _private(entry, directory=False)
    return path


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


def _key(*, create: bool) -> bytes:
    path = key_path()
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(KEY_BYTES))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != current_uid() or info.st_mode & 0o077:
        os.close(fd)
        raise Unproven(f"the key {path} is not a private file of this user")
    with os.fdopen(fd, "rb") as handle:
        key = handle.read(KEY_BYTES + 1)
    if len(key) != KEY_BYTES:
        raise Unproven(f"the key {path} is damaged")
    return key


def _private(path: Path, *, directory: bool) -> None:
    """`path` is this user's (or root's), not a symlink, and writable by nobody else."""
    try:
        info = path.lstat()
    except OSError as err:
        raise Unproven(f"{path}: {err.strerror or err}") from None
    kind_ok = stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)
    if not kind_ok:
        raise Unproven(f"{path} is not a {'folder' if directory else 'plain file'}")
    if info.st_uid not in (current_uid(), 0):
        raise Unproven(f"{path} belongs to another user")
    if info.st_mode & 0o022 and not (directory and info.st_mode & stat.S_ISVTX and info.st_uid == 0):
        raise Unproven(f"{path} can be changed by other users")


def current_uid() -> int:
    """This process's user (0 where the system has no such notion: ownership is not checked there)."""
    return os.geteuid() if hasattr(os, "geteuid") else 0
