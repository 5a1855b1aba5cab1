"""Shared fixtures: every test gets its own progress and cache folders, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("K8S_TUTOR_STATE_DIR", str(state))
    monkeypatch.setenv("K8S_TUTOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("K8S_TUTOR_LESSONS", raising=False)
    return state
