"""The commands' tests hand the tutor kubeconfigs: no network but loopback (`tests.network`)."""

from __future__ import annotations

import pytest

from tests.network import loopback_only


@pytest.fixture(autouse=True)
def _no_network_but_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    loopback_only(monkeypatch)
