"""Every command the tutor runs acts on the session's one cluster: the run layer's CommandPolicy.

The learner sees each command as they would type it; what runs is that command, kept on
the cluster the session watches and the header names, whatever `KUBECONFIG`, the
current context or another terminal say:

- every program gets `KUBECONFIG` set to the session kubeconfig (`cluster.pin`), which
  holds only the session's context; helm also gets `HELM_KUBECONTEXT` set to it and
  `HELM_KUBEAPISERVER` emptied;
- `minikube` acts on the lesson's profile: `-p PROFILE` is added when the command names
  none, and a command that names another profile is refused. It gets the learner's own
  kubeconfig, because `minikube start` must write its context where the learner's
  kubectl finds it; the session follows that context when it appears or moves;
- against a sandbox, `minikube` and `kubectl` are the sandbox's own stand-ins, from the
  folder its kubeconfig names, and only once that folder is proven to be k8s-tutor's
  (`tutor.provenance`); otherwise minikube commands are refused rather than run on a
  real minikube (kubectl then is the learner's own, on the session kubeconfig);
- flags that would send a command elsewhere (`kubectl --kubeconfig/--context/--cluster/
  --user/--server`, `helm --kubeconfig/--kube-context/--kube-apiserver`) are refused;
- a server on this machine that is not a loopback address (a minikube VM) is added to
  `NO_PROXY`, so a proxy from the environment cannot carry the commands elsewhere;
- while the session's context is one the guard refuses (it was repointed off this
  machine meanwhile), nothing runs.

Before each command the kubeconfig is read again (`ClusterConnection.refresh`), so a
command that follows `minikube start` finds the context it just created.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from tutor.cluster.connection import ClusterConnection
from tutor.cluster.locality import Endpoint
from tutor.run import CommandRefused, Prepared

REDIRECTING_FLAGS = {
    "kubectl": ("--kubeconfig", "--context", "--cluster", "--user", "--server", "-s"),
    "helm": ("--kubeconfig", "--kube-context", "--kube-apiserver"),
}
PROFILE_FLAGS = ("-p", "--profile")


class ClusterCommands:
    def __init__(self, connection: ClusterConnection, *, profile: str) -> None:
        if connection.pin is None:
            raise ValueError("the connection keeps no session kubeconfig (ClusterConnection(pin=True))")
        self.connection = connection
        self.pin = connection.pin
        self.profile = profile

    def prepare(self, argv: tuple[str, ...]) -> Prepared:
        status = self.connection.refresh()
        program = os.path.basename(argv[0])
        if status.state == "refused":
            raise CommandRefused(f"{program} was not run: {status.message}")
        flag = redirecting_flag(program, argv[1:])
        if flag is not None:
            raise CommandRefused(
                f"{program} was not run: {flag} would send it to another cluster than the session's "
                f"({self._where()}); k8s-tutor runs commands only there"
            )
        env = {"KUBECONFIG": str(self.pin.path), "HELM_KUBEAPISERVER": ""}
        if self.pin.context is not None:
            env["HELM_KUBECONTEXT"] = self.pin.context
        env.update(self._no_proxy())
        if program == "minikube":
            return self._minikube(argv, env)
        info = self.connection.info
        prefix = (info.sandbox_bin,) if info is not None and info.sandbox_bin else ()
        return Prepared(argv, env, prefix)

    def _minikube(self, argv: tuple[str, ...], env: dict[str, str]) -> Prepared:
        named = profile_of(argv[1:])
        if named is not None and named != self.profile:
            raise CommandRefused(
                f"minikube was not run: it names the profile {named!r}, and this lesson's commands act on "
                f"its own profile, {self.profile!r}"
            )
        info = self.connection.info
        prefix: tuple[str, ...] = ()
        if info is not None and info.is_sandbox:
            if info.sandbox_bin is None:
                problem = info.sandbox_bin_problem or "the kubeconfig names no stand-in minikube for it"
                raise CommandRefused(
                    f"minikube was not run: the session's cluster is a k8s-tutor sandbox, and {problem}; "
                    "run the command in a shell set up by `k8s-tutor sandbox` instead"
                )
            prefix = (info.sandbox_bin,)
        env["KUBECONFIG"] = os.pathsep.join(str(path) for path in self.connection.source.paths)
        if named is None:
            argv = (argv[0], "-p", self.profile, *argv[1:])
        return Prepared(argv, env, prefix)

    def _where(self) -> str:
        info = self.connection.info
        return f"context {info.name} at {info.server}" if info is not None else "no cluster yet"

    def _no_proxy(self) -> dict[str, str]:
        info = self.connection.info
        endpoint = Endpoint.parse(info.server) if info is not None and info.is_local else None
        if endpoint is None or endpoint.ip is None or endpoint.ip.is_loopback:
            return {}
        current = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
        value = ",".join(part for part in (current, endpoint.host) if part)
        return {"NO_PROXY": value, "no_proxy": value}


def redirecting_flag(program: str, args: Sequence[str]) -> str | None:
    """The first flag in `args` (before `--`) that would point `program` at another cluster."""
    flags = REDIRECTING_FLAGS.get(program, ())
    for arg in args:
        if arg == "--":
            return None
        for flag in flags:
            if arg == flag or arg.startswith(flag + "="):
                return flag
            if flag == "-s" and arg.startswith("-s") and not arg.startswith("--"):
                return flag
    return None


def profile_of(args: Sequence[str]) -> str | None:
    """The profile a minikube command line names (`-p X`, `-pX`, `--profile X`, `--profile=X`)."""
    for index, arg in enumerate(args):
        if arg == "--":
            return None
        for flag in PROFILE_FLAGS:
            if arg == flag:
                return args[index + 1] if index + 1 < len(args) else ""
            if arg.startswith(flag + "="):
                return arg[len(flag) + 1 :]
        if arg.startswith("-p") and not arg.startswith("--") and len(arg) > 2:
            return arg[2:]
    return None
