"""What the learner chose once and expects again: for now, the TUI's colour theme.

One small JSON file in the user's state folder (`K8S_TUTOR_STATE_DIR` overrides it),
written and read back through the private-files rules (tutor/private_files.py): a file
that is not the tutor's own, or not what it wrote, is ignored, and the defaults apply.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from tutor.private_files import private_dir, read_private, write_private

log = logging.getLogger(__name__)

MAX_SIZE = 16 * 1024


def default_path() -> Path:
    override = os.environ.get("K8S_TUTOR_STATE_DIR")
    if override:
        return Path(override).expanduser() / "preferences.json"
    import platformdirs

    return Path(platformdirs.user_state_dir("k8s-tutor", appauthor=False)) / "preferences.json"


def load(path: Path | None = None) -> dict[str, str]:
    """The saved preferences (text values only); empty when there are none or they are unreadable."""
    path = path or default_path()
    try:
        data = json.loads(read_private(path, limit=MAX_SIZE))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        log.warning("preferences in %s ignored: %s", path, err)
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: value for key, value in data.items() if isinstance(key, str) and isinstance(value, str)}


def save(key: str, value: str, path: Path | None = None) -> str | None:
    """Remember `key`; what went wrong, for the learner, when it cannot be saved."""
    path = path or default_path()
    try:
        private_dir(path.parent)
        write_private(path, json.dumps({**load(path), key: value}, indent=2).encode())
    except OSError as err:
        return f"could not save the preference in {path}: {err}"
    return None
