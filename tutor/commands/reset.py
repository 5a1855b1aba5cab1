"""`k8s-tutor reset LESSON [--cluster] [--yes]`: forget progress; `--cluster` also undoes what
the lesson created.

Without `--cluster` only the saved progress goes: on the cluster `--context`/`--kubeconfig`
name, else on every cluster; at a terminal it asks first, unless `--yes`.

With `--cluster` the lesson's `{cleanup}` commands run last step first, as a learner would
type them, on the cluster a lesson session would use whatever kubectl's current context is
(`commands.cluster`: `--context`, else the lesson's minikube profile, else the current
context), through the same guard and the same command policy (`targeting.ClusterCommands`:
a session kubeconfig holding only that context, minikube on the lesson's profile). `--yes`
skips the questions about the cleanup itself; it never confirms a cluster that is not on
this machine, nor trusts a lesson from elsewhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tutor.cluster.connection import ClusterConnection
from tutor.cluster.kubeconfig import KubeconfigProblem, Source, load
from tutor.commands.cluster import connect
from tutor.commands.exit_codes import FAIL, OK, Failed, UsageError
from tutor.commands.lessons import find_lesson
from tutor.commands.options import ClusterChoice
from tutor.lesson.model import Command, Lesson
from tutor.lesson.variables import substitute
from tutor.progress import ProgressStore
from tutor.run import MissingExecutable, RunError, ShExecutor
from tutor.safe_text import strip_controls
from tutor.session.asking import ask_yes_no, confirm_cluster, on_terminal
from tutor.session.targeting import ClusterCommands
from tutor.trust import TrustStore, decide_trust, explain

Ask = Callable[[str], bool]


@dataclass(frozen=True)
class ResetOptions:
    lesson: str
    remove_created: bool = False
    """--cluster: also run the lesson's cleanup commands on its cluster."""
    yes: bool = False
    cluster: ClusterChoice = field(default_factory=ClusterChoice)
    lessons: tuple[Path, ...] = ()
    trust: bool = False


@dataclass
class Planned:
    step: str
    command: Command
    text: str


def run(options: ResetOptions) -> int:
    lesson = find_lesson(options.lessons, options.lesson)
    if options.remove_created:
        return reset_cluster(lesson, options)
    cluster = _progress_identity(options.cluster)
    if not options.yes and on_terminal():
        scope = f"on {cluster}" if cluster else "on every cluster"
        if not ask_yes_no(f"Forget your progress on {lesson.id} {scope}?"):
            print("Nothing changed.")
            return FAIL
    removed = ProgressStore().forget(lesson.id, cluster)
    if removed:
        print(f"Forgot progress on {lesson.id} ({len(removed)} cluster{'s' if len(removed) != 1 else ''}).")
    else:
        print(f"No progress on {lesson.id} was saved; nothing to forget.")
    return OK


def _progress_identity(choice: ClusterChoice) -> str | None:
    """The cluster `--context`/`--kubeconfig` name, as progress knows it (a sandbox's is its own);
    None: every cluster."""
    if not choice.context and not choice.kubeconfig:
        return None
    try:
        return str(load(Source.resolve(choice.kubeconfig, choice.context)).info.identity)
    except KubeconfigProblem as err:
        if choice.context:
            return str(choice.context)
        raise UsageError(f"cannot tell which cluster to forget: {err}") from None


def plan(lesson: Lesson, variables: dict[str, str]) -> list[Planned]:
    """The cleanup commands in the order they run: last step first."""
    planned = []
    for step in reversed(lesson.steps):
        for command in step.cleanup:
            planned.append(Planned(step.id, command, command.display(variables)))
    return planned


def reset_cluster(lesson: Lesson, options: ResetOptions, *, ask: Ask | None = None, out: TextIO | None = None) -> int:
    stream = out or sys.stdout

    def say(text: str) -> None:
        print(strip_controls(text), file=stream, flush=True)  # cleanup output, cluster names: text only

    if options.cluster.sandbox:
        say("The simulated cluster starts empty every time: there is nothing to reset.")
        return OK
    setup = options.cluster.setup(lesson, confirm=confirm_cluster if on_terminal() else None)
    connection, variables = connect(lesson, setup)
    try:
        return _reset(lesson, options, connection, variables, ask or ask_yes_no, say)
    finally:
        connection.close()


def _reset(
    lesson: Lesson,
    options: ResetOptions,
    connection: ClusterConnection,
    variables: dict[str, str],
    ask: Ask,
    say: Callable[[str], None],
) -> int:
    current = connection.info
    if current is None:
        raise Failed(f"nothing to reset: {connection.status.message}")
    steps = plan(lesson, variables)
    say(f"Resetting {lesson.id} on {current.describe()}.")
    if steps:
        say("These commands will run, last step first:")
        for item in steps:
            note = f"   (asks first: {item.command.ask})" if item.command.ask else ""
            say(f"    $ {item.text}{note}")
    trust = decide_trust(lesson, given=options.trust)
    if steps and not trust.trusted:
        # --yes confirms the reset, never a lesson from elsewhere: that takes --trust or a yes.
        say(explain(lesson))
        if options.yes or not ask(f"Trust {lesson.id} and run its cleanup commands?"):
            raise UsageError(trust.why)
        try:
            TrustStore().trust(lesson)
        except OSError as err:
            say(f"Trusted for this run; the trust could not be remembered ({err}).")
    if not options.yes:
        if not on_terminal() and ask is ask_yes_no:
            raise Failed("nothing changed; run again with --yes to confirm.")
        if not ask(f"Remove what {lesson.id} created and forget your progress on {current.name}?"):
            say("Nothing changed.")
            return FAIL
    executor = ShExecutor(policy=ClusterCommands(connection, profile=variables["profile"]))
    failures = _run(steps, variables, options.yes, ask, say, executor)
    removed = ProgressStore().forget(lesson.id, current.identity)
    say(f"Forgot your progress on {lesson.id} for {current.name}." if removed else "No saved progress to forget.")
    if failures:
        say(f"{failures} cleanup command{'s' if failures != 1 else ''} failed; see above.")
        return FAIL
    return OK


def _run(
    steps: list[Planned],
    variables: dict[str, str],
    yes: bool,
    ask: Ask,
    say: Callable[[str], None],
    executor: ShExecutor,
) -> int:
    failures = 0
    try:
        for item in steps:
            if item.command.ask and not yes and not ask(item.command.ask):
                say(f"Skipped: {item.text}")
                continue
            say(f"$ {item.text}")
            argv = [substitute(arg, variables) for arg in item.command.argv]
            try:
                result = executor.run(argv, lambda line: say(f"  | {line.text}"), timeout=item.command.timeout or 300)
            except (MissingExecutable, RunError) as err:
                say(f"  failed: {err}")
                failures += 1
                continue
            if result.exit_code not in item.command.ok_exit or result.timed_out:
                say(f"  failed: {result.describe()}")
                failures += 1
    finally:
        executor.close()
    return failures
