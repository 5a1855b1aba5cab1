"""`k8s-tutor check LESSON [--step STEP] [--json]`: the lesson's checks, once, with no TUI.

A thin adapter: it builds the variables as the tutor would (lesson defaults, --profile,
the sandbox's own overrides, --set), fills in `{node_ip}` from the cluster, hands the
checks to the cluster layer's `evaluate_once`, and prints the report.

Exit status: 0 when every check passes (process_alive checks are shown but not counted:
background commands only run inside the tutor); 1 when any does not, including when there is
no cluster yet or it cannot be reached (the report says so: an instructor's script
sees "not done"); 2 when the command itself cannot run as asked (--sandbox, a context
the guard refuses, a bad --set).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from tutor.cluster.connection import ClusterConnection
from tutor.cluster.engine import evaluate_once
from tutor.cluster.report import CheckLine, Report, StepReport
from tutor.lesson.model import Lesson
from tutor.lesson.overrides import BadOverride, parse_overrides
from tutor.run import MissingExecutable, RunError, ShExecutor, describe_holders
from tutor.safe_text import strip_controls
from tutor.session.asking import confirm_cluster, on_terminal
from tutor.session.cluster_checks import build_checks
from tutor.session.factory import open_connection, target_context
from tutor.session.setup import SessionRefused, Setup
from tutor.session.targeting import ClusterCommands
from tutor.trust import decide_trust

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

UNJUDGED_KINDS = frozenset({"process_alive"})
"""Only the tutor runs a lesson's background commands: a one-shot check cannot see them.
Their checks are reported (waiting) but do not decide the exit status; the checks beside
them (the http check through the port-forward) judge what the process is for."""

NOT_STARTED = "unavailable: not started by this check: background commands run in the tutor"


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
        lines: list[str] = []
        try:
            result = self.executor.run(argv, lambda line: lines.append(line.text), timeout=timeout)
        except MissingExecutable as err:
            return 127, str(err)
        except RunError as err:
            return 126, str(err)
        return (None if result.timed_out else result.exit_code), "\n".join(lines)

    def listener(self, port: int) -> str | None:
        return describe_holders(port)


def check(lesson: Lesson, options: Any) -> int:
    if getattr(options, "sandbox", False):
        print(
            "k8s-tutor check: --sandbox would start a new, empty simulated cluster, where every "
            "check waits. To check a sandbox, run `k8s-tutor sandbox --kubeconfig-out PATH` and "
            "then `k8s-tutor check LESSON --kubeconfig PATH`.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        overrides = parse_overrides(
            lesson, getattr(options, "overrides", []) or [], profile=getattr(options, "profile", None)
        )
    except BadOverride as err:
        print(f"k8s-tutor check: {err}", file=sys.stderr)
        return EXIT_USAGE
    named = getattr(options, "context", None)
    base = lesson.defaults(**({"profile": options.profile} if getattr(options, "profile", None) else {}))
    setup = Setup(
        kubeconfig=getattr(options, "kubeconfig", None),
        context=named,
        confirm=confirm_cluster if on_terminal() and not options.json else None,
    )
    try:
        connection = open_connection(setup, target_context(lesson, named, base["profile"]))
    except SessionRefused as err:
        print(f"k8s-tutor check: {err}", file=sys.stderr)
        return EXIT_USAGE
    executor = ShExecutor(policy=ClusterCommands(connection, profile=base["profile"]))
    try:
        steps = [lesson.step(options.step)] if getattr(options, "step", None) else list(lesson.steps)
        variables = _variables(lesson, options, connection, overrides)
        trust = decide_trust(lesson, given=bool(getattr(options, "trust", False)))
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
    return EXIT_OK if report.passed else EXIT_FAIL


def _variables(
    lesson: Lesson, options: Any, connection: ClusterConnection, overrides: dict[str, str]
) -> dict[str, str]:
    base: dict[str, str] = {}
    if getattr(options, "profile", None):
        base["profile"] = options.profile
    info = connection.info
    if info is not None:
        base.update(info.variables)
    base.update(overrides)
    return lesson.defaults(**base)


def _memory(lesson: Lesson, cluster: str | None) -> dict[str, Any]:
    if cluster is None:
        return {}
    from tutor.progress import ProgressStore

    return dict(ProgressStore().load(lesson.id, cluster).memory)
