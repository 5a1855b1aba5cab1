"""The session kubeconfig: the one context the session watches, in a file of the tutor's own.

Every process the tutor starts (but minikube, which must write the learner's kubeconfig)
gets `KUBECONFIG` set to this file. It holds exactly one context, cluster and user,
copied from the learner's kubeconfig when the guard allowed them, with the context as
`current-context`. So `kubectl config use-context prod` in another terminal, or another
file on the learner's `KUBECONFIG`, cannot move the tutor's commands: they read this file.

The connection rewrites it whenever it reads the learner's kubeconfig again and the
guard allows what it finds (minikube restarted on another port); when the context is
gone or refused, the file names a context that does not exist, so kubectl stops with a
configuration error before it connects anywhere. A server given by a host name judged
local is written as the loopback address decided on (`pin`), with the name kept as
`tls-server-name`, so what kubectl connects to is what the guard looked at.

The file lives in a folder made for this session (mode 0700) under the user's runtime
folder (`XDG_RUNTIME_DIR`), or else the tutor's state folder (or, when that is full or
read-only, the system's temporary folder), is written 0600 and
atomically, and is removed when the session ends (`close`, or `close_all` when a signal
ends the tutor); folders of sessions whose process is gone are removed by the next one.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from tutor.cluster.kubeconfig import Loaded
from tutor.provenance import current_uid

PREFIX = "k8s-tutor-session-"
NO_CONTEXT = "k8s-tutor-has-no-cluster-for-this-session"


_OPEN: set[SessionKubeconfig] = set()
_OPEN_LOCK = threading.Lock()


def _bases() -> list[Path]:
    """Where a session folder may go, best first: the user's runtime folder (memory, private),
    the tutor's state folder, the system's temporary folder (a read-only or full disk)."""
    bases: list[Path] = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        bases.append(Path(runtime))
    from tutor import provenance

    state = provenance.state_root() / "sessions"
    with contextlib.suppress(OSError):
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        bases.append(state)
    bases.append(Path(tempfile.gettempdir()))
    return bases


def close_all() -> None:
    """Remove every session kubeconfig of this process (a signal is ending the tutor)."""
    with _OPEN_LOCK:
        open_now = list(_OPEN)
    for item in open_now:
        item.close()


class SessionKubeconfig:
    def __init__(self, base: Path | None = None) -> None:
        self._written: str | None = None
        self.context: str | None = None
        """The context the file holds now; None while it holds none."""
        bases = [base] if base is not None else _bases()
        for index, where in enumerate(bases):
            _sweep(where)
            try:
                self.folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=where))
                self.path = self.folder / "kubeconfig"
                self.clear()
                break
            except OSError:
                # A full or read-only disk: the next place, or the error when there is none left.
                if hasattr(self, "folder"):
                    shutil.rmtree(self.folder, ignore_errors=True)
                if index == len(bases) - 1:
                    raise
        with _OPEN_LOCK:
            _OPEN.add(self)

    def write(self, loaded: Loaded, pin: str | None = None) -> None:
        context, cluster, user = loaded.entries()
        cluster_body = dict(cluster["cluster"])
        if pin is not None:
            cluster_body = pinned_cluster(cluster_body, pin)
        context_body = dict(context["context"])
        data: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": cluster["name"], "cluster": cluster_body}],
            "users": [{"name": user["name"], "user": dict(user["user"])}] if user is not None else [],
            "contexts": [{"name": context["name"], "context": context_body}],
            "current-context": context["name"],
        }
        self._store(data)
        self.context = str(context["name"])

    def clear(self) -> None:
        """No context: kubectl reading this file refuses to run rather than guess."""
        self._store(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "preferences": {},
                "clusters": [],
                "users": [],
                "contexts": [],
                "current-context": NO_CONTEXT,
            }
        )
        self.context = None

    def close(self) -> None:
        with _OPEN_LOCK:
            _OPEN.discard(self)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _store(self, data: dict[str, Any]) -> None:
        text = yaml.safe_dump(data, sort_keys=False)
        if text == self._written and self.path.exists():
            return
        fd, temp = tempfile.mkstemp(prefix=".kubeconfig-", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        self._written = text


def pinned_cluster(cluster: dict[str, Any], pin: str) -> dict[str, Any]:
    parts = urlsplit(str(cluster["server"]))
    host = parts.hostname or ""
    address = f"[{pin}]" if ipaddress.ip_address(pin).version == 6 else pin
    netloc = address if parts.port is None else f"{address}:{parts.port}"
    pinned = {**cluster, "server": urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))}
    if parts.scheme == "https" and not cluster.get("tls-server-name"):
        pinned["tls-server-name"] = host
    return pinned


def _sweep(base: Path) -> None:
    """Remove the session folders of this user whose process has ended."""
    with contextlib.suppress(OSError):
        for folder in base.glob(f"{PREFIX}*"):
            pid = folder.name[len(PREFIX) :].split("-", 1)[0]
            with contextlib.suppress(OSError):
                info = folder.lstat()
                if not pid.isdigit() or info.st_uid != current_uid() or not folder.is_dir() or folder.is_symlink():
                    continue
                if int(pid) != os.getpid() and not _alive(int(pid)):
                    shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
