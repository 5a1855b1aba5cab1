"""Kubeconfig files for tests: contexts as (name, server), extensions by context name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def kubeconfig(path: Path, *contexts: tuple[str, str], current: str | None = None, **extensions: Any) -> Path:
    """Contexts as (name, server); extensions by context name."""
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {"server": server, **({"extensions": extensions[name]} if name in extensions else {})},
            }
            for name, server in contexts
        ],
        "users": [{"name": name, "user": {"token": "t"}} for name, _ in contexts],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}} for name, _ in contexts],
    }
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path
