"""Reading the kubeconfig as kubectl does, and saying what a context is and where its server is.

kubectl's rules, kept here because the tutor must act on the same cluster kubectl
does: `--kubeconfig PATH` alone if given; else every file of `KUBECONFIG` (joined by
`os.pathsep`; missing files skipped), where the first file to define a name or the
current context wins; else `~/.kube/config`. Relative certificate, key and credential
plugin paths are relative to the file that names them. `--context` picks the context,
else `current-context`.

A kubeconfig is data from outside: every field is checked for its type, and anything
that does not hold together is a `BadKubeconfig` with a message (file and field), never
an exception from deep inside. YAML aliases are refused (a few lines of them expand to
gigabytes), and so are files over 4 MiB or not UTF-8.

This module only reads files (no kubernetes client, no network): the context guard
decides on what it returns before anything connects.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tutor import provenance
from tutor.cluster.locality import Endpoint, Locality, is_loopback_host, locate, minikube_home

MINIKUBE_PROVIDER = "minikube.sigs.k8s.io"
SANDBOX_EXTENSION = "k8s-tutor-sandbox"
NAMED_KINDS = (
    ("kind-", "kind"),
    ("k3d-", "k3d"),
)
EXACT_NAMES = {
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
MAX_BYTES = 4 << 20

NO_CLUSTER_HINT = "no cluster yet: run the first step (minikube start)"

__all__ = [
    "BadKubeconfig",
    "ContextInfo",
    "KubeconfigProblem",
    "Loaded",
    "NoCluster",
    "Source",
    "load",
    "minikube_home",
]


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

    def with_context(self, context: str) -> Source:
        return Source(self.paths, context, self.explicit_file)


@dataclass(frozen=True)
class ContextInfo:
    name: str
    cluster: str
    user: str | None
    server: str
    namespace: str | None = None
    kind: str | None = None
    """What the context looks like (minikube, kind, k3d, docker-desktop, rancher-desktop,
    orbstack, sandbox, loopback), from names and extensions: a label, never a reason to trust it."""
    locality: Locality = field(default_factory=lambda: Locality(False, "not decided"))
    """Where the server is: the guard's ground."""
    minikube_profile: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    """Lesson-variable overrides the sandbox puts in its kubeconfig (e.g. ingress_port)."""
    files: tuple[Path, ...] = ()
    sandbox: bool = False
    """The context carries the sandbox's extension (a label, like `kind`)."""
    sandbox_bin: str | None = None
    """The sandbox's `minikube` and `kubectl` stand-ins, proven to be this user's k8s-tutor's."""
    sandbox_bin_problem: str | None = None
    """Why a `bin` the extension names is not used."""
    programs: tuple[str, ...] = ()
    """Programs the user entry runs to get credentials (`exec`, `auth-provider`)."""
    proxy: str | None = None

    @property
    def is_local(self) -> bool:
        return self.locality.local

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox

    @property
    def identity(self) -> str:
        """The name progress is kept under: a sandbox never shares a real cluster's record."""
        return f"sandbox-{self.name}" if self.sandbox else self.name

    @property
    def endpoint(self) -> Endpoint | None:
        return Endpoint.parse(self.server)

    @property
    def server_host(self) -> str:
        endpoint = self.endpoint
        return endpoint.host if endpoint else ""

    def describe(self) -> str:
        what = {
            "minikube": f"minikube profile {self.minikube_profile or self.name}",
            "sandbox": "the k8s-tutor sandbox (simulated)",
            "loopback": "a cluster on this machine",
            None: "a cluster",
        }.get(self.kind, self.kind or "a cluster")
        where = "" if self.is_local else " (not on this machine)"
        return f"context {self.name}: {what} at {self.server}{where}"


@dataclass(frozen=True)
class Loaded:
    """A kubeconfig merged as kubectl merges it, and the chosen context."""

    config: dict[str, Any]
    """For `kubernetes.config.new_client_from_config_dict` (relative paths made absolute)."""
    info: ContextInfo
    source: Source

    def entries(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
        """The chosen context's context, cluster and user entries (name + body), as merged."""
        name = self.info.name
        context = next(item for item in self.config["contexts"] if item["name"] == name)
        cluster = next(item for item in self.config["clusters"] if item["name"] == self.info.cluster)
        user = next((item for item in self.config["users"] if item["name"] == self.info.user), None)
        return context, cluster, user


def load(source: Source) -> Loaded:
    """Read and merge the files, pick the context, describe it. Raises KubeconfigProblem."""
    existing = [path for path in source.paths if _exists(path)]
    if source.explicit_file and not existing:
        raise NoCluster(f"{NO_CLUSTER_HINT} (the kubeconfig {source.paths[0]} does not exist)")
    if not existing:
        raise NoCluster(f"{NO_CLUSTER_HINT} (no kubeconfig at {source.describe()})")
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": [], "current-context": ""}
    seen: dict[str, set[str]] = {"clusters": set(), "contexts": set(), "users": set()}
    for path in existing:
        data = _read(path)
        for section, item_key in (("clusters", "cluster"), ("contexts", "context"), ("users", "user")):
            for entry in _entries(data, section, path):
                name = entry["name"]
                if name in seen[section]:
                    continue
                seen[section].add(name)
                merged[section].append(_absolute(entry, item_key, path.parent, path))
        current = data.get("current-context")
        if current is not None and not isinstance(current, str):
            raise BadKubeconfig(f"the kubeconfig {path}: current-context must be a string")
        if not merged["current-context"] and current:
            merged["current-context"] = current
    try:
        return _choose(merged, source, tuple(existing))
    except BadKubeconfig as err:
        raise BadKubeconfig(f"the kubeconfig {source.describe()}: {err}") from None


def _choose(merged: dict[str, Any], source: Source, existing: tuple[Path, ...]) -> Loaded:
    """Pick the context from the merged files and check that it holds together."""
    name = source.context or merged["current-context"]
    if not name:
        if not merged["contexts"]:
            raise NoCluster(f"{NO_CLUSTER_HINT} (the kubeconfig has no contexts)")
        raise NoCluster(
            "the kubeconfig has no current context: pick one with --context or `kubectl config use-context`"
        )
    context = _named(merged["contexts"], name)
    if context is None:
        known = ", ".join(str(entry["name"]) for entry in merged["contexts"]) or "none"
        if source.context:
            raise NoCluster(
                f"{NO_CLUSTER_HINT}: there is no context {name!r} in {source.describe()} yet (contexts: {known})"
            )
        raise NoCluster(f"{NO_CLUSTER_HINT} (the current context {name!r} is not defined)")
    ctx_body = context["context"]
    cluster_name = _text(ctx_body, "cluster", f"context {name!r}")
    cluster = _named(merged["clusters"], cluster_name or "")
    if cluster is None:
        raise BadKubeconfig(
            f"context {name!r} names the cluster {cluster_name or ''!r}, which the kubeconfig does not define"
        )
    cluster_body = cluster["cluster"]
    server = _text(cluster_body, "server", f"cluster {cluster_name!r}")
    if not server:
        raise BadKubeconfig(f"the cluster {cluster_name!r} of context {name!r} has no server address")
    if Endpoint.parse(server) is None:
        raise BadKubeconfig(f"the cluster {cluster_name!r} has a server {server!r} that is not an http(s) URL")
    user_name = _text(ctx_body, "user", f"context {name!r}")
    user = _named(merged["users"], user_name) if user_name else None
    merged["current-context"] = name
    info = describe(
        name,
        cluster_name or "",
        ctx_body,
        cluster_body,
        server,
        existing,
        user_body=user["user"] if user else {},
    )
    return Loaded(merged, info, source)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _read(path: Path) -> Mapping[str, Any]:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise BadKubeconfig(f"cannot read the kubeconfig {path}: {err.strerror or err}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadKubeconfig(f"the kubeconfig {path} is not a regular file")
    with os.fdopen(fd, "rb") as handle:
        try:
            raw = handle.read(MAX_BYTES + 1)
        except OSError as err:
            raise BadKubeconfig(f"cannot read the kubeconfig {path}: {err.strerror or err}") from None
    if len(raw) > MAX_BYTES:
        raise BadKubeconfig(f"the kubeconfig {path} is larger than {MAX_BYTES >> 20} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadKubeconfig(f"the kubeconfig {path} is not UTF-8 text (byte {err.start})") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "unreadable"
        problem = getattr(err, "problem", None)
        detail = f": {problem}" if problem and "alias" in str(problem) else ""
        raise BadKubeconfig(f"the kubeconfig {path} is not valid YAML ({where}){detail}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise BadKubeconfig(f"the kubeconfig {path} is not a kubeconfig (no mapping at the top)")
    return data


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses aliases: a kubeconfig never needs them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not allowed here", event.start_mark)
        return super().compose_node(parent, index)


def _entries(data: Mapping[str, Any], section: str, path: Path) -> list[dict[str, Any]]:
    """The section's entries, each `{name: str, <item>: mapping}`; wrong types are errors."""
    value = data.get(section)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadKubeconfig(f"the kubeconfig {path}: {section} must be a list, not {_type(value)}")
    item_key = section[:-1]
    entries = []
    for index, entry in enumerate(value):
        where = f"the kubeconfig {path}: {section}[{index}]"
        if not isinstance(entry, Mapping):
            raise BadKubeconfig(f"{where} must be a mapping, not {_type(entry)}")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise BadKubeconfig(f"{where} has no name")
        body = entry.get(item_key)
        if body is None:
            body = {}
        if not isinstance(body, Mapping):
            raise BadKubeconfig(f"{where} ({name}): {item_key} must be a mapping, not {_type(body)}")
        entries.append({**entry, item_key: dict(body)})
    return entries


def _type(value: Any) -> str:
    return {str: "a string", int: "a number", float: "a number", bool: "true/false", list: "a list"}.get(
        type(value), type(value).__name__
    )


def _text(body: Mapping[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadKubeconfig(f"{where}: {key} must be a string, not {_type(value)}")
    return value


def _absolute(entry: Mapping[str, Any], item_key: str, base: Path, path: Path) -> dict[str, Any]:
    copy = dict(entry)
    body = dict(entry[item_key])
    for key in _PATH_KEYS.get(item_key, ()):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise BadKubeconfig(f"the kubeconfig {path}: {item_key} {entry['name']!r}: {key} must be a path")
        if value and not Path(value).expanduser().is_absolute():
            body[key] = str(base / value)
    plugin = body.get("exec")
    if plugin is not None:
        if not isinstance(plugin, Mapping) or not isinstance(plugin.get("command"), str):
            raise BadKubeconfig(f"the kubeconfig {path}: user {entry['name']!r}: exec needs a command")
        command = plugin["command"]
        if os.sep in command and not Path(command).is_absolute():
            # client-go's rule: a command with a path separator is relative to its file.
            body["exec"] = {**plugin, "command": str(base / command)}
    copy[item_key] = body
    return copy


def _named(entries: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    for entry in entries:
        if entry.get("name") == name:
            return entry
    return None


def _extensions(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    items = body.get("extensions")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            value = item.get("extension")
            found[str(item["name"])] = value if isinstance(value, Mapping) else {}
    return found


def _programs(user: Mapping[str, Any]) -> tuple[str, ...]:
    """What a user entry runs or calls to get credentials, as the learner would recognise it."""
    found = []
    plugin = user.get("exec")
    if isinstance(plugin, Mapping):
        found.append(f"the credential plugin {plugin.get('command')!s}")
    provider = user.get("auth-provider")
    if provider is not None:
        name = provider.get("name") if isinstance(provider, Mapping) else None
        found.append(f"the auth-provider {name or '(unnamed)'}")
    return tuple(found)


def _label(name: str, cluster_name: str, extensions: Mapping[str, Mapping[str, Any]], server: str) -> str | None:
    if any(ext.get("provider") == MINIKUBE_PROVIDER for ext in extensions.values()):
        return "minikube"
    for prefix, named_kind in NAMED_KINDS:
        if name.startswith(prefix) or cluster_name.startswith(prefix):
            return named_kind
    kind = EXACT_NAMES.get(name) or EXACT_NAMES.get(cluster_name)
    if kind is None:
        endpoint = Endpoint.parse(server)
        if endpoint is not None and is_loopback_host(endpoint.host):
            kind = "loopback"
    return kind


def describe(
    name: str,
    cluster_name: str,
    ctx_body: Mapping[str, Any],
    cluster_body: Mapping[str, Any],
    server: str,
    files: tuple[Path, ...] = (),
    *,
    user_body: Mapping[str, Any] | None = None,
) -> ContextInfo:
    extensions = {**_extensions(ctx_body), **_extensions(cluster_body)}
    variables: dict[str, str] = {}
    sandbox_bin: str | None = None
    bin_problem: str | None = None
    profile: str | None = None
    kind = _label(name, cluster_name, extensions, server)
    proxy = cluster_body.get("proxy-url")
    proxy = proxy if isinstance(proxy, str) and proxy else None
    sandbox = SANDBOX_EXTENSION in extensions
    if sandbox:
        # The sandbox stands in for a minikube profile: its `minikube` commands take -p.
        extension = extensions[SANDBOX_EXTENSION]
        kind = "sandbox"
        profile = str(extension.get("profile") or name)
        raw = extension.get("variables")
        if isinstance(raw, Mapping):
            variables = {str(key): str(value) for key, value in raw.items()}
        shims = extension.get("bin")
        if isinstance(shims, str) and shims:
            try:
                sandbox_bin = str(provenance.verify(shims, extension.get("binProof")))
            except provenance.Unproven as err:
                bin_problem = f"the kubeconfig names {shims} for the sandbox's minikube and kubectl, but {err}"
    elif kind == "minikube":
        profile = name
    user = ctx_body.get("user")
    namespace = ctx_body.get("namespace")
    return ContextInfo(
        name=name,
        cluster=cluster_name,
        user=str(user) if user else None,
        server=server,
        namespace=namespace if isinstance(namespace, str) and namespace else None,
        kind=kind,
        locality=locate(server, name, proxy=proxy),
        minikube_profile=profile,
        variables=variables,
        files=files,
        sandbox=sandbox,
        sandbox_bin=sandbox_bin,
        sandbox_bin_problem=bin_problem,
        programs=_programs(user_body or {}),
        proxy=proxy,
    )
