"""What a path the lesson names is, for the parser and for whoever keeps a parsed lesson."""

from __future__ import annotations

from pathlib import Path


def path_kind(path: Path) -> str:
    """'folder', 'file' (or anything else that exists) or 'missing'."""
    if path.is_dir():
        return "folder"
    return "file" if path.exists() else "missing"
