"""k8s-tutor: learn Kubernetes hands-on from a terminal."""

__version__ = "0.1.0"
