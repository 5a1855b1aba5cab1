"""k8s-tutor's simulated Kubernetes cluster ("the sandbox").

A Kubernetes-API-compatible HTTP server, the controllers that make it behave like a fresh
minikube cluster, and stand-ins for what is not the API: `minikube`, the Pac-Man game,
`kubectl port-forward`, `minikube tunnel`. The real kubectl and the official kubernetes
client drive it through an ordinary kubeconfig. It binds and reports loopback addresses
only. See docs/sandbox.md for what is simulated and what is not.

The public API (everything else is internal)::

    Sandbox(*, delays=None, profile="minikube", started=True,
            kubernetes_version=DEFAULT_VERSION, container_runtime="docker",
            state_dir=None, port=0, standins=True, ingress_port=None,
            bookmark_interval=10.0, event_log_size=20_000, clock=None)
        The whole simulated cluster, on a thread of its own. A context manager, or
        call close(). started=False: "minikube installed, no cluster yet" (the API
        port refuses until `minikube start` or start_cluster()). standins=False: the
        bare core (API server and controllers), for tests that need no minikube.
        ingress_port: where `minikube tunnel` serves the Ingress (default: 80 when
        this user may bind it, else 18080 or a free port). clock: the cluster's
        time (default time.time); a ManualClock lets a test move it instead of
        sleeping through back-offs, probe periods and CronJob schedules.

    sb.env(base=None) -> dict[str, str]      the environment for a child process:
        base (default os.environ) + KUBECONFIG, KUBECACHEDIR, PATH with the shims
        first, the control endpoint's address and token
    sb.kube_env() -> dict[str, str]          KUBECONFIG and KUBECACHEDIR only
    sb.variable_overrides() -> dict[str, str]  lesson variables the sandbox changes,
        e.g. {"ingress_port": "18080"}; also in the kubeconfig extension
    sb.kubeconfig: Path, sb.server_url: str (https), sb.port: int, sb.running: bool,
    sb.profile: str, sb.state_dir: Path
    sb.credentials: Credentials   the bearer token of the kubeconfig (admin_token) and
        the service account token key; never logged
    sb.certificate_authority: str, sb.certificate_authority_file: Path
        the API server's own certificate (PEM), the kubeconfig's only authority
    sb.start_cluster(profile=None, kubernetes_version=None, *,
                     container_runtime=None, mark_default_storageclass=True)
    sb.stop_cluster()                        objects are kept
    sb.delete_cluster()                      everything goes; the next start is fresh
    sb.wait_idle(timeout=10.0)               until no controller work is pending
    sb.close()
    sb.store: Store       the objects (its docstring is the contract)
    sb.faults: Faults     fault rules: failing requests, failing images
    sb.drop_watches(), sb.expire_watch_cache(), sb.pause_requests(),
    sb.resume_requests(), sb.stop_listening(), sb.start_listening(new_port=False)
                          test controls acting on the running cluster
    sb.requests: RequestLog, sb.log_provider, sb.hot_objects(threshold)
    sb.standins: StandIns | None   shim_dir, ingress_port, apps, databases (tests, tools)

    Delays.instant(), Delays.realistic()     how long pods, volumes... take
    ManualClock(start=None)                  a clock that moves only by advance(seconds)
    sandbox_extension(config, context=None) -> dict | None, EXTENSION_NAME
        the kubeconfig extension that marks a context as the sandbox's
    ApiError, Store, WatchEvent, Faults, RequestLog, RequestRecord, DEFAULT_VERSION

For example, the lesson's first steps as the tutor runs them::

    with Sandbox(delays=Delays.realistic(), started=False, profile="mc-demo") as sb:
        env = sb.env()
        subprocess.run(["minikube", "start", "-p", "mc-demo"], env=env)   # the stand-in
        subprocess.run(["kubectl", "get", "nodes"], env=env)              # the real kubectl
        variables = sb.variable_overrides()

The names are imported on first use: every `minikube` or `kubectl port-forward` that the
shims run imports this package, and must not pay ~0.2 s for the API server (aiohttp) it
never uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.sandbox.clock import ManualClock
    from tutor.sandbox.delays import Delays
    from tutor.sandbox.errors import ApiError
    from tutor.sandbox.faults import Faults
    from tutor.sandbox.kubeconfig import EXTENSION_NAME, sandbox_extension
    from tutor.sandbox.requestlog import RequestLog, RequestRecord
    from tutor.sandbox.sandbox import DEFAULT_VERSION, Sandbox
    from tutor.sandbox.store import Store, WatchEvent

# name -> the module that defines it
_EXPORTS = {
    "DEFAULT_VERSION": "tutor.sandbox.sandbox",
    "EXTENSION_NAME": "tutor.sandbox.kubeconfig",
    "ApiError": "tutor.sandbox.errors",
    "Delays": "tutor.sandbox.delays",
    "Faults": "tutor.sandbox.faults",
    "ManualClock": "tutor.sandbox.clock",
    "RequestLog": "tutor.sandbox.requestlog",
    "RequestRecord": "tutor.sandbox.requestlog",
    "Sandbox": "tutor.sandbox.sandbox",
    "Store": "tutor.sandbox.store",
    "WatchEvent": "tutor.sandbox.store",
    "sandbox_extension": "tutor.sandbox.kubeconfig",
}

__all__ = [
    "DEFAULT_VERSION",
    "EXTENSION_NAME",
    "ApiError",
    "Delays",
    "Faults",
    "ManualClock",
    "RequestLog",
    "RequestRecord",
    "Sandbox",
    "Store",
    "WatchEvent",
    "sandbox_extension",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
