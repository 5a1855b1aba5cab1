"""minikube's addons: the catalogue (``data/addons.yaml``) and the objects of the simulated
ones (``data/addons/<name>.yaml``).

Each simulated addon is the list of Kubernetes objects written from what the real addon's
manifests create (names, namespaces, labels, images), trimmed to what a learner or a
check can see: ``kubectl get``, the labels minikube verifies pods by, the StorageClass
and IngressClass the lesson relies on. RBAC objects are kept because ``kubectl get
clusterrole`` shows them; admission webhooks are created but nothing in the sandbox
enforces them. Files are parsed once per process; callers get fresh copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from tutor.sandbox.datafiles import DATA, load_yaml, load_yaml_all
from tutor.sandbox.objects import clone

Obj = dict[str, Any]

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
INGRESS_NS = "ingress-nginx"
INGRESS_CONTROLLER_LABELS = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/instance": "ingress-nginx",
    "app.kubernetes.io/component": "controller",
}


@dataclass(frozen=True)
class PodCheck:
    """Pods the enable command waits for, like minikube's "Verifying ... addon..."."""

    namespace: str
    selector: dict[str, str]
    count: int


@dataclass(frozen=True)
class Addon:
    name: str
    maintainer: str
    images: tuple[str, ...] = ()
    verify: tuple[PodCheck, ...] = ()
    default_enabled: bool = False
    doc: str = ""
    #: Whether the sandbox creates its objects (it has a file in data/addons/).
    simulated: bool = False


def _catalogue() -> dict[str, Addon]:
    addons = {}
    for entry in load_yaml("addons.yaml"):
        addon = Addon(
            name=str(entry["name"]),
            maintainer=str(entry["maintainer"]),
            images=tuple(str(i) for i in entry.get("images") or ()),
            verify=tuple(
                PodCheck(str(v["namespace"]), {str(k): str(x) for k, x in v["selector"].items()}, int(v["count"]))
                for v in entry.get("verify") or ()
            ),
            default_enabled=bool(entry.get("default_enabled", False)),
            doc=str(entry.get("doc") or ""),
            simulated=(DATA / "addons" / f"{entry['name']}.yaml").is_file(),
        )
        addons[addon.name] = addon
    return addons


ADDONS: dict[str, Addon] = _catalogue()
SIMULATED = tuple(sorted(name for name, addon in ADDONS.items() if addon.simulated))


@cache
def _objects(name: str) -> tuple[Obj, ...]:
    return tuple(load_yaml_all(f"addons/{name}.yaml"))


def objects_for(name: str) -> list[Obj]:
    """The simulated addon's objects, in the order they are created (fresh copies)."""
    if not ADDONS[name].simulated:
        raise KeyError(f"{name} is not a simulated addon")
    return [clone(obj) for obj in _objects(name)]


def standard_storageclass() -> Obj:
    """The ``standard`` StorageClass of the default-storageclass addon."""
    return objects_for("default-storageclass")[0]
