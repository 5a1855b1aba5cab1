"""`k8s-tutor reset LESSON --cluster`: undo what the lesson created, then forget progress.

The lesson's `{cleanup}` commands run last step first, as a learner would type them,
but on the lesson's cluster whatever kubectl's current context is: the same cluster a
lesson session would use (`--context`, else the lesson's minikube profile, else the
current context), through the same guard and the same command policy
(`targeting.ClusterCommands`: a session kubeconfig holding only that context, minikube
on the lesson's profile). `--yes` skips the questions about the cleanup itself; it
never confirms a cluster that is not on this machine.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tutor.cluster.connection import ClusterConnection
from tutor.lesson.model import Command, Lesson
from tutor.lesson.overrides import BadOverride, parse_overrides
from tutor.lesson.variables import substitute
from tutor.progress import ProgressStore
from tutor.run import MissingExecutable, RunError, ShExecutor
from tutor.safe_text import strip_controls
from tutor.session.asking import ask_yes_no, confirm_cluster, on_terminal
from tutor.session.factory import open_connection, target_context
from tutor.session.setup import SessionRefused, Setup
from tutor.session.targeting import ClusterCommands
from tutor.trust import TrustStore, decide_trust, explain

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

Ask = Callable[[str], bool]


@dataclass
class Planned:
    step: str
    command: Command
    text: str


def plan(lesson: Lesson, variables: dict[str, str]) -> list[Planned]:
    """The cleanup commands in the order they run: last step first."""
    planned = []
    for step in reversed(lesson.steps):
        for command in step.cleanup:
            planned.append(Planned(step.id, command, command.display(variables)))
    return planned


def reset_cluster(lesson: Lesson, options: Any, *, ask: Ask | None = None, out: Any = None) -> int:
    out = out or sys.stdout

    def say(text: str) -> None:
        print(strip_controls(text), file=out, flush=True)  # cleanup output, cluster names: text only

    ask = ask or ask_yes_no
    if getattr(options, "sandbox", False):
        say("The simulated cluster starts empty every time: there is nothing to reset.")
        return EXIT_OK
    try:
        overrides = parse_overrides(
            lesson, getattr(options, "overrides", []) or [], profile=getattr(options, "profile", None)
        )
    except BadOverride as err:
        print(f"k8s-tutor reset: {err}", file=sys.stderr)
        return EXIT_USAGE
    base = dict(overrides)
    if getattr(options, "profile", None):
        base.setdefault("profile", options.profile)
    variables = lesson.defaults(**base)
    named = getattr(options, "context", None)
    setup = Setup(
        kubeconfig=getattr(options, "kubeconfig", None),
        context=named,
        confirm=confirm_cluster if on_terminal() else None,
    )
    try:
        connection = open_connection(setup, target_context(lesson, named, variables["profile"]))
    except SessionRefused as err:
        print(f"k8s-tutor reset: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _reset(lesson, options, connection, variables, ask, say)
    finally:
        connection.close()


def _reset(
    lesson: Lesson,
    options: Any,
    connection: ClusterConnection,
    variables: dict[str, str],
    ask: Ask,
    say: Callable[[str], None],
) -> int:
    current = connection.info
    if current is None:
        print(f"k8s-tutor reset: nothing to reset: {connection.status.message}", file=sys.stderr)
        return EXIT_FAIL
    steps = plan(lesson, variables)
    say(f"Resetting {lesson.id} on {current.describe()}.")
    if steps:
        say("These commands will run, last step first:")
        for item in steps:
            note = f"   (asks first: {item.command.ask})" if item.command.ask else ""
            say(f"    $ {item.text}{note}")
    trust = decide_trust(lesson, given=bool(getattr(options, "trust", False)))
    if steps and not trust.trusted:
        # --yes confirms the reset, never a lesson from elsewhere: that takes --trust or a yes.
        say(explain(lesson))
        if options.yes or not ask(f"Trust {lesson.id} and run its cleanup commands?"):
            print(f"k8s-tutor reset: {trust.why}", file=sys.stderr)
            return EXIT_USAGE
        try:
            TrustStore().trust(lesson)
        except OSError as err:
            say(f"Trusted for this run; the trust could not be remembered ({err}).")
    if not options.yes:
        if not on_terminal() and ask is ask_yes_no:
            print("k8s-tutor reset: nothing changed; run again with --yes to confirm.", file=sys.stderr)
            return EXIT_FAIL
        if not ask(f"Remove what {lesson.id} created and forget your progress on {current.name}?"):
            say("Nothing changed.")
            return EXIT_FAIL
    executor = ShExecutor(policy=ClusterCommands(connection, profile=variables["profile"]))
    failures = _run(steps, variables, options.yes, ask, say, executor)
    removed = ProgressStore().forget(lesson.id, current.identity)
    say(f"Forgot your progress on {lesson.id} for {current.name}." if removed else "No saved progress to forget.")
    if failures:
        say(f"{failures} cleanup command{'s' if failures != 1 else ''} failed; see above.")
        return EXIT_FAIL
    return EXIT_OK


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
