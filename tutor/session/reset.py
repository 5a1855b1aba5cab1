"""`k8s-tutor reset LESSON --cluster`: undo what the lesson created, then forget progress.

The lesson's `{cleanup}` commands run last step first, exactly as a learner would type
them, so they act on kubectl's current context. That is why reset first makes sure the
current context is the lesson's cluster (and a local one): a cleanup meant for a
minikube profile must never delete a namespace on whatever other cluster is current.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tutor.cluster.guard import decide
from tutor.cluster.kubeconfig import KubeconfigProblem, Source, load
from tutor.lesson.model import Command, Lesson
from tutor.lesson.overrides import BadOverride, parse_overrides
from tutor.lesson.variables import substitute
from tutor.progress import ProgressStore
from tutor.run import MissingExecutable, RunError, ShExecutor
from tutor.safe_text import strip_controls
from tutor.session.factory import target_context
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

    ask = ask or _ask_terminal
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
    kubeconfig = getattr(options, "kubeconfig", None)
    target = target_context(lesson, getattr(options, "context", None), variables["profile"])
    try:
        current = load(Source.resolve(kubeconfig, None)).info
    except KubeconfigProblem as err:
        print(f"k8s-tutor reset: cannot read the kubeconfig: {err}", file=sys.stderr)
        return EXIT_FAIL
    if target is not None and current.name != target:
        print(
            f"k8s-tutor reset: kubectl's current context is {current.name!r}, but the lesson's cluster is "
            f"{target!r}. The cleanup commands act on the current context, so switch first: "
            f"kubectl config use-context {target}",
            file=sys.stderr,
        )
        return EXIT_FAIL
    decision = decide(current, explicit=bool(getattr(options, "context", None)))
    confirmed = decision.needs_confirmation and not options.yes and ask(decision.message)
    if not decision.allowed and not confirmed:
        print(f"k8s-tutor reset: {decision.message}", file=sys.stderr)
        return EXIT_USAGE
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
        if not sys.stdin.isatty() and ask is _ask_terminal:
            print("k8s-tutor reset: nothing changed; run again with --yes to confirm.", file=sys.stderr)
            return EXIT_FAIL
        if not ask(f"Remove what {lesson.id} created and forget your progress on {current.name}?"):
            say("Nothing changed.")
            return EXIT_FAIL
    # Against a foreground `k8s-tutor sandbox`, its minikube stand-in runs the addon cleanup.
    shims = [current.sandbox_bin] if current.sandbox_bin else []
    failures = _run(steps, variables, options.yes, ask, say, shims)
    removed = ProgressStore().forget(lesson.id, current.name)
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
    path_prefix: list[str],
) -> int:
    executor = ShExecutor(path_prefix=path_prefix)
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


def _ask_terminal(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False
