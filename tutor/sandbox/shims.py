"""The `minikube` and `kubectl` commands the sandbox puts first on PATH.

Both are small POSIX shell scripts, so that they work from any shell a learner types in
and cost nothing when they only hand over:

- `minikube` runs `python -m tutor.sandbox.minikube` with the interpreter the sandbox
  runs on: every minikube command the lessons use is simulated.
- `kubectl` runs the real kubectl for everything except `port-forward`, which the
  sandbox's API server cannot serve (it would need the SPDY/WebSocket upgrade on
  `pods/portforward`); those go to `python -m tutor.sandbox.portforward`, which hands
  back to the real kubectl when the current context is not the sandbox's.

The real kubectl is the first one on PATH that is not a shim of ours; it may itself be a
dispatcher (gcloud's picks a kubectl minor by the server's version), which is fine:
it is run, not interpreted. Each shim carries the control address and token of the
sandbox that wrote it, so a shell only needs the shim directory on PATH.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from tutor.sandbox.control_client import CONTROL_ENV, TOKEN_ENV

MARKER = "k8s-tutor-sandbox-shim"
"""On the second line of every shim, so that shims never pick each other as 'the real one'."""

_FIND_REAL_KUBECTL = r"""
find_real_kubectl() {
    old_ifs=$IFS
    IFS=:
    for dir in $PATH; do
        [ -n "$dir" ] || continue
        [ "$dir" = "$SHIM_DIR" ] && continue
        candidate="$dir/kubectl"
        if [ -f "$candidate" ] && [ -x "$candidate" ]; then
            if head -n 2 "$candidate" 2>/dev/null | grep -q "$MARKER"; then
                continue
            fi
            IFS=$old_ifs
            REAL_KUBECTL=$candidate
            return 0
        fi
    done
    IFS=$old_ifs
    return 1
}
"""


def _header(shim_dir: Path, control_url: str, token: str) -> str:
    root = Path(__file__).resolve().parent.parent.parent
    return (
        "#!/bin/sh\n"
        f"# {MARKER}: written by the k8s-tutor sandbox; removed when it stops.\n"
        f"SHIM_DIR={shlex.quote(str(shim_dir))}\n"
        f"MARKER={MARKER}\n"
        f"{CONTROL_ENV}={shlex.quote(control_url)}\n"
        f"{TOKEN_ENV}={shlex.quote(token)}\n"
        f"export {CONTROL_ENV} {TOKEN_ENV}\n"
        f"PYTHON={shlex.quote(sys.executable)}\n"
        # The package may run from a source checkout that is not installed.
        f"PYTHONPATH={shlex.quote(str(root))}${{PYTHONPATH:+:$PYTHONPATH}}\n"
        "export PYTHONPATH\n"
    )


def minikube_script(shim_dir: Path, control_url: str, token: str) -> str:
    return _header(shim_dir, control_url, token) + 'exec "$PYTHON" -m tutor.sandbox.minikube "$@"\n'


def kubectl_script(shim_dir: Path, control_url: str, token: str) -> str:
    return (
        _header(shim_dir, control_url, token)
        + _FIND_REAL_KUBECTL
        + """
for arg in "$@"; do
    if [ "$arg" = "port-forward" ]; then
        exec "$PYTHON" -m tutor.sandbox.portforward "$@"
    fi
done
if find_real_kubectl; then
    exec "$REAL_KUBECTL" "$@"
fi
echo "kubectl: command not found (the k8s-tutor sandbox's shim found no real kubectl on PATH)" >&2
exit 127
"""
    )


def write(shim_dir: Path, control_url: str, token: str) -> None:
    # Private: the tutor runs these only from a folder no one else can write to.
    shim_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, text in (
        ("minikube", minikube_script(shim_dir, control_url, token)),
        ("kubectl", kubectl_script(shim_dir, control_url, token)),
    ):
        path = shim_dir / name
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        # Owner-only: the script carries the control token.
        tmp.chmod(0o700)
        tmp.replace(path)


def real_kubectl(path: str | None = None) -> str | None:
    """The first kubectl on PATH that is not one of our shims (for the Python side)."""
    for directory in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        if not directory:
            continue
        candidate = shutil.which("kubectl", path=directory)
        if candidate is None:
            continue
        try:
            with open(candidate, "rb") as f:
                head = f.read(512)
        except OSError:
            continue
        if MARKER.encode() in head:
            continue
        return candidate
    return None
