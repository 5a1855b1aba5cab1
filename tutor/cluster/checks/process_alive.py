"""`process_alive`: a background command the tutor supervises (port-forward, tunnel) runs and is ready."""

from __future__ import annotations

from tutor.cluster.checks.base import Check
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.results import CheckResult, failed, passed, waiting
from tutor.cluster.view import ClusterView, Dependency


class ProcessAlive(Check):
    kind = "process_alive"
    polled = True
    # Asking the session is cheap; the session also calls `engine.refresh()` on changes.
    interval = 0.5

    def setup(self) -> None:
        self.process = self.text("process")

    def default_title(self) -> str:
        return f"{self.process} is running"

    def dependencies(self) -> list[Dependency]:
        return []

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        state = ctx.process_state(self.process)
        if state is None:
            return waiting(f"{self.process} is not running: start it from this step")
        if state == "ready":
            return passed(f"{self.process} is running")
        if state == "starting":
            return waiting(f"{self.process} is starting")
        word, _, detail = state.partition(":")
        if word == "exited":
            return failed(f"{self.process} exited: {detail.strip() or 'no reason given'}")
        return waiting(f"{self.process}: {detail.strip() or state}")
