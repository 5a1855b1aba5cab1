"""Every namespace gets the ``default`` ServiceAccount and the ``kube-root-ca.crt`` ConfigMap,
which holds the cluster's CA certificate: the one the API server's certificate verifies
against, as the kubeconfig's ``certificate-authority`` is."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.store import WatchEvent

ROOT_CA_NAME = "kube-root-ca.crt"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)


class ServiceAccountController(Controller):
    name = "serviceaccount"
    watches = ("namespaces", "serviceaccounts", "configmaps")

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "namespaces":
            return [("", event.name)]
        if event.name == ROOT_CA_NAME and event.resource == "configmaps":
            return [("", event.namespace)]  # as the root CA publisher, put back what was changed
        if event.type == "DELETED" and event.name == "default" and event.resource == "serviceaccounts":
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
        data = {"ca.crt": self.cluster.root_ca}
        current = self.store.peek("configmaps", name, ROOT_CA_NAME)
        if current is None:
            self.store.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": ROOT_CA_NAME,
                        "namespace": name,
                        "annotations": {"kubernetes.io/description": DESCRIPTION},
                    },
                    "data": data,
                },
                resource="configmaps",
            )
        elif current.get("data") != data:
            self.store.patch("configmaps", name, ROOT_CA_NAME, {"data": data})
        return None
