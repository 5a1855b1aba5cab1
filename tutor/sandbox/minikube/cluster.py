"""What `minikube` does to the sandbox: profiles, start/stop/delete, addons.

This side runs in the sandbox's process (behind the control endpoint); the command the
learner types (`tutor.sandbox.minikube.cli`) asks it to act and prints minikube's
lines. The sandbox simulates one cluster, so it holds at most one profile at a time;
starting another while one exists says so plainly.

Behaviour kept from minikube because the lesson teaches or warns about it:
- a fresh profile has the `default-storageclass` and `storage-provisioner` addons on;
- `start` of an existing profile re-applies the enabled addons, and the
  `default-storageclass` addon marks `standard` as the default StorageClass and every
  other class as not default, undoing the lesson's patch (minikube#14745);
- disabling `default-storageclass` deletes `standard`;
- an addon's objects are created through the store as `kubectl apply` of the addon's
  manifests would, and removed again on disable.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tutor.sandbox.errors import ApiError
from tutor.sandbox.minikube import addons as catalog
from tutor.sandbox.objects import Obj, condition, is_deleting
from tutor.sandbox.store import Store
from tutor.sandbox.versions import DEFAULT_RUNTIME

log = logging.getLogger(__name__)

DEFAULT_PROFILE = "minikube"


class ClusterHost(Protocol):
    """What the stand-ins need from the core's `Sandbox`."""

    @property
    def store(self) -> Store: ...

    def start_cluster(
        self,
        profile: str | None = None,
        kubernetes_version: str | None = None,
        *,
        container_runtime: str | None = None,
        mark_default_storageclass: bool = True,
    ) -> Any: ...

    def stop_cluster(self) -> Any: ...

    def delete_cluster(self) -> Any: ...


class UnknownProfile(Exception):
    """No profile of this name: the command prints minikube's 'Profile not found' (85)."""


class MinikubeError(Exception):
    def __init__(self, reason: str, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.exit_code = exit_code


@dataclass
class Profile:
    name: str
    kubernetes_version: str
    container_runtime: str = DEFAULT_RUNTIME
    driver: str = "docker"
    apiserver_port: int = 8443
    running: bool = True
    addons: dict[str, bool] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kubernetes_version": self.kubernetes_version,
            "container_runtime": self.container_runtime,
            "driver": self.driver,
            "apiserver_port": self.apiserver_port,
            "running": self.running,
            "addons": dict(sorted(self.addons.items())),
        }


def resource_key(obj: Obj) -> str:
    api_version = str(obj["apiVersion"])
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    plural = {
        "Namespace": "namespaces",
        "ServiceAccount": "serviceaccounts",
        "ConfigMap": "configmaps",
        "Service": "services",
        "Pod": "pods",
        "Deployment": "deployments",
        "StatefulSet": "statefulsets",
        "Job": "jobs",
        "DaemonSet": "daemonsets",
        "ClusterRole": "clusterroles",
        "ClusterRoleBinding": "clusterrolebindings",
        "Role": "roles",
        "RoleBinding": "rolebindings",
        "StorageClass": "storageclasses",
        "CSIDriver": "csidrivers",
        "IngressClass": "ingressclasses",
        "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
        "CustomResourceDefinition": "customresourcedefinitions",
        "VolumeSnapshotClass": "volumesnapshotclasses",
    }[str(obj["kind"])]
    return f"{plural}.{group}" if group else plural


class Minikube:
    """The profiles of the one simulated machine, and what each command does to them."""

    def __init__(
        self,
        host: ClusterHost,
        *,
        default_version: str,
        existing: str | None = None,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.host = host
        self.default_version = default_version
        #: Called after the cluster was started, stopped or deleted.
        self.on_change = on_change
        self._lock = threading.RLock()
        self.profiles: dict[str, Profile] = {}
        if existing is not None:
            # A sandbox made already started: as if `minikube start -p NAME` had run.
            self.profiles[existing] = Profile(
                existing,
                default_version,
                addons={n: a.default_enabled for n, a in catalog.ADDONS.items() if a.default_enabled},
            )

    @property
    def store(self) -> Store:
        return self.host.store

    def profile(self, name: str) -> Profile:
        with self._lock:
            if name not in self.profiles:
                raise UnknownProfile(name)
            return self.profiles[name]

    # ---- lifecycle ---------------------------------------------------------------

    def start(
        self,
        name: str,
        *,
        kubernetes_version: str | None,
        container_runtime: str | None,
        apiserver_port: int | None,
        addons: list[str],
    ) -> dict[str, Any]:
        """Create or restart the profile. Returns what happened, for the command to print."""
        with self._lock:
            unknown = [a for a in addons if a not in catalog.ADDONS]
            if unknown:
                raise MinikubeError("MK_ADDON_ENABLE", f"enable failed: {unknown[0]} is not a valid addon", 10)
            others = [p for p in self.profiles if p != name]
            if others:
                raise MinikubeError(
                    "MK_USAGE",
                    f'the sandbox simulates one cluster at a time, and profile "{others[0]}" '
                    "exists. "
                    f"Delete it first: minikube delete -p {others[0]}",
                    14,
                )
            existing = self.profiles.get(name)
            state = "created" if existing is None else ("running" if existing.running else "restarted")
            if existing is None:
                profile = Profile(
                    name,
                    kubernetes_version or self.default_version,
                    container_runtime or DEFAULT_RUNTIME,
                    apiserver_port=apiserver_port or 8443,
                    addons={n: a.default_enabled for n, a in catalog.ADDONS.items() if a.default_enabled},
                )
            else:
                profile = existing
            if existing is None or not existing.running:
                try:
                    self.host.start_cluster(
                        profile=name,
                        kubernetes_version=profile.kubernetes_version,
                        container_runtime=profile.container_runtime,
                        # minikube re-marks `standard` on start only while the addon is on.
                        mark_default_storageclass=profile.addons.get("default-storageclass", False),
                    )
                except ValueError as error:
                    # The core holds one cluster per sandbox.
                    raise MinikubeError("MK_USAGE", f"sandbox: {error}", 14) from None
            profile.running = True
            self.profiles[name] = profile
            self.on_change()
            for addon in addons:
                profile.addons[addon] = True
            enabled = [a for a, on in profile.addons.items() if on]
            for addon in _enable_order(enabled):
                self._apply(addon)
            return {
                "state": state,
                "profile": profile.to_json(),
                "version_ignored": bool(
                    existing is not None and kubernetes_version and kubernetes_version != existing.kubernetes_version
                ),
                "enabled": _enable_order(enabled),
                "verify": [a for a in _enable_order(enabled) if catalog.ADDONS[a].verify],
                "images": {a: list(catalog.ADDONS[a].images) for a in addons},
            }

    def stop(self, name: str) -> dict[str, Any]:
        with self._lock:
            profile = self.profile(name)
            was_running = profile.running
            if was_running:
                self.host.stop_cluster()
                profile.running = False
                self.on_change()
            return {"was_running": was_running, "profile": profile.to_json()}

    def delete(self, name: str) -> dict[str, Any]:
        with self._lock:
            profile = self.profiles.pop(name, None)
            if profile is None:
                return {"existed": False}
            # The port closes, every object goes, the kubeconfig forgets the context: a
            # later `minikube start` (of this profile or another) makes a fresh cluster.
            self.host.delete_cluster()
            self.on_change()
            return {"existed": True, "profile": profile.to_json()}

    def forget(self, name: str) -> None:
        """The cluster went without `minikube delete` (`Sandbox.delete_cluster()` called
        directly): the profile goes too, as it would have."""
        with self._lock:
            if self.profiles.pop(name, None) is not None:
                self.on_change()

    # ---- addons ------------------------------------------------------------------

    def enable(self, name: str, addon: str) -> dict[str, Any]:
        with self._lock:
            profile = self._running(name)
            spec = catalog.ADDONS.get(addon)
            if spec is None:
                raise MinikubeError("MK_ADDON_ENABLE", f"enable failed: {addon} is not a valid addon", 10)
            if not spec.simulated:
                raise MinikubeError(
                    "MK_ADDON_ENABLE",
                    f"sandbox: the '{addon}' addon is not simulated; the sandbox simulates "
                    + ", ".join(catalog.SIMULATED),
                    10,
                )
            profile.addons[addon] = True
            self._apply(addon)
            return {
                "images": list(spec.images),
                "verify": bool(spec.verify),
                "needs_volumesnapshots": addon == "csi-hostpath-driver"
                and not profile.addons.get("volumesnapshots", False),
                "maintainer": spec.maintainer,
            }

    def disable(self, name: str, addon: str) -> dict[str, Any]:
        with self._lock:
            profile = self._running(name)
            spec = catalog.ADDONS.get(addon)
            if spec is None:
                raise MinikubeError("MK_ADDON_DISABLE", f"disable failed: {addon} is not a valid addon", 10)
            profile.addons[addon] = False
            if spec.simulated:
                self._remove(addon)
            return {}

    def addon_pods_ready(self, addon: str) -> tuple[bool, str]:
        """Whether the addon's pods are ready, and what is still missing if not."""
        for check in catalog.ADDONS[addon].verify:
            selector = ",".join(f"{k}={v}" for k, v in check.selector.items())
            pods = [p for p in self.store.list("pods", check.namespace, label_selector=selector) if not is_deleting(p)]
            ready = [p for p in pods if (condition(p, "Ready") or {}).get("status") == "True"]
            if len(ready) < check.count:
                return (
                    False,
                    f"{len(ready)}/{check.count} pods ready in {check.namespace} ({selector})",
                )
        return True, ""

    def _running(self, name: str) -> Profile:
        profile = self.profile(name)
        if not profile.running:
            raise MinikubeError(
                "GUEST_STATUS",
                "The control plane node must be running for this command\n  To fix this, run: "
                f'"minikube start -p {name}"',
                80,
            )
        return profile

    def _apply(self, addon: str) -> None:
        if addon == "default-storageclass":
            self._set_default_storageclass()
            return
        for obj in catalog.objects_for(addon):
            self._ensure(obj)

    def _ensure(self, obj: Obj) -> None:
        key = resource_key(obj)
        if self.store.registry.get(key) is None:
            # A custom resource: wait for its CRD (created just before) to be established.
            deadline = time.monotonic() + 5
            while self.store.registry.get(key) is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if self.store.registry.get(key) is None:
                log.warning(
                    "sandbox: %s %s skipped: its CRD is not served",
                    obj["kind"],
                    obj["metadata"]["name"],
                )
                return
        meta = obj["metadata"]
        if self.store.get(key, meta.get("namespace", ""), meta["name"]) is not None:
            return
        try:
            self.store.create(obj, resource=key)
        except ApiError as error:
            log.warning("sandbox: addon object %s/%s not created: %s", key, meta["name"], error)

    def _remove(self, addon: str) -> None:
        if (
            addon == "default-storageclass"
            and self.store.get("storageclasses.storage.k8s.io", "", "standard") is not None
        ):
            self._annotate_default("standard", "false")
        for obj in reversed(catalog.objects_for(addon)):
            key = resource_key(obj)
            if self.store.registry.get(key) is None:
                continue
            meta = obj["metadata"]
            # Already gone is fine: disabling twice is not an error.
            with contextlib.suppress(ApiError):
                self.store.delete(key, meta.get("namespace", ""), meta["name"])

    def _annotate_default(self, name: str, value: str) -> None:
        self.store.patch(
            "storageclasses.storage.k8s.io",
            "",
            name,
            {"metadata": {"annotations": {catalog.DEFAULT_CLASS_ANNOTATION: value}}},
        )

    def _set_default_storageclass(self) -> None:
        """minikube's SetDefaultStorageClass: `standard` true, every other class false."""
        if self.store.get("storageclasses.storage.k8s.io", "", "standard") is None:
            self._ensure(catalog.standard_storageclass())
        for sc in self.store.list("storageclasses.storage.k8s.io"):
            name = sc["metadata"]["name"]
            wanted = "true" if name == "standard" else "false"
            annotations = sc["metadata"].get("annotations") or {}
            if annotations.get(catalog.DEFAULT_CLASS_ANNOTATION) != wanted:
                self._annotate_default(name, wanted)


def _enable_order(addons: list[str]) -> list[str]:
    """The order minikube reports addons in: storage first, then as given, no repeats."""
    first = [a for a in ("storage-provisioner", "default-storageclass") if a in addons]
    return first + [a for a in dict.fromkeys(addons) if a not in first]
