"""The session's CheckBackend over the cluster layer's check engine.

The engine knows checks by id and reports one result at a time from its own thread;
the session thinks in steps. This adapter builds a step's checks (variables filled in,
`{node_ip}` read from the cluster once it is known), hands them to the engine, and
reports the whole step's results whenever one of them changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

from tutor.cluster.checks import Check, CheckContext, CheckError, build_check
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.engine import CheckEngine, evaluate_once
from tutor.cluster.results import CheckResult as ClusterResult
from tutor.cluster.status import ConnectionStatus
from tutor.lesson.model import CheckSpec, Step
from tutor.lesson.reach import hosts_in, is_loopback
from tutor.lesson.variables import UnknownVariable, names, problem, substitute
from tutor.session.backends import ConnectionCallback, ResultsCallback
from tutor.session.events import CheckResult, Finding

STATES = {
    "no_cluster": "no-cluster",
    "refused": "unreachable",
    "connecting": "connecting",
    "connected": "connected",
    "reconnecting": "reconnecting",
    "unreachable": "unreachable",
    "rejected": "rejected",
}

CHECKING = ClusterResult("waiting", "checking")


def convert(step: Step, index: int, spec: CheckSpec, title: str, result: ClusterResult) -> CheckResult:
    findings = tuple(Finding(f.message, f.evidence, f.command) for f in result.findings)
    if not findings and result.evidence and result.status != "pass":
        findings = (Finding("what the cluster shows", result.evidence),)
    return CheckResult(step.id, index, title, spec.kind, result.status, result.reason, findings)


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
        self.engine = CheckEngine(connection, context, on_result=self._on_result, on_status=self._on_status)
        self._lock = threading.Lock()
        self._step: Step | None = None
        self._variables: dict[str, str] = {}
        self._callback: ResultsCallback | None = None
        self._titles: dict[str, str] = {}
        self._results: dict[str, ClusterResult] = {}
        self._waiting_for_node = False
        self._connection_callbacks: list[ConnectionCallback] = []
        self._started = False

    # --- CheckBackend ------------------------------------------------------------------

    def activate(self, step: Step, variables: Mapping[str, str], on_results: ResultsCallback) -> None:
        with self._lock:
            self._step = step
            self._variables = dict(variables)
            self._callback = on_results
            self._results = {}
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
    ) -> dict[str, tuple[CheckResult, ...]]:
        checks, fixed, titles = self._build(steps, variables)
        results, _status = evaluate_once(self.connection, self.context, checks, settle=settle) if checks else ({}, None)
        results.update(fixed)
        return {
            step.id: tuple(
                convert(step, i, spec, titles[f"{step.id}/{i}"], results.get(f"{step.id}/{i}", CHECKING))
                for i, spec in enumerate(step.checks)
            )
            for step in steps
        }

    def on_connection(self, callback: ConnectionCallback) -> None:
        self._connection_callbacks.append(callback)
        # The connection was opened before anyone listened: say where it stands now.
        callback(*_connection_event(self.connection.status))

    def close(self) -> None:
        self.engine.close()
        self.connection.close()

    # --- building checks ---------------------------------------------------------------

    def _build(
        self, steps: Sequence[Step], variables: Mapping[str, str]
    ) -> tuple[dict[str, Check], dict[str, ClusterResult], dict[str, str]]:
        return build_checks(
            steps, variables, node_ip=lambda: self.connection.node_ip(self.profile), untrusted=self.untrusted
        )

    def _install(self) -> None:
        with self._lock:
            step, variables = self._step, self._variables
        if step is None:
            return
        checks, broken, titles = self._build([step], variables)
        with self._lock:
            if self._step is not step:
                return
            self._titles = titles
            self._waiting_for_node = any("node's address" in result.reason for result in broken.values())
            for check_id in titles:
                self._results.setdefault(check_id, CHECKING)
            self._results.update(broken)
        self.engine.set_active(checks)
        self._report()

    # --- engine callbacks (the engine's thread) ------------------------------------------

    def _on_result(self, check_id: str, result: ClusterResult) -> None:
        with self._lock:
            if check_id not in self._titles:
                return
            self._results[check_id] = result
        self._report()

    def _report(self) -> None:
        with self._lock:
            step, callback = self._step, self._callback
            if step is None or callback is None:
                return
            results = tuple(
                convert(
                    step,
                    i,
                    spec,
                    self._titles.get(f"{step.id}/{i}", spec.kind),
                    self._results.get(f"{step.id}/{i}", CHECKING),
                )
                for i, spec in enumerate(step.checks)
            )
        callback(results)

    def _on_status(self, status: ConnectionStatus) -> None:
        event = _connection_event(status)
        for callback in list(self._connection_callbacks):
            callback(*event)
        if status.state == "connected" and self._waiting_for_node:
            self._install()


def _connection_event(status: ConnectionStatus) -> tuple[str, str, str, str]:
    """(state, detail, context, server) for the session: where the commands go, once known."""
    state = STATES.get(status.state, status.state)
    detail = status.message or (status.last_error or "")
    if status.state == "connected" and status.context:
        detail = detail or f"context {status.context} at {status.server}"
    usable = status.state not in ("no_cluster", "refused")
    return state, detail, (status.context or "") if usable else "", (status.server or "") if usable else ""


def build_checks(
    steps: Sequence[Step],
    variables: Mapping[str, str],
    *,
    node_ip: Callable[[], str | None],
    untrusted: str | None = None,
) -> tuple[dict[str, Check], dict[str, ClusterResult], dict[str, str]]:
    """The steps' checks with the variables filled in, by id (`step/index`); the results of
    those that cannot be built (an unknown variable, a bad field) or may not run; and every
    check's title.

    `{node_ip}` is asked of the cluster (`node_ip()`) only when a check uses it and it
    was not given; while the cluster cannot say, those checks wait. With `untrusted` (why
    the lesson may run nothing), a `command` check, and a check that would reach a host
    other than loopback, fail as not run, saying why.
    """
    checks: dict[str, Check] = {}
    broken: dict[str, ClusterResult] = {}
    titles: dict[str, str] = {}
    values = dict(variables)
    if "node_ip" not in values and any(_uses_node_ip(spec) for step in steps for spec in step.checks):
        address = node_ip()
        if address and problem("host", address) is None:  # the cluster's word: an address, or nothing
            values["node_ip"] = address
    for step in steps:
        for index, spec in enumerate(step.checks):
            check_id = f"{step.id}/{index}"
            title = substitute(spec.title, values, strict=False) if spec.title else None
            titles[check_id] = title or spec.kind.replace("_", " ")
            try:
                fields = spec.resolved(values)
            except UnknownVariable as err:
                if err.name == "node_ip":
                    broken[check_id] = ClusterResult("waiting", "waiting for the cluster to report its node's address")
                else:
                    broken[check_id] = ClusterResult(
                        "fail", f"line {spec.line} of the lesson: unknown variable {{{err.name}}}"
                    )
                continue
            if untrusted and _runs_or_reaches(spec.kind, fields):
                broken[check_id] = ClusterResult("fail", f"not run: {untrusted}")
                continue
            try:
                check = build_check(spec.kind, fields, namespace=values["namespace"], title=title)
            except CheckError as err:
                broken[check_id] = ClusterResult("fail", f"line {spec.line} of the lesson: {err}")
                continue
            checks[check_id] = check
            titles[check_id] = check.title
    return checks, broken, titles


def _runs_or_reaches(kind: str, fields: Mapping[str, object]) -> bool:
    """Whether a check runs a program, or requests a host other than loopback."""
    if kind == "command":
        return True
    urls = [fields.get("url"), *(value if isinstance(value := fields.get("urls"), list) else [])]
    hosts = [host for url in urls if isinstance(url, str) for host in hosts_in(("curl", url))]
    return not all(is_loopback(host) for host in hosts)


def _uses_node_ip(spec: CheckSpec) -> bool:
    # The repr holds every string value as written, braces and all.
    return "node_ip" in names(repr(dict(spec.fields)))
