"""A view builds its Setup before its first paint: that must not load the cluster or run layers."""

from __future__ import annotations

import subprocess
import sys


def test_importing_setup_loads_neither_the_kubernetes_client_nor_sh() -> None:
    code = (
        "import sys\n"
        "from tutor.session.setup import SessionRefused, Setup\n"
        "Setup(sandbox=True)\n"
        "print(','.join(sorted(m for m in ('kubernetes', 'sh', 'tutor.cluster', 'tutor.run') if m in sys.modules)))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_the_factory_still_offers_both() -> None:
    from tutor.session import factory, setup

    assert factory.Setup is setup.Setup
    assert factory.SessionRefused is setup.SessionRefused
