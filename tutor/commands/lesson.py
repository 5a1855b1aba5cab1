"""`k8s-tutor [LESSON]`: open a lesson in the TUI or in line mode, or pick one first.

Start-up time matters here: the TUI's first paint must come within 1.5x of a minimal
Textual app's, so nothing heavy is imported before it (the kubernetes client and the run
layer load after the first paint; see `_after_first_paint`).

However the tutor ends (quit, Ctrl+C, SIGTERM, SIGHUP), no process it started survives
and the terminal is given back: the run layer's exit handlers end the child processes,
then `_close_and_die` closes what is open here (the sandbox, the session kubeconfig).
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.commands import listing
from tutor.commands.exit_codes import OK, UsageError
from tutor.commands.lessons import find_lesson
from tutor.commands.options import ClusterChoice
from tutor.lesson.place import Place
from tutor.safe_text import strip_controls
from tutor.session.asking import on_terminal

if TYPE_CHECKING:
    from tutor.sandbox import Sandbox


@dataclass(frozen=True)
class LessonOptions:
    lesson: str | None = None
    """None: pick one (in the TUI), or list them (in line mode)."""
    step: str | None = None
    plain: bool = False
    autoplay: bool = False
    cluster: ClusterChoice = field(default_factory=ClusterChoice)
    lessons: tuple[Path, ...] = ()
    trust: bool = False


def run(options: LessonOptions) -> int:
    name = options.lesson
    if name is None:
        if options.plain or not tui_possible():
            return listing.run(listing.ListOptions(lessons=options.lessons))
        name = _pick_lesson(options.lessons, sandbox=options.cluster.sandbox)
        if name is None:
            return OK
        # Then on exactly as if the learner had named it: same flags, same cluster set-up.
    choice = options.cluster
    # The lesson as it reads where it runs: what is only for another backend or platform goes.
    lesson = find_lesson(options.lessons, name, options.step).for_place(Place.here(sandbox=choice.sandbox))
    first = choice.setup(lesson)  # a bad --set or --profile stops here, before anything starts
    if choice.sandbox and (choice.kubeconfig or choice.context):
        raise UsageError("--sandbox runs its own simulated cluster: leave out --kubeconfig and --context")
    tui = not options.plain and tui_possible()
    if not tui:
        _install_exit_handlers()
    with _cluster_for(options, profile=first.variables(lesson)["profile"]) as where:
        setup = replace(
            first,
            kubeconfig=where.kubeconfig or choice.kubeconfig,
            env=where.env,
            cluster_variables=where.variables,
            shell_env=where.shell_env,
            sandbox=where.sandbox,
            save_progress=not where.sandbox,
            trust_given=options.trust,
        )
        if not tui:
            from tutor.plain.view import run_plain

            return run_plain(lesson, setup, step_id=options.step, autoplay=options.autoplay)
        # Until the first paint, no garbage collection: building the screen allocates tens of
        # thousands of objects that live as long as the app, and Python's collector walked
        # them ~200 times on the way to the first paint (~40 ms, 15 ms of it in one pass).
        gc.disable()
        try:
            from tutor.ui.app import run_tui
            from tutor.ui.terminal import terminal_keeper

            # A signal ends the tutor without Textual's own way out: the terminal is given
            # back before anything else is closed, from the first frame on (the exit handlers,
            # installed after the first paint, end the child processes first).
            _CLOSE_ON_SIGNAL.append(terminal_keeper())
            for signum in _EXIT_SIGNALS:
                signal.signal(signum, lambda signum, _frame: _close_and_die(signum))

            # The TUI installs them itself, after its first paint: loading the run layer (sh)
            # first would cost the learner a visibly slower start.
            return int(
                run_tui(lesson, setup, step_id=options.step, autoplay=options.autoplay, prepare=_after_first_paint)
            )
        finally:
            gc.enable()


def tui_possible() -> bool:
    """A terminal on both ends that can draw: otherwise the lesson runs in line mode."""
    return (
        sys.stdout is not None
        and sys.stdout.isatty()
        and on_terminal()
        and os.environ.get("TERM", "") not in ("", "dumb")
    )


def _pick_lesson(lessons: tuple[Path, ...], *, sandbox: bool) -> str | None:
    from tutor.ui.app import pick_lesson
    from tutor.ui.choices import LessonChoice

    choices = [
        LessonChoice(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            steps=len(row["steps"]),
            progress=tuple(
                strip_controls(f"{item['cluster']}: {len(item['completed'])} of {len(row['steps'])} steps done")
                for item in row["progress"]
            ),
        )
        for row in listing.lesson_rows(lessons)
    ]
    note = ""
    if not sandbox and shutil.which("minikube") is None:
        note = (
            "minikube is not installed here. To take a lesson on a simulated cluster instead, "
            "quit (q) and start k8s-tutor --sandbox."
        )
    return pick_lesson(choices, note=note)


# --- the end of the tutor, however it comes ----------------------------------------------


def _after_first_paint() -> None:
    """Run by the TUI on the app's thread once the lesson is on screen, before any command."""
    # What exists now lives as long as the app: kept out of every later collection (the
    # little garbage among it stays, as gc.freeze documents), and collection goes on.
    gc.freeze()
    gc.enable()
    _install_exit_handlers()


_CLOSE_ON_SIGNAL: list[Callable[[], object]] = []
"""What must be closed when a signal ends the tutor, besides its processes (the sandbox's files),
last first: the TUI's terminal is given back first."""
_EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _install_exit_handlers() -> None:
    from tutor.run import install_exit_handlers

    # Before any child process exists: none may outlive the tutor, however it ends.
    install_exit_handlers(watchdog=True, then=_close_and_die)


def _close_and_die(signum: int) -> None:
    """After the run layer has ended every child: close what is open, then die of the signal."""
    while _CLOSE_ON_SIGNAL:
        with contextlib.suppress(Exception):
            _CLOSE_ON_SIGNAL.pop()()
    pin = sys.modules.get("tutor.cluster.pin")
    if pin is not None:
        # The session kubeconfig: a copy of the learner's credentials, not to be left behind.
        with contextlib.suppress(Exception):
            pin.close_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


# --- where the cluster is -----------------------------------------------------------------


@dataclass
class _Where:
    """Where the lesson's cluster is: the learner's kubeconfig, or a sandbox started here."""

    kubeconfig: Path | None = None
    env: dict[str, str] | None = None
    variables: dict[str, str] = field(default_factory=dict)
    """The lesson variables the sandbox sets (its ingress port, when 80 is taken)."""
    sandbox: bool = False
    shell_env: Path | None = None
    """The sandbox's env.sh: `source` it in another terminal to reach the same cluster."""


@contextlib.contextmanager
def _cluster_for(options: LessonOptions, *, profile: str) -> Iterator[_Where]:
    if not options.cluster.sandbox:
        yield _Where()
        return
    from tutor.sandbox import Delays, Sandbox

    # A cluster that does not exist yet: the lesson's first step starts it, as with minikube.
    # Autoplay (demos, CI) need not wait for simulated image pulls.
    pace = os.environ.get("K8S_TUTOR_SANDBOX_DELAYS", "instant" if options.autoplay else "realistic")
    if pace not in ("instant", "realistic"):
        raise UsageError(f"K8S_TUTOR_SANDBOX_DELAYS must be 'instant' or 'realistic', not {pace!r}")
    delays = Delays.instant() if pace == "instant" else Delays.realistic()
    with Sandbox(delays=delays, started=False, profile=profile) as sandbox:
        _CLOSE_ON_SIGNAL.append(sandbox.close)
        try:
            yield _Where(
                kubeconfig=sandbox.kubeconfig,
                env=sandbox.env(),
                variables=sandbox.variable_overrides(),
                sandbox=True,
                shell_env=_write_env_script(sandbox),
            )
        finally:
            with contextlib.suppress(ValueError):
                _CLOSE_ON_SIGNAL.remove(sandbox.close)


def _write_env_script(sandbox: Sandbox) -> Path | None:
    """The line a learner's own terminal needs, as `k8s-tutor sandbox` writes it, in the
    sandbox's own folder (private to the user, removed with it)."""
    from tutor.sandbox.main import env_script

    if sandbox.standins is None:
        return None
    script = Path(sandbox.standins.shim_dir).parent / "env.sh"
    script.write_text(env_script(sandbox))
    return script
