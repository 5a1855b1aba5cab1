"""`k8s-tutor sandbox`: the simulated cluster in the foreground, for practice from another terminal.

It starts the sandbox (the API server, its controllers and the stand-ins), says plainly
that the cluster is SIMULATED, prints the lines that point a shell at it, and runs until
Ctrl+C, SIGTERM or SIGHUP; then it stops everything it started and removes its files.

By default the cluster is *not started*: the learner's first command is the lesson's
own `minikube start -p mc-demo ...`, exactly as on a real machine, and the start step's
output, addons and version check are part of the practice. `--started` gives a running
cluster at once, for kubectl practice that does not follow a lesson.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from tutor.sandbox.standins import FALLBACK_INGRESS_PORT, can_bind

if TYPE_CHECKING:
    from tutor.sandbox.sandbox import Sandbox

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse would exit the interpreter; main() returns its exit code instead.
        self.print_usage(sys.stderr)
        sys.stderr.write(f"k8s-tutor sandbox: error: {message}\n")
        raise _UsageExit


class _UsageExit(Exception):
    pass


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="k8s-tutor sandbox",
        description="Run k8s-tutor's SIMULATED Kubernetes cluster in the foreground, for kubectl "
        "and minikube practice from another terminal. Nothing leaves this machine.",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=0,
        help="the API server's port on 127.0.0.1 (default: any free one)",
    )
    p.add_argument(
        "--kubeconfig-out",
        metavar="PATH",
        help="also write the kubeconfig to PATH (removed on exit)",
    )
    p.add_argument(
        "--profile",
        default="minikube",
        help="the minikube profile of a --started cluster (default: minikube)",
    )
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--started",
        dest="started",
        action="store_true",
        help="start the cluster at once, as if `minikube start` had run",
    )
    start.add_argument(
        "--not-started",
        dest="started",
        action="store_false",
        help="leave the cluster to the learner's `minikube start` (the default)",
    )
    p.add_argument("--kubernetes-version", metavar="V", help="the version a --started cluster reports")
    p.add_argument(
        "--ingress-port",
        type=_port,
        help="where `minikube tunnel` serves the Ingress (default: 80 if this user may bind it, "
        f"else {FALLBACK_INGRESS_PORT})",
    )
    p.add_argument(
        "--delays",
        choices=("realistic", "instant"),
        default="realistic",
        help="how long pods take to start and stop (default: realistic, so that you can watch them)",
    )
    p.set_defaults(started=False)
    return p


def _say(text: str = "") -> None:
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass


def env_script(sandbox: Sandbox) -> str:
    # The shims carry the control address and token themselves: a shell needs only these.
    assert sandbox.standins is not None
    env = sandbox.env(base={})
    lines = [f"export {name}={shlex.quote(env[name])}" for name in ("KUBECONFIG", "KUBECACHEDIR") if name in env]
    lines.append(f'export PATH={shlex.quote(str(sandbox.standins.shim_dir))}:"$PATH"')
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    try:
        args = parser().parse_args(list(argv))
    except _UsageExit:
        return EXIT_USAGE
    except SystemExit as done:  # --help
        return int(done.code or 0)
    out_path = Path(args.kubeconfig_out).expanduser() if args.kubeconfig_out else None
    if out_path is not None and os.path.lexists(out_path):
        what = "is a symbolic link" if out_path.is_symlink() else "exists"
        sys.stderr.write(f"k8s-tutor sandbox: error: {out_path} {what}; refusing to overwrite it\n")
        return EXIT_USAGE
    if args.port and not can_bind(args.port):
        sys.stderr.write(f"k8s-tutor sandbox: error: port {args.port} on 127.0.0.1 is in use\n")
        return 1

    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        return _run(args, out_path, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace, out_path: Path | None, stop: threading.Event) -> int:
    # Imported here: the API server pulls in aiohttp, which --help does not need.
    from tutor.sandbox import Delays, Sandbox

    delays = Delays.realistic() if args.delays == "realistic" else Delays.instant()
    kwargs = {"kubernetes_version": args.kubernetes_version} if args.kubernetes_version else {}
    try:
        sandbox = Sandbox(
            delays=delays,
            profile=args.profile,
            started=args.started,
            port=args.port,
            ingress_port=args.ingress_port,
            **kwargs,
        )
    except (OSError, ValueError) as error:
        sys.stderr.write(f"k8s-tutor sandbox: error: the sandbox did not start: {error}\n")
        return 1
    copied = False
    try:
        assert sandbox.standins is not None
        script = sandbox.standins.shim_dir.parent / "env.sh"
        script.write_text(env_script(sandbox))
        _banner(sandbox, script, args.started, out_path)
        last = b""
        while not stop.wait(0.3):
            # Keep --kubeconfig-out in step: `minikube start` (re)writes the kubeconfig.
            if out_path is not None and sandbox.kubeconfig.exists():
                current = sandbox.kubeconfig.read_bytes()
                if current != last:
                    _write_private(out_path, current)
                    last, copied = current, True
        _say("")
        _say("k8s-tutor sandbox: stopping; the simulated cluster and its files are gone.")
    finally:
        sandbox.close()
        if copied and out_path is not None:
            out_path.unlink(missing_ok=True)
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """Write a kubeconfig copy (it holds the sandbox's credential): 0600, whole, never through a link.

    A new file with a name no one can guess is written, then renamed over `path`: a symlink
    put at `path` meanwhile is replaced, never followed, and a reader sees all or nothing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _banner(sandbox: Sandbox, script: Path, started: bool, out_path: Path | None = None) -> None:
    si = sandbox.standins
    assert si is not None
    _say("k8s-tutor sandbox: a SIMULATED Kubernetes cluster.")
    _say("  No containers run and nothing leaves this machine: the API server, minikube, the")
    _say("  Pac-Man game, port-forward and tunnel are all played by k8s-tutor on 127.0.0.1.")
    _say("")
    if started:
        _say(f"  Cluster: started, profile {sandbox.profile!r}, API at {sandbox.server_url}")
    else:
        _say("  Cluster: not started yet. Start it as a lesson does, e.g.")
        _say("           minikube start -p mc-demo --addons=volumesnapshots,csi-hostpath-driver")
    if si.ingress_port == 80:
        _say("  Ingress: `minikube tunnel` serves it on 127.0.0.1:80.")
    elif si.ingress_port_reason == "unprivileged":
        _say(
            f"  Ingress: `minikube tunnel` serves it on 127.0.0.1:{si.ingress_port} (ports below 1024 need root here)."
        )
    else:
        _say(f"  Ingress: `minikube tunnel` serves it on 127.0.0.1:{si.ingress_port}.")
    _say("")
    _say("In another terminal, point your shell at the sandbox:")
    _say("")
    for line in env_script(sandbox).splitlines():
        _say("    " + line)
    _say("")
    _say("or, all at once:")
    _say("")
    _say(f"    source {shlex.quote(str(script))}")
    _say("")
    _say(f"The kubeconfig is {sandbox.kubeconfig}. Press Ctrl+C here to stop the sandbox.")
    if out_path is not None:
        _say(
            f"A copy is kept at {out_path} (for `KUBECONFIG={out_path}` or `--kubeconfig {out_path}`), "
            "written once `minikube start` creates the cluster, and removed when the sandbox stops."
        )
    if shutil.which("kubectl", path=sandbox.env()["PATH"]) is None:
        _say("Note: no kubectl was found on PATH; install kubectl to talk to the sandbox.")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
