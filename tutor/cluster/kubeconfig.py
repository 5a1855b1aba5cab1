"""Reading the kubeconfig as kubectl does, and saying what kind of cluster a context is.

kubectl's rules, kept here because the tutor must act on the same cluster kubectl
does: `--kubeconfig PATH` alone if given; else every file of `KUBECONFIG` (joined by
`os.pathsep`; missing files skipped), where the first file to define a name or the
current context wins; else `~/.kube/config`. Relative certificate and key paths are
relative to the file that names them. `--context` picks the context, else
`current-context`.

This module only reads files (no kubernetes client, no network): the context guard
decides on what it returns before anything connects.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

MINIKUBE_PROVIDER = "minikube.sigs.k8s.io"
SANDBOX_EXTENSION = "k8s-tutor-sandbox"
NAMED_LOCAL_KINDS = (
    ("kind-", "kind"),
    ("k3d-", "k3d"),
)
EXACT_LOCAL_NAMES = {
    "docker-desktop": "docker-desktop",
    "docker-for-desktop": "docker-desktop",
    "rancher-desktop": "rancher-desktop",
    "orbstack": "orbstack",
    "minikube": "minikube",
}
_PATH_KEYS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}

NO_CLUSTER_HINT = "no cluster yet: run the first step (minikube start)"


class KubeconfigProblem(Exception):
    """The kubeconfig cannot give a cluster; the message says why and what to do."""


class NoCluster(KubeconfigProblem):
    """No kubeconfig, no contexts, or no current context: nothing to connect to yet."""


class BadKubeconfig(KubeconfigProblem):
    """A kubeconfig that cannot be read, or a context that does not hold together."""


@dataclass(frozen=True)
class Source:
    """Where the kubeconfig comes from: the files, in kubectl's order, and the context asked for."""

    paths: tuple[Path, ...]
    context: str | None = None
    explicit_file: bool = False
    """--kubeconfig was given: that file must exist."""

    @classmethod
    def resolve(cls, kubeconfig: Path | str | None = None, context: str | None = None) -> Source:
        if kubeconfig:
            return cls((Path(kubeconfig).expanduser(),), context, explicit_file=True)
        env = os.environ.get("KUBECONFIG", "")
        if env.strip():
            return cls(tuple(Path(part).expanduser() for part in env.split(os.pathsep) if part), context)
        return cls((Path("~/.kube/config").expanduser(),), context)

    def describe(self) -> str:
        return os.pathsep.join(str(path) for path in self.paths)


@dataclass(frozen=True)
class ContextInfo:
    name: str
    cluster: str
    user: str | None
    server: str
    namespace: str | None = None
    local_kind: str | None = None
    """minikube, kind, k3d, docker-desktop, rancher-desktop, orbstack, sandbox, loopback; None: not local."""
    minikube_profile: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    """Lesson-variable overrides the sandbox puts in its kubeconfig (e.g. ingress_port)."""
    files: tuple[Path, ...] = ()
    sandbox_bin: str | None = None
    """The sandbox's `minikube` and `kubectl` stand-ins: a folder to put first on PATH."""

    @property
    def is_local(self) -> bool:
        return self.local_kind is not None

    @property
    def is_sandbox(self) -> bool:
        return self.local_kind == "sandbox"

    @property
    def server_host(self) -> str:
        return urlsplit(self.server).hostname or ""

    def describe(self) -> str:
        what = {
            "minikube": f"minikube profile {self.minikube_profile or self.name}",
            "sandbox": "the k8s-tutor sandbox (simulated)",
            "loopback": "a cluster on this machine",
            None: "a cluster",
        }.get(self.local_kind, self.local_kind or "a cluster")
        return f"context {self.name}: {what} at {self.server}"


@dataclass(frozen=True)
class Loaded:
    """A kubeconfig merged as kubectl merges it, and the chosen context."""

    config: dict[str, Any]
    """For `kubernetes.config.new_client_from_config_dict` (relative paths made absolute)."""
    info: ContextInfo
    source: Source


def load(source: Source) -> Loaded:
    """Read and merge the files, pick the context, describe it. Raises KubeconfigProblem."""
    existing = [path for path in source.paths if path.is_file()]
    if source.explicit_file and not existing:
        raise NoCluster(f"{NO_CLUSTER_HINT} (the kubeconfig {source.paths[0]} does not exist)")
    if not existing:
        raise NoCluster(f"{NO_CLUSTER_HINT} (no kubeconfig at {source.describe()})")
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": [], "current-context": ""}
    seen: dict[str, set[str]] = {"clusters": set(), "contexts": set(), "users": set()}
    for path in existing:
        data = _read(path)
        for section, item_key in (("clusters", "cluster"), ("contexts", "context"), ("users", "user")):
            for entry in data.get(section) or []:
                if not isinstance(entry, Mapping) or not entry.get("name") or entry["name"] in seen[section]:
                    continue
                seen[section].add(str(entry["name"]))
                merged[section].append(_absolute(entry, item_key, path.parent))
        if not merged["current-context"] and data.get("current-context"):
            merged["current-context"] = str(data["current-context"])
    name = source.context or merged["current-context"]
    if not name:
        if not merged["contexts"]:
            raise NoCluster(f"{NO_CLUSTER_HINT} (the kubeconfig has no contexts)")
        raise NoCluster(
            "the kubeconfig has no current context: pick one with --context or `kubectl config use-context`"
        )
    context = _named(merged["contexts"], name, "context")
    if context is None:
        known = ", ".join(str(entry["name"]) for entry in merged["contexts"]) or "none"
        if source.context:
            raise NoCluster(
                f"{NO_CLUSTER_HINT}: there is no context {name!r} in {source.describe()} yet (contexts: {known})"
            )
        raise NoCluster(f"{NO_CLUSTER_HINT} (the current context {name!r} is not defined)")
    ctx_body = _body(context, "context")
    cluster_name = str(ctx_body.get("cluster") or "")
    cluster = _named(merged["clusters"], cluster_name, "cluster")
    if cluster is None:
        raise BadKubeconfig(
            f"context {name!r} names the cluster {cluster_name!r}, which the kubeconfig does not define"
        )
    cluster_body = _body(cluster, "cluster")
    server = str(cluster_body.get("server") or "")
    if not server:
        raise BadKubeconfig(f"the cluster {cluster_name!r} of context {name!r} has no server address")
    merged["current-context"] = name
    info = describe(name, cluster_name, ctx_body, cluster_body, server, tuple(existing))
    return Loaded(merged, info, source)


def _body(entry: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = entry.get(key)
    return value if isinstance(value, Mapping) else {}


def _read(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise BadKubeconfig(f"cannot read the kubeconfig {path}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise BadKubeconfig(f"the kubeconfig {path} is not valid YAML ({where.strip() or 'unreadable'})") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise BadKubeconfig(f"the kubeconfig {path} is not a kubeconfig (no mapping at the top)")
    return data


def _absolute(entry: Mapping[str, Any], item_key: str, base: Path) -> dict[str, Any]:
    copy = dict(entry)
    body = entry.get(item_key)
    if isinstance(body, Mapping):
        body = dict(body)
        for key in _PATH_KEYS.get(item_key, ()):
            value = body.get(key)
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                body[key] = str(base / value)
        copy[item_key] = body
    return copy


def _named(entries: Sequence[Mapping[str, Any]], name: str, _what: str) -> Mapping[str, Any] | None:
    for entry in entries:
        if entry.get("name") == name:
            return entry
    return None


def _extensions(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for item in body.get("extensions") or []:
        if isinstance(item, Mapping) and item.get("name"):
            value = item.get("extension")
            found[str(item["name"])] = value if isinstance(value, Mapping) else {}
    return found


def minikube_home() -> Path:
    """Where minikube keeps its profiles: MINIKUBE_HOME(/.minikube) or ~/.minikube."""
    env = os.environ.get("MINIKUBE_HOME")
    if env:
        home = Path(env).expanduser()
        return home if home.name == ".minikube" else home / ".minikube"
    return Path("~/.minikube").expanduser()


def is_minikube_profile(name: str) -> bool:
    return bool(name) and "/" not in name and (minikube_home() / "profiles" / name / "config.json").is_file()


def is_loopback_server(server: str) -> bool:
    host = urlsplit(server).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_minikube(name: str, cluster_name: str, extensions: Mapping[str, Mapping[str, Any]]) -> bool:
    """minikube marks what it writes with a provider extension; older ones did not, but
    then the context is named after a profile that exists on disk."""
    if any(ext.get("provider") == MINIKUBE_PROVIDER for ext in extensions.values()):
        return True
    return name == "minikube" or is_minikube_profile(name) or is_minikube_profile(cluster_name)


def describe(
    name: str,
    cluster_name: str,
    ctx_body: Mapping[str, Any],
    cluster_body: Mapping[str, Any],
    server: str,
    files: tuple[Path, ...] = (),
) -> ContextInfo:
    extensions = {**_extensions(ctx_body), **_extensions(cluster_body)}
    variables: dict[str, str] = {}
    sandbox_bin: str | None = None
    kind: str | None = None
    profile: str | None = None
    if SANDBOX_EXTENSION in extensions:
        # The sandbox stands in for a minikube profile: its `minikube` commands take -p.
        kind = "sandbox"
        profile = str(extensions[SANDBOX_EXTENSION].get("profile") or name)
        raw = extensions[SANDBOX_EXTENSION].get("variables")
        if isinstance(raw, Mapping):
            variables = {str(key): str(value) for key, value in raw.items()}
        shims = extensions[SANDBOX_EXTENSION].get("bin")
        sandbox_bin = str(shims) if isinstance(shims, str) and shims else None
    elif _is_minikube(name, cluster_name, extensions):
        kind, profile = "minikube", name
    else:
        for prefix, named_kind in NAMED_LOCAL_KINDS:
            if name.startswith(prefix) or cluster_name.startswith(prefix):
                kind = named_kind
        kind = kind or EXACT_LOCAL_NAMES.get(name) or EXACT_LOCAL_NAMES.get(cluster_name)
        if kind is None and is_loopback_server(server):
            kind = "loopback"
    user = ctx_body.get("user")
    namespace = ctx_body.get("namespace")
    return ContextInfo(
        name=name,
        cluster=cluster_name,
        user=str(user) if user else None,
        server=server,
        namespace=str(namespace) if namespace else None,
        local_kind=kind,
        minikube_profile=profile,
        variables=variables,
        files=files,
        sandbox_bin=sandbox_bin,
    )
