"""The session's CheckBackend over the cluster layer's check engine.

The engine knows checks by an id and reports one result at a time from its own thread;
the session thinks in steps. This adapter builds a step's checks (variables filled in,
`{node_ip}` read from the cluster once it is known), hands them to the engine under their
`CheckId`, and reports the whole step's checks whenever one of them changes.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tutor.cluster.checks import Check, CheckContext, CheckError, build_check, texts_in
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.engine import CheckEngine, evaluate_once
from tutor.cluster.results import CheckResult, Finding, failed, waiting
from tutor.cluster.status import ConnectionStatus
from tutor.lesson.model import CheckSpec, Step
from tutor.lesson.reach import hosts_in, is_loopback
from tutor.lesson.variables import UnknownVariable, names, problem, substitute
from tutor.session.backends import ConnectionCallback, ResultsCallback
from tutor.session.events import CheckId, StepCheck

CHECKING = waiting("checking", unjudged="loading")


@dataclass(frozen=True)
class BuiltCheck:
    """One check of a step, made for the cluster layer: built with the variables filled in, or
    held with the result that says why it cannot run (yet)."""

    id: CheckId
    kind: str
    title: str
    check: Check | None
    held: CheckResult | None = None
    needs_node_ip: bool = False
    """Held until the cluster reports its node's address (`{node_ip}`)."""

    def shown(self, result: CheckResult | None) -> StepCheck:
        """As the learner sees it, with the engine's `result` (None: none yet)."""
        return StepCheck(self.id, self.title, _explained(self.held or result or CHECKING))


class ClusterChecks:
    def __init__(
        self, connection: ClusterConnection, context: CheckContext, *, profile: str | None, untrusted: str | None = None
    ) -> None:
        """`untrusted`: why the lesson's `command` checks (and checks of hosts that are not
        loopback) are held, not run; None for a lesson that may run them."""
        self.untrusted = untrusted
        self.connection = connection
        self.context = context
        self.profile = profile
        self.engine: CheckEngine[CheckId] = CheckEngine(
            connection, context, on_result=self._on_result, on_status=self._on_status
        )
        self._lock = threading.Lock()
        self._step: Step | None = None
        self._variables: dict[str, str] = {}
        self._callback: ResultsCallback | None = None
        self._shown: dict[CheckId, StepCheck] = {}
        """The active step's checks, as last reported."""
        self._waiting_for_node = False
        self._connection_callbacks: list[ConnectionCallback] = []
        self._started = False

    # --- CheckBackend ------------------------------------------------------------------

    def activate(self, step: Step, variables: Mapping[str, str], on_results: ResultsCallback) -> None:
        with self._lock:
            self._step = step
            self._variables = dict(variables)
            self._callback = on_results
            self._shown = {}
        if not self._started:
            self._started = True
            self.engine.start()
        self._install()

    def deactivate(self) -> None:
        with self._lock:
            self._step = None
            self._callback = None
        self.engine.set_active({})

    def evaluate(
        self, steps: Sequence[Step], variables: Mapping[str, str], settle: float
    ) -> dict[str, tuple[StepCheck, ...]]:
        built = self._build(steps, variables)
        runnable = {check_id: item.check for check_id, item in built.items() if item.check is not None}
        results = evaluate_once(self.connection, self.context, runnable, settle=settle)[0] if runnable else {}
        return {
            step.id: tuple(item.shown(results.get(item.id)) for item in built.values() if item.id.step == step.id)
            for step in steps
        }

    def on_connection(self, callback: ConnectionCallback) -> None:
        self._connection_callbacks.append(callback)
        # The connection was opened before anyone listened: say where it stands now.
        callback(self.connection.status)

    def processes_changed(self) -> None:
        self.engine.refresh()

    def close(self) -> None:
        self.engine.close()
        self.connection.close()

    # --- building checks ---------------------------------------------------------------

    def _build(self, steps: Sequence[Step], variables: Mapping[str, str]) -> dict[CheckId, BuiltCheck]:
        return build_checks(
            steps, variables, node_ip=lambda: self.connection.node_ip(self.profile), untrusted=self.untrusted
        )

    def _install(self) -> None:
        with self._lock:
            step, variables = self._step, self._variables
        if step is None:
            return
        built = self._build([step], variables)
        with self._lock:
            if self._step is not step:
                return
            self._waiting_for_node = any(item.needs_node_ip for item in built.values())
            self._shown = {check_id: item.shown(None) for check_id, item in built.items()}
        self.engine.set_active({check_id: item.check for check_id, item in built.items() if item.check is not None})
        self._report()

    # --- engine callbacks (the engine's thread) ------------------------------------------

    def _on_result(self, check_id: CheckId, result: CheckResult) -> None:
        with self._lock:
            shown = self._shown.get(check_id)
            if shown is None:
                return
            self._shown[check_id] = dataclasses.replace(shown, result=_explained(result))
        self._report()

    def _report(self) -> None:
        with self._lock:
            callback, checks = self._callback, tuple(self._shown.values())
        if self._step is not None and callback is not None:
            callback(checks)

    def _on_status(self, status: ConnectionStatus) -> None:
        for callback in list(self._connection_callbacks):
            callback(status)
        if status.state == "connected" and self._waiting_for_node:
            self._install()


def _explained(result: CheckResult) -> CheckResult:
    """A result that does not pass, with what the cluster showed as a finding when diagnosis found none."""
    if result.findings or not result.evidence or result.passed:
        return result
    return result.with_findings((Finding("evidence", "what the cluster shows", result.evidence),))


def build_checks(
    steps: Sequence[Step],
    variables: Mapping[str, str],
    *,
    node_ip: Callable[[], str | None],
    untrusted: str | None = None,
) -> dict[CheckId, BuiltCheck]:
    """The steps' checks with the variables filled in, in order; those that cannot be built
    (an unknown variable, a bad field) or may not run are held, with the reason.

    `{node_ip}` is asked of the cluster (`node_ip()`) only when a check uses it and it
    was not given; while the cluster cannot say, those checks wait. With `untrusted` (why
    the lesson may run nothing), a `command` check, and a check that would reach a host
    other than loopback, fail as not run, saying why.
    """
    values = dict(variables)
    if "node_ip" not in values and any(_uses(spec, "node_ip") for step in steps for spec in step.checks):
        address = node_ip()
        if address and problem("host", address) is None:  # the cluster's word: an address, or nothing
            values["node_ip"] = address
    built: dict[CheckId, BuiltCheck] = {}
    for step in steps:
        for index, spec in enumerate(step.checks):
            check_id = CheckId(step.id, index)
            built[check_id] = _build_one(check_id, spec, values, untrusted)
    return built


def _build_one(check_id: CheckId, spec: CheckSpec, values: Mapping[str, str], untrusted: str | None) -> BuiltCheck:
    title = substitute(spec.title, values, strict=False) if spec.title else None
    held = BuiltCheck(check_id, spec.kind, title or spec.kind.replace("_", " "), None)
    try:
        fields = spec.resolved(values)
    except UnknownVariable as err:
        if err.name == "node_ip":
            reason = waiting("waiting for the cluster to report its node's address")
            return dataclasses.replace(held, held=reason, needs_node_ip=True)
        return dataclasses.replace(
            held, held=failed(f"line {spec.line} of the lesson: unknown variable {{{err.name}}}")
        )
    if untrusted and _runs_or_reaches(spec.kind, fields):
        return dataclasses.replace(held, held=failed(f"not run: {untrusted}"))
    try:
        check = build_check(spec.kind, fields, namespace=values["namespace"], title=title)
    except CheckError as err:
        return dataclasses.replace(held, held=failed(f"line {spec.line} of the lesson: {err}"))
    return dataclasses.replace(held, title=check.title, check=check)


def _runs_or_reaches(kind: str, fields: Mapping[str, object]) -> bool:
    """Whether a check runs a program, or requests a host other than loopback."""
    if kind == "command":
        return True
    urls = [fields.get("url"), *(value if isinstance(value := fields.get("urls"), list) else [])]
    hosts = [host for url in urls if isinstance(url, str) for host in hosts_in(("curl", url))]
    return not all(is_loopback(host) for host in hosts)


def _uses(spec: CheckSpec, variable: str) -> bool:
    """Whether any of the check's values, as written, has `{variable}` in it."""
    return any(variable in names(text) for text in texts_in(dict(spec.fields)))
