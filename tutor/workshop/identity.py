"""A learner's identity in a workshop (its id and secret), kept so a restarted tutor
rejoins as the same learner.

One small JSON file per (server, join code) in the user's state folder
(`K8S_TUTOR_STATE_DIR/workshops/`), written 0600 in a 0700 folder. Before it is read,
the file must be a regular file of this user that no one else can read or write, in a
folder no one else can write; otherwise it is not used (the secret may be known to
others) and the tutor joins as a new learner.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tutor.workshop.snapshot import SnapshotError, display_name


class UnsafeIdentity(Exception):
    """The saved identity exists but must not be trusted; the message says why."""


@dataclass(frozen=True)
class Identity:
    server: str
    """The server's base URL (`http://HOST:PORT`)."""
    code: str
    learner: str
    secret: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {
            "version": "1",
            "server": self.server,
            "code": self.code,
            "learner": self.learner,
            "secret": self.secret,
            "name": self.name,
        }


def state_root() -> Path:
    override = os.environ.get("K8S_TUTOR_STATE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("k8s-tutor", appauthor=False))


class IdentityStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else state_root() / "workshops"

    def path(self, server: str, code: str) -> Path:
        key = hashlib.sha256(f"{server}\n{code}".encode()).hexdigest()[:24]
        return self.root / f"{key}.json"

    def load(self, server: str, code: str) -> Identity | None:
        """The saved identity, None if there is none; `UnsafeIdentity` if it must not be used."""
        path = self.path(server, code)
        try:
            info = path.lstat()
        except FileNotFoundError:
            return None
        _check_private(self.root, folder=True)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeIdentity(f"{path} is not a regular file")
        _check_private(path, folder=False)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            identity = Identity(
                server=_text(data, "server"),
                code=_text(data, "code"),
                learner=_text(data, "learner"),
                secret=_text(data, "secret"),
                name=display_name(data.get("name")),
            )
        except (OSError, ValueError, SnapshotError, AttributeError):
            return None
        if (identity.server, identity.code) != (server, code):
            return None
        return identity

    def save(self, identity: Identity) -> Path:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if stat.S_IMODE(self.root.stat().st_mode) & 0o077:
            self.root.chmod(0o700)
        path = self.path(identity.server, identity.code)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".identity-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(identity.to_json(), out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def forget(self, server: str, code: str) -> None:
        self.path(server, code).unlink(missing_ok=True)


def _text(data: object, key: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValueError(key)
    return value


def _check_private(path: Path, *, folder: bool) -> None:
    if not hasattr(os, "getuid"):
        return  # Windows: no POSIX owner and mode; the user's profile folder is private.
    info = path.stat()
    if info.st_uid != os.getuid():
        raise UnsafeIdentity(f"{path} belongs to another user")
    mode = stat.S_IMODE(info.st_mode)
    if folder and mode & 0o022:
        raise UnsafeIdentity(f"{path} may be written by others (mode {mode:o})")
    if not folder and mode & 0o077:
        raise UnsafeIdentity(f"{path} may be read by others (mode {mode:o})")
