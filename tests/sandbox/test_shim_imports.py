"""What a shim command imports: the stand-in commands start fast because they leave the
API server (aiohttp) and the rest of the core alone. A structural check, not a timing one
(docs/sandbox.md has the measured times)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("aiohttp", "tutor.sandbox.server", "tutor.sandbox.sandbox", "tutor.sandbox.store", "kubernetes")


def imported_by(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["tutor.sandbox.minikube.cli", "tutor.sandbox.portforward", "tutor.sandbox.tunnel"])
def test_a_shim_command_does_not_import_the_api_server(module: str) -> None:
    loaded = imported_by(module)
    assert not [m for m in HEAVY if m in loaded]


def test_minikube_commands_without_a_stream_do_not_import_asyncio() -> None:
    # `minikube status`, `ip`, `start`... make plain HTTP calls; only the tunnel streams.
    assert "asyncio" not in imported_by("tutor.sandbox.minikube.cli")


def test_the_package_still_offers_its_names() -> None:
    import tutor.sandbox as sandbox

    for name in sandbox.__all__:
        assert getattr(sandbox, name) is not None
    assert set(sandbox.__all__) <= set(dir(sandbox))
    with pytest.raises(AttributeError):
        _ = sandbox.NoSuchName
