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
from tutor.session.asking import ask_text, on_terminal

if TYPE_CHECKING:
    from tutor.sandbox import Sandbox
    from tutor.session.workshop import WorkshopSetup


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
    workshop: str | None = None
    """--workshop URL (or K8S_TUTOR_WORKSHOP): the board to join, its join code at the end."""
    name: str | None = None
    """--name: the learner's name on that board."""
    pause: bool = False
    """With autoplay: wait for a key before each step's commands (a presenter talks them through)."""
    present: bool = False
    """The projector's layout in the TUI: the prose alone, centred, in a high-contrast theme."""


def run(options: LessonOptions) -> int:
    if options.pause and not options.autoplay:
        raise UsageError("--pause pauses autoplay before each step's commands: give it with --autoplay")
    if options.present and options.plain:
        raise UsageError("--present is a layout of the TUI: leave out --plain (line mode has no layout)")
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
    workshop = _workshop(options, ask_here=not tui)  # before anything starts: a bad URL stops here
    if not tui:
        if options.present:
            print("k8s-tutor: --present needs a terminal to draw on: showing the lesson in line mode", file=sys.stderr)
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
            workshop=workshop,
        )
        if not tui:
            from tutor.plain.view import run_plain

            return run_plain(lesson, setup, step_id=options.step, autoplay=options.autoplay, pause=options.pause)
        # Until the first paint, no garbage collection: building the screen allocates tens of
        # thousands of objects that live as long as the app, and Python's collector walked
        # them ~200 times on the way to the first paint (~40 ms, 15 ms of it in one pass).
        gc.disable()
        try:
            from tutor.ui.app import run_tui
            from tutor.ui.presenter import Presentation
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
                run_tui(
                    lesson,
                    setup,
                    step_id=options.step,
                    autoplay=options.autoplay,
                    prepare=_after_first_paint,
                    presentation=Presentation(pause=options.pause, present=options.present),
                )
            )
        finally:
            gc.enable()


NAME_TRIES = 3


def _workshop(options: LessonOptions, *, ask_here: bool) -> WorkshopSetup | None:
    """The workshop to join and the learner's name on its board: --name, else the name this
    learner joined with before, else asked (here on the terminal, or by the TUI)."""
    if options.workshop is None:
        if options.name is not None:
            raise UsageError("--name is your name on a workshop's board: give the workshop's URL too (--workshop URL)")
        return None
    from tutor.session.workshop import WorkshopSetup, saved_name
    from tutor.workshop.http import BadUrl, WorkshopUrl
    from tutor.workshop.snapshot import SnapshotError, display_name

    try:
        url = WorkshopUrl.parse(options.workshop, join=True)
    except BadUrl as err:
        raise UsageError(f"--workshop: {err}") from None
    name = options.name
    if name is not None:
        try:
            return WorkshopSetup(url, display_name(name.strip(), "--name"))
        except SnapshotError as err:
            raise UsageError(f"{err} (your name on the board: 1 to 40 characters on one line)") from None
    name = saved_name(url)
    if name is not None or not ask_here:
        return WorkshopSetup(url, name)  # None: the TUI asks
    if not on_terminal():
        raise UsageError(
            "joining a workshop needs your name on its board, and there is no terminal to ask it on: give --name NAME"
        )
    for _ in range(NAME_TRIES):
        answer = ask_text("Your name on the workshop's board (as the instructor will see it): ")
        if answer is None:
            break
        try:
            return WorkshopSetup(url, display_name(answer.strip()))
        except SnapshotError as err:
            print(f"k8s-tutor: that name cannot be shown: {err.problem}", file=sys.stderr)
    raise UsageError("no name given for the workshop's board: give --name NAME, or type one when asked")


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
