"""The versions the sandbox reports, in one place so that they agree with each other.

`minikube version`, `minikube start`'s first line, the kubeconfig's `cluster_info` and
`context_info` extensions and the node's `minikube.k8s.io/version` label all say the
same minikube release; the node's `containerRuntimeVersion` and CRI socket follow the
profile's `--container-runtime`, as on a real node. Standard library only: the
`minikube` shim imports this.
"""

from __future__ import annotations

MINIKUBE_VERSION = "v1.38.1"
"""The minikube release the stand-in plays: its oldest supported Kubernetes is v1.28.0."""
MINIKUBE_COMMIT = "k8s-tutor-sandbox"
"""What `minikube version` and the node's `minikube.k8s.io/commit` label give as the commit."""
OLDEST_KUBERNETES = (1, 28, 0)
"""minikube v1.38's oldest supported Kubernetes: older ones exit 106 (K8S_OLD_UNSUPPORTED)."""

DEFAULT_RUNTIME = "docker"
"""minikube's default with the docker driver, and a `Sandbox` started without minikube."""

# runtime -> (the name in containerRuntimeVersion, its version, the node's CRI socket)
RUNTIMES: dict[str, tuple[str, str, str]] = {
    "docker": ("docker", "27.4.1", "unix:///var/run/cri-dockerd.sock"),
    "containerd": ("containerd", "1.7.23", "unix:///run/containerd/containerd.sock"),
    "cri-o": ("cri-o", "1.32.0", "unix:///var/run/crio/crio.sock"),
}
RUNTIME_ALIASES = {"crio": "cri-o"}
"""Other names `--container-runtime` accepts."""


def runtime_info(runtime: str | None) -> tuple[str, str, str]:
    """(name, version, CRI socket) of a `--container-runtime` value; unknown ones: docker's."""
    name = RUNTIME_ALIASES.get(runtime or "", runtime or DEFAULT_RUNTIME)
    return RUNTIMES.get(name, RUNTIMES[DEFAULT_RUNTIME])


def container_runtime_version(runtime: str | None) -> str:
    """The node's `status.nodeInfo.containerRuntimeVersion`, e.g. `containerd://1.7.23`."""
    name, version, _socket = runtime_info(runtime)
    return f"{name}://{version}"
