"""`k8s-tutor check LESSON [--step STEP] [--json]`: the lesson's checks, once, with no TUI.

A thin adapter: it reaches the lesson's cluster and resolves the variables as a lesson
session would (`commands.cluster`), fills in `{node_ip}` from the cluster, hands the
checks to the cluster layer's `evaluate_once`, and prints the report.

Exit status: 0 when every check passes (process_alive checks are shown but not counted:
background commands only run inside the tutor); 1 when any does not, including when there is
no cluster yet or it cannot be reached (the report says so: an instructor's script
sees "not done"); 2 when the command itself cannot run as asked (--sandbox, a context
the guard refuses, a bad --set).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.cluster.engine import evaluate_once
from tutor.cluster.report import CheckLine, Report, StepReport
from tutor.commands.cluster import connect
from tutor.commands.exit_codes import FAIL, OK, UsageError
from tutor.commands.lessons import find_lesson
from tutor.commands.options import ClusterChoice
from tutor.lesson.model import Lesson
from tutor.run import ShExecutor, describe_holders
from tutor.safe_text import strip_controls
from tutor.session.asking import confirm_cluster, on_terminal
from tutor.session.check_context import run_for_check
from tutor.session.cluster_checks import build_checks
from tutor.session.targeting import ClusterCommands
from tutor.trust import decide_trust

UNJUDGED_KINDS = frozenset({"process_alive"})
"""Only the tutor runs a lesson's background commands: a one-shot check cannot see them.
Their checks are reported (waiting) but do not decide the exit status; the checks beside
them (the http check through the port-forward) judge what the process is for."""

NOT_STARTED = "unavailable: not started by this check: background commands run in the tutor"

SANDBOX_REFUSED = (
    "--sandbox would start a new, empty simulated cluster, where every check waits. To check a "
    "sandbox, run `k8s-tutor sandbox --kubeconfig-out PATH` and then `k8s-tutor check LESSON --kubeconfig PATH`."
)


@dataclass(frozen=True)
class CheckOptions:
    lesson: str
    step: str | None = None
    json: bool = False
    cluster: ClusterChoice = field(default_factory=ClusterChoice)
    lessons: tuple[Path, ...] = ()
    trust: bool = False
    """--trust: a lesson from elsewhere may run its `command` checks in this run."""


class HeadlessContext:
    """No background processes; memory read from the learner's progress, never written."""

    def __init__(self, memory: dict[str, Any], executor: ShExecutor) -> None:
        self.memory = dict(memory)
        self.executor = executor

    def process_state(self, process_id: str) -> str | None:
        return NOT_STARTED

    def remember(self, key: str, value: Any) -> None:
        # Nothing is kept. Not in the learner's progress (a check run changes nothing), and
        # not for this run either: a record of the cluster as it is now would tell the
        # `data_survives` check beside it that mongo-0 was never replaced.
        return

    def recall(self, key: str) -> Any | None:
        return self.memory.get(key)

    def run_command(self, argv: Sequence[str], timeout: float) -> tuple[int | None, str]:
        return run_for_check(self.executor, argv, timeout)

    def listener(self, port: int) -> str | None:
        return describe_holders(port)


def run(options: CheckOptions) -> int:
    lesson = find_lesson(options.lessons, options.lesson, options.step)
    if options.cluster.sandbox:
        raise UsageError(SANDBOX_REFUSED)
    setup = options.cluster.setup(lesson, confirm=confirm_cluster if on_terminal() and not options.json else None)
    connection, variables = connect(lesson, setup)
    executor = ShExecutor(policy=ClusterCommands(connection, profile=variables["profile"]))
    try:
        steps = [lesson.step(options.step)] if options.step else list(lesson.steps)
        trust = decide_trust(lesson, given=options.trust)
        built = build_checks(
            steps,
            variables,
            node_ip=lambda: connection.node_ip(variables.get("profile")),
            untrusted=None if trust.trusted else trust.why,
        )
        info = connection.info
        memory = _memory(lesson, info.identity if info else None)
        runnable = {check_id: item.check for check_id, item in built.items() if item.check is not None}
        results, judged = evaluate_once(connection, HeadlessContext(memory, executor), runnable)
        report = Report(
            lesson.id,
            lesson.title,
            tuple(
                StepReport(
                    step.id,
                    step.title,
                    tuple(
                        CheckLine(
                            item.kind, item.title, item.held or results[item.id], counts=item.kind not in UNJUDGED_KINDS
                        )
                        for item in built.values()
                        if item.id.step == step.id
                    ),
                )
                for step in steps
            ),
            connection.info,
            judged,
        )
    finally:
        executor.close()
        connection.close()
    if options.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(strip_controls(report.to_text()))  # names and messages from the cluster: text only
    return OK if report.passed else FAIL


def _memory(lesson: Lesson, cluster: str | None) -> dict[str, Any]:
    if cluster is None:
        return {}
    from tutor.progress import ProgressStore

    return dict(ProgressStore().load(lesson.id, cluster).memory)
