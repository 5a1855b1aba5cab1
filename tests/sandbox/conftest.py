"""Fixtures shared by the sandbox's tests: a fresh simulated cluster per test, the real
kubectl pointed at it, the official client pointed at it, and the self-checks every
test gets for free at teardown (client-model round trip, hot-loop detector, no thread
left behind)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sandbox_helpers import HOT_LOOP_WRITES, KUBECTL, Kubectl, make_kubectl, model_errors

from tutor.sandbox import Delays, ManualClock, Sandbox


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Make sandboxes (default: instant delays, profile mc-demo, started, no stand-ins:
    pass ``standins=True, ingress_port=free_port()`` for them); all are checked and closed
    at teardown."""
    made: list[Sandbox] = []
    before = {t.ident for t in threading.enumerate()}

    def make(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("delays", Delays.instant())
        kwargs.setdefault("profile", "mc-demo")
        kwargs.setdefault("standins", False)
        sb = Sandbox(**kwargs)
        made.append(sb)
        return sb

    yield make
    problems: list[str] = []
    for sb in made:
        try:
            problems += model_errors(sb)
            problems += [f"hot loop: {key} written {n} times" for key, n in sb.hot_objects(HOT_LOOP_WRITES)]
        finally:
            sb.close()
    leftovers = [
        t.name
        for t in threading.enumerate()
        if t.ident not in before and t.name in ("k8s-tutor-sandbox", "sandbox-standins")
    ]
    assert not leftovers, f"sandbox threads left behind: {leftovers}"
    assert not problems, "sandbox self-checks failed:\n" + "\n".join(problems)


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A fresh, started minikube-like cluster named mc-demo with instant delays."""
    return sandbox_factory()


@pytest.fixture
def kubectl(sandbox: Sandbox) -> Kubectl:
    """Run the real kubectl against ``sandbox``: ``kubectl("get", "pods", check=True)``."""
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH: the kubectl tests drive the real binary")
    return make_kubectl(sandbox)


@pytest.fixture
def kube_client(sandbox: Sandbox) -> Iterator[Any]:
    """An ``ApiClient`` of the official client, configured from the sandbox's kubeconfig."""
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(sandbox.kubeconfig))
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def clock() -> ManualClock:
    """The cluster's time, moved by the test (``clock.advance(10)``), never waited for."""
    return ManualClock()


@pytest.fixture
def timed(sandbox_factory: Callable[..., Sandbox], clock: ManualClock) -> Sandbox:
    """A fresh started cluster (instant delays, no stand-ins) on ``clock``."""
    return sandbox_factory(clock=clock)


@pytest.fixture
def timed_kubectl(timed: Sandbox) -> Kubectl:
    """The real kubectl against ``timed``."""
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH: the kubectl tests drive the real binary")
    return make_kubectl(timed)
