"""Reading the kubeconfig the way kubectl does, for the stand-in commands.

`$KUBECONFIG` is a list of files; for each map (contexts, clusters) the first file
that names an entry wins, and the first `current-context` set wins. `--kubeconfig`
replaces the list; `--context` picks another context. A context's cluster is the
sandbox's when it carries the `k8s-tutor-sandbox` extension the sandbox writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXTENSION = "k8s-tutor-sandbox"


class KubeconfigError(Exception):
    pass


@dataclass
class Context:
    name: str | None
    namespace: str = "default"
    cluster: dict[str, Any] = field(default_factory=dict)
    current_context: str | None = None

    @property
    def extension(self) -> dict[str, Any] | None:
        for ext in self.cluster.get("extensions") or []:
            if isinstance(ext, dict) and ext.get("name") == EXTENSION:
                value = ext.get("extension")
                return value if isinstance(value, dict) else {}
        return None

    @property
    def is_sandbox(self) -> bool:
        return self.extension is not None


def _files(kubeconfig: str | None) -> list[Path]:
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def load(kubeconfig: str | None = None, context: str | None = None) -> Context:
    contexts: dict[str, dict[str, Any]] = {}
    clusters: dict[str, dict[str, Any]] = {}
    current: str | None = None
    for path in _files(kubeconfig):
        try:
            text = path.read_text()
        except FileNotFoundError:
            if kubeconfig:
                raise KubeconfigError(f"stat {path}: no such file or directory") from None
            continue
        except OSError as error:
            raise KubeconfigError(f"{path}: {error}") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise KubeconfigError(f'error loading config file "{path}": {error}') from None
        if not isinstance(data, dict):
            continue
        for entry in data.get("contexts") or []:
            if isinstance(entry, dict) and entry.get("name") and entry["name"] not in contexts:
                contexts[entry["name"]] = entry.get("context") or {}
        for entry in data.get("clusters") or []:
            if isinstance(entry, dict) and entry.get("name") and entry["name"] not in clusters:
                clusters[entry["name"]] = entry.get("cluster") or {}
        if current is None and data.get("current-context"):
            current = str(data["current-context"])
    name = context or current
    if name is None:
        return Context(None, current_context=current)
    ctx = contexts.get(name)
    if ctx is None:
        if context:
            raise KubeconfigError(f'context "{context}" does not exist')
        return Context(name, current_context=current)
    return Context(
        name,
        namespace=str(ctx.get("namespace") or "default"),
        cluster=clusters.get(str(ctx.get("cluster") or ""), {}),
        current_context=current,
    )
