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
"""

from tutor.sandbox.delays import Delays
from tutor.sandbox.errors import ApiError
from tutor.sandbox.faults import Faults
from tutor.sandbox.kubeconfig import EXTENSION_NAME, sandbox_extension
from tutor.sandbox.requestlog import RequestLog, RequestRecord
from tutor.sandbox.sandbox import DEFAULT_VERSION, Sandbox
from tutor.sandbox.store import Store, WatchEvent

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
