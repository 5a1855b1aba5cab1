"""k8s-tutor's simulated Kubernetes cluster ("the sandbox").

A Kubernetes-API-compatible HTTP server on 127.0.0.1 plus the controllers that make it
behave like a fresh minikube cluster, so that the real ``kubectl`` and the official
``kubernetes`` client can drive it through an ordinary kubeconfig::

    from tutor.sandbox import Sandbox, Delays

    with Sandbox(delays=Delays.instant(), profile="mc-demo") as sb:
        env = {**os.environ, **sb.env()}          # KUBECONFIG, KUBECACHEDIR
        subprocess.run(["kubectl", "get", "nodes"], env=env)
        sb.store.get("nodes", "", "mc-demo")      # the object store (see store.py)
        sb.faults.fail("GET", "/api/v1/pods", status=500)
        sb.wait_idle()

See docs/sandbox.md for what is simulated and what is not.

The names below are imported on first use: every `minikube` or `kubectl port-forward`
that the stand-in shims run imports this package, and must not pay ~0.2 s for the API
server (aiohttp) it never uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
