"""`k8s-tutor check LESSON [--step STEP] [--json] [--no-start]`: the lesson's checks, once, with no TUI.

An adapter: it reaches the lesson's cluster and resolves the variables as a lesson
session would (`commands.cluster`), fills in `{node_ip}` from the cluster, hands the
checks to the cluster layer's `evaluate_once`, and prints the report. The checks that
do not pass because a background command of the lesson is not running (the port-forward
and the tunnel stop when the tutor quits) are judged again with that command started
for the time of the check (`session.check_processes`), unless `--no-start`: then they
are reported as not judged.

Exit status: 0 when every check judged passes (and at least one was judged); 1 when any
does not, including when there is no cluster yet or it cannot be reached (the report says
so: an instructor's script sees "not done"); 2 when the command itself cannot run as asked
(--sandbox, a context the guard refuses, a bad --set).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.cluster.checks import Check
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.engine import evaluate_once
from tutor.cluster.report import CheckLine, Report, Started, StepReport
from tutor.cluster.status import ConnectionStatus
from tutor.commands.cluster import connect
from tutor.commands.exit_codes import FAIL, OK, UsageError
from tutor.commands.lessons import find_lesson
from tutor.commands.options import ClusterChoice
from tutor.lesson.model import Lesson
from tutor.lesson.place import Place
from tutor.run import ShExecutor, describe_holders
from tutor.safe_text import strip_controls
from tutor.session.asking import confirm_cluster, on_terminal
from tutor.session.check_context import process_word, run_for_check
from tutor.session.check_processes import Background, CheckProcesses, backgrounds, serving
from tutor.session.cluster_checks import build_checks
from tutor.session.events import CheckId
from tutor.session.process_runner import ProcessRunner
from tutor.session.targeting import ClusterCommands
from tutor.trust import decide_trust

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
    start: bool = True
    """False (--no-start): start none of the lesson's background commands; the checks that
    need one are not judged."""


class HeadlessContext:
    """The background commands this run started; memory read from the learner's progress, never written."""

    def __init__(self, memory: dict[str, Any], executor: ShExecutor) -> None:
        self.memory = dict(memory)
        self.executor = executor

    def process_state(self, process_id: str) -> str | None:
        return process_word(self.executor, process_id)

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
        info = connection.info
        # The lesson as a session on this cluster runs it: its commands for the sandbox or a real one.
        lesson = lesson.for_place(Place.here(sandbox=info is not None and info.is_sandbox))
        steps = [lesson.step(options.step)] if options.step else list(lesson.steps)
        trust = decide_trust(lesson, given=options.trust)
        built = build_checks(
            steps,
            variables,
            node_ip=lambda: connection.node_ip(variables.get("profile")),
            untrusted=None if trust.trusted else trust.why,
        )
        memory = _memory(lesson, info.identity if info else None)
        context = HeadlessContext(memory, executor)
        runnable = {check_id: item.check for check_id, item in built.items() if item.check is not None}
        results, judged = evaluate_once(connection, context, runnable)
        lines = {
            check_id: CheckLine(item.kind, item.title, item.held or results[check_id])
            for check_id, item in built.items()
        }
        processes = CheckProcesses(ProcessRunner(executor), variables)
        needs = _needs(lesson, lines, variables)
        if needs:
            why_not = None if trust.trusted else trust.why
            if not options.start:
                why_not = "--no-start"
            if why_not is None:
                guard_processes()
                lines, judged = _judge_started(connection, context, runnable, lines, needs, processes)
            else:
                lines = _not_judged(lines, needs, variables, why_not)
        report = Report(
            lesson.id,
            lesson.title,
            tuple(
                StepReport(
                    step.id, step.title, tuple(line for check_id, line in lines.items() if check_id.step == step.id)
                )
                for step in steps
            ),
            info,
            judged,
            started=tuple(
                Started(item.background.process_id, item.background.step.id, item.command, item.ready, item.detail)
                for item in processes.started
                if item.attempted
            ),
            start=options.start,
        )
    finally:
        executor.close()
        connection.close()
    if options.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(strip_controls(report.to_text()))  # names and messages from the cluster: text only
    return OK if report.passed else FAIL


def _needs(
    lesson: Lesson, lines: Mapping[CheckId, CheckLine], variables: Mapping[str, str]
) -> dict[CheckId, Background]:
    """The checks that do not pass now, and could once a background command of the lesson runs.

    A check that waits for the cluster itself (not reachable, not read yet) is not one: no
    process would change that."""
    candidates = backgrounds(lesson)
    needs = {}
    for check_id, line in lines.items():
        if line.result.passed or line.result.unjudged is not None:
            continue
        spec = lesson.step(check_id.step).checks[check_id.index]
        background = serving(spec, candidates, variables)
        if background is not None:
            needs[check_id] = background
    return needs


def _judge_started(
    connection: ClusterConnection,
    context: HeadlessContext,
    runnable: Mapping[CheckId, Check],
    lines: dict[CheckId, CheckLine],
    needs: Mapping[CheckId, Background],
    processes: CheckProcesses,
) -> tuple[dict[CheckId, CheckLine], ConnectionStatus]:
    """Start what the checks need, judge them again, and say what was done for each."""
    up = processes.start(list(needs.values()))
    starts = {check_id: up[background.process_id] for check_id, background in needs.items()}
    again = {check_id: runnable[check_id] for check_id, start in starts.items() if start.running}
    results, judged = evaluate_once(connection, context, again) if again else ({}, connection.status)
    out = dict(lines)
    for check_id, start in starts.items():
        line = lines[check_id]
        note = start.note()
        if start.running:
            result = results[check_id]
            out[check_id] = dataclasses.replace(line, result=result, note="" if result.passed else note)
        elif start.needs_terminal:
            out[check_id] = dataclasses.replace(
                line, not_judged=f"not judged: it needs `{start.command}` running, and {start.detail}"
            )
        elif not start.attempted and line.kind == "process_alive":
            # Its port is held, perhaps by that very command in a tutor still running: a check
            # cannot see the tutor's processes. The checks of that port judge what answers there.
            out[check_id] = dataclasses.replace(
                line, not_judged=f"not judged: `{start.command}` was not started here: {start.detail}"
            )
        else:
            out[check_id] = dataclasses.replace(line, note=note)
    return out, judged


def _not_judged(
    lines: dict[CheckId, CheckLine], needs: Mapping[CheckId, Background], variables: Mapping[str, str], why: str
) -> dict[CheckId, CheckLine]:
    out = dict(lines)
    for check_id, background in needs.items():
        text = background.text(variables)
        if why == "--no-start":
            reason = f"not judged: it needs `{text}` running, and --no-start starts nothing"
        else:
            reason = f"not judged: it needs `{text}` running, which this lesson may not run: {why}"
        out[check_id] = dataclasses.replace(lines[check_id], not_judged=reason)
    return out


def guard_processes() -> None:
    """Before the first child: none outlives this command, however it ends (a signal, a crash)."""
    from tutor.run import install_exit_handlers

    install_exit_handlers(watchdog=True, then=_close_and_die)


def _close_and_die(signum: int) -> None:
    """The run layer has ended every child: remove the session kubeconfig, then die of the signal."""
    from tutor.cluster import pin

    with contextlib.suppress(Exception):
        pin.close_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _memory(lesson: Lesson, cluster: str | None) -> dict[str, Any]:
    if cluster is None:
        return {}
    from tutor.progress import ProgressStore

    return dict(ProgressStore().load(lesson.id, cluster).memory)
