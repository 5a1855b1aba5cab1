"""The sandbox's kubeconfig: a cluster, a user and a context named after the profile.

Written the way ``minikube start`` writes its entries (existing entries of other
clusters in the same file are kept), into the sandbox's own state folder, never into
``~/.kube/config``, readable by its owner only. The cluster entry names the API server's
own certificate as its only authority, and the user entry carries the sandbox's bearer
token, without which its API answers 401 (kubectl sends credentials over TLS only). The
cluster entry also carries an extension that marks it as the sandbox, so the tutor can
label it a simulation and find the sandbox's control data.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from tutor.sandbox.versions import MINIKUBE_VERSION

EXTENSION_NAME = "k8s-tutor-sandbox"


def _upsert(items: list[dict[str, Any]], name: str, key: str, value: dict[str, Any]) -> None:
    for item in items:
        if item.get("name") == name:
            item[key] = value
            return
    items.append({"name": name, key: value})


def read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return data if isinstance(data, dict) else {}


def write_context(
    path: Path,
    *,
    name: str,
    server: str,
    certificate_authority: Path,
    token: str,
    extension: dict[str, Any],
    namespace: str = "default",
) -> None:
    """Add or update cluster (trusting the certificate in the file ``certificate_authority``),
    user (with its bearer ``token``) and context ``name``, and make it the current context."""
    config = read(path)
    config.setdefault("apiVersion", "v1")
    config.setdefault("kind", "Config")
    config.setdefault("preferences", {})
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S UTC")
    clusters = config.setdefault("clusters", []) or []
    config["clusters"] = clusters
    _upsert(
        clusters,
        name,
        "cluster",
        {
            # A file, as minikube writes it: the client copies inline data to temporary files.
            "certificate-authority": str(certificate_authority),
            "server": server,
            "extensions": [
                {
                    "name": "cluster_info",
                    "extension": {
                        "last-update": now,
                        "provider": "minikube.sigs.k8s.io",
                        "version": MINIKUBE_VERSION,
                    },
                },
                {"name": EXTENSION_NAME, "extension": dict(extension)},
            ],
        },
    )
    users = config.setdefault("users", []) or []
    config["users"] = users
    _upsert(users, name, "user", {"token": token})
    contexts = config.setdefault("contexts", []) or []
    config["contexts"] = contexts
    _upsert(
        contexts,
        name,
        "context",
        {
            "cluster": name,
            "user": name,
            "namespace": namespace,
            "extensions": [
                {
                    "name": "context_info",
                    "extension": {
                        "last-update": now,
                        "provider": "minikube.sigs.k8s.io",
                        "version": MINIKUBE_VERSION,
                    },
                }
            ],
        },
    )
    config["current-context"] = name
    _atomic_write(path, yaml.safe_dump(config, sort_keys=False))


def remove_context(path: Path, name: str) -> None:
    """Drop cluster, user and context ``name`` (as ``minikube delete`` does)."""
    config = read(path)
    for section in ("clusters", "users", "contexts"):
        config[section] = [i for i in config.get(section) or [] if i.get("name") != name]
    if config.get("current-context") == name:
        config["current-context"] = ""
    _atomic_write(path, yaml.safe_dump(config, sort_keys=False))


def sandbox_extension(config: dict[str, Any], context: str | None = None) -> dict[str, Any] | None:
    """The sandbox extension of the (current) context's cluster, or None: not a sandbox."""
    context = context or config.get("current-context")
    ctx = next(
        (c.get("context") or {} for c in config.get("contexts") or [] if c.get("name") == context),
        None,
    )
    if ctx is None:
        return None
    cluster = next(
        (c.get("cluster") or {} for c in config.get("clusters") or [] if c.get("name") == ctx.get("cluster")),
        None,
    )
    if cluster is None:
        return None
    for ext in cluster.get("extensions") or []:
        if ext.get("name") == EXTENSION_NAME:
            value = ext.get("extension")
            return value if isinstance(value, dict) else {}
    return None


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
