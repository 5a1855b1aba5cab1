"""Every namespace gets the ``default`` ServiceAccount and the ``kube-root-ca.crt`` ConfigMap."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.store import WatchEvent

# Not the API server's certificate (no pod connects to the API): pods only see that it exists.
ROOT_CA = (
    "-----BEGIN CERTIFICATE-----\n"
    "azhzLXR1dG9yIHNhbmRib3g6IHRoaXMgaXMgbm90IGEgcmVhbCBjZXJ0aWZpY2F0ZQ==\n"
    "-----END CERTIFICATE-----\n"
)


class ServiceAccountController(Controller):
    name = "serviceaccount"
    watches = ("namespaces", "serviceaccounts", "configmaps")

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "namespaces":
            return [("", event.name)]
        if event.type == "DELETED" and event.name in ("default", "kube-root-ca.crt"):
            return [("", event.namespace)]
        return []

    def reconcile(self, key: Key) -> float | None:
        name = key[1]
        ns = self.store.peek("namespaces", "", name)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return None
        if self.store.peek("serviceaccounts", name, "default") is None:
            self.store.create(
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": name},
                },
                resource="serviceaccounts",
            )
        if self.store.peek("configmaps", name, "kube-root-ca.crt") is None:
            self.store.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": "kube-root-ca.crt",
                        "namespace": name,
                        "annotations": {
                            "kubernetes.io/description": "Contains a CA bundle that can be used "
                            "to verify the "
                            "kube-apiserver when using internal endpoints such as the internal "
                            "service IP or "
                            "kubernetes.default.svc. No other usage is guaranteed across "
                            "distributions of Kubernetes clusters."
                        },
                    },
                    "data": {"ca.crt": ROOT_CA},
                },
                resource="configmaps",
            )
        return None
