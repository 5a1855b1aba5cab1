"""The `k8s-tutor` command line.

Start-up time matters: `--version`, `list` and `lint` must answer without importing the
kubernetes client or Textual (together about half a second), so every heavy import
happens inside the command that needs it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tutor import __version__

SUBCOMMANDS = ("list", "check", "reset", "lint", "doctor", "sandbox", "workshop")

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user: printed as one message, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _lesson_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lessons",
        metavar="DIR",
        action="append",
        type=Path,
        default=[],
        help="an extra folder of lessons (repeatable); also K8S_TUTOR_LESSONS",
    )


def _cluster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--context", metavar="CTX", help="the kubeconfig context to use (as in kubectl)")
    parser.add_argument("--kubeconfig", metavar="PATH", type=Path, help="the kubeconfig file (as in kubectl)")
    parser.add_argument("--profile", metavar="NAME", help="the minikube profile (default: the lesson's)")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="use the built-in simulated cluster (no minikube needed)",
    )
    parser.add_argument(
        "--set",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        dest="overrides",
        help="override a lesson variable, e.g. --set local_port=9191 (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="k8s-tutor",
        description="Learn Kubernetes hands-on: lessons that run live against your cluster.",
        epilog="Commands: list, check, reset, lint, doctor, sandbox, workshop. `k8s-tutor COMMAND --help` for each.",
    )
    parser.add_argument("--version", action="version", version=f"k8s-tutor {__version__}")
    parser.add_argument("lesson", nargs="?", help="the lesson to open, e.g. day55 (none: pick one)")
    parser.add_argument("--step", metavar="STEP", help="jump to one step; earlier steps are checked first")
    parser.add_argument("--plain", action="store_true", help="line mode, no TUI (screen readers, logs, CI)")
    parser.add_argument("--autoplay", action="store_true", help="run every step's commands and wait for its checks")
    _cluster_options(parser)
    _lesson_options(parser)
    return parser


def build_subparser(command: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=f"k8s-tutor {command}")
    if command == "list":
        parser.description = "List lessons, their steps and your progress."
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        _lesson_options(parser)
    elif command == "check":
        parser.description = "Evaluate a lesson's checks against the cluster once; exit 0 if all pass."
        parser.add_argument("lesson")
        parser.add_argument("--step", metavar="STEP", help="only this step's checks")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        _cluster_options(parser)
        _lesson_options(parser)
    elif command == "reset":
        parser.description = "Forget progress on a lesson; --cluster also removes what it created."
        parser.add_argument("lesson")
        parser.add_argument("--cluster", action="store_true", help="also remove what the lesson created")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        _cluster_options(parser)
        _lesson_options(parser)
    elif command == "lint":
        parser.description = "Validate lesson files; prints file:line: message, exits 1 on errors."
        parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders")
    elif command == "doctor":
        parser.description = "Check tools, versions, the cluster context, profile and addons."
        parser.add_argument("lesson", nargs="?")
        _cluster_options(parser)
        _lesson_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except UsageError as err:
        print(f"k8s-tutor: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nk8s-tutor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`k8s-tutor list | head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


VALUE_OPTIONS = {
    "--step",
    "--context",
    "--kubeconfig",
    "--profile",
    "--set",
    "--lessons",
    "--port",
    "--kubeconfig-out",
}


def _first_positional(args: list[str]) -> str | None:
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--":
            return None
        elif arg.startswith("-"):
            skip = arg in VALUE_OPTIONS
        else:
            return arg
    return None


def _dispatch(args: list[str]) -> int:
    command = _first_positional(args)
    if command in SUBCOMMANDS:
        rest = list(args)
        rest.remove(command)
        if command == "sandbox":
            from tutor.sandbox.main import main as sandbox_main

            return sandbox_main(rest)
        if command == "workshop":
            from tutor.workshop.main import main as workshop_main

            return workshop_main(rest)
        options = build_subparser(command).parse_args(rest)
        handler = {
            "list": cmd_list,
            "check": cmd_check,
            "reset": cmd_reset,
            "lint": cmd_lint,
            "doctor": cmd_doctor,
        }[command]
        return handler(options)
    options = build_parser().parse_args(args)
    return cmd_lesson(options)


# --- lessons ---------------------------------------------------------------------------


def _extra_lesson_dirs(options: argparse.Namespace) -> list[Path]:
    dirs = list(getattr(options, "lessons", []) or [])
    env = os.environ.get("K8S_TUTOR_LESSONS")
    if env:
        dirs.extend(Path(part) for part in env.split(os.pathsep) if part)
    for folder in dirs:
        if not folder.exists():
            raise UsageError(f"lesson folder {folder} does not exist")
    return dirs


def _catalog(options: argparse.Namespace) -> Any:
    from tutor import lesson_cache
    from tutor.lesson.catalog import Catalog

    catalog = Catalog.discover(_extra_lesson_dirs(options), loader=lesson_cache.load)
    for problem in catalog.broken:
        print(f"k8s-tutor: skipped a broken lesson: {problem}", file=sys.stderr)
    return catalog


def _find_lesson(options: argparse.Namespace, lesson_id: str) -> Any:
    catalog = _catalog(options)
    if lesson_id not in catalog.lessons:
        known = ", ".join(sorted(catalog.lessons)) or "none"
        raise UsageError(f"no lesson '{lesson_id}'; lessons: {known} (`k8s-tutor list` shows them)")
    lesson = catalog.get(lesson_id)
    step = getattr(options, "step", None)
    if step is not None and step not in [s.id for s in lesson.steps]:
        steps = ", ".join(s.id for s in lesson.steps)
        raise UsageError(f"lesson {lesson.id} has no step '{step}'; its steps: {steps}")
    return lesson


def parse_overrides(lesson: Any, pairs: Sequence[str]) -> dict[str, str]:
    """`--set name=value` pairs, checked against the lesson's variables."""
    from tutor.lesson.overrides import BadOverride
    from tutor.lesson.overrides import parse_overrides as parse

    try:
        return parse(lesson, pairs)
    except BadOverride as err:
        raise UsageError(str(err)) from None


def _lesson_rows(options: argparse.Namespace) -> list[dict[str, Any]]:
    """Every lesson with its steps and saved progress: `list --json`'s rows, and the picker's."""
    from tutor.progress import ProgressStore

    catalog = _catalog(options)
    store = ProgressStore()
    rows = []
    for lesson in sorted(catalog.lessons.values(), key=lambda item: item.id):
        progress = store.all_for(lesson.id)
        rows.append(
            {
                "id": lesson.id,
                "title": lesson.title,
                "description": lesson.description,
                "path": str(lesson.path),
                "steps": [{"id": step.id, "title": step.title} for step in lesson.steps],
                "progress": [
                    {
                        "cluster": item.cluster,
                        "completed": [s.id for s in lesson.steps if item.is_done(s.id)],
                        "current": item.current,
                        "updated": item.updated,
                    }
                    for item in progress
                ],
            }
        )
    return rows


def cmd_list(options: argparse.Namespace) -> int:
    rows = _lesson_rows(options)
    if options.json:
        print(json.dumps({"lessons": rows}, indent=2))
        return EXIT_OK
    if not rows:
        print("No lessons found.")
        return EXIT_OK
    width = max(len(row["id"]) for row in rows)
    for row in rows:
        done = "; ".join(
            f"{item['cluster']}: {len(item['completed'])}/{len(row['steps'])} done" for item in row["progress"]
        )
        print(f"{row['id']:<{width}}  {row['title']}  ({len(row['steps'])} steps){'  ' + done if done else ''}")
        for index, step in enumerate(row["steps"], 1):
            print(f"{'':<{width}}  {index:>2}. {step['id']}: {step['title']}")
    return EXIT_OK


def cmd_lint(options: argparse.Namespace) -> int:
    from tutor.lesson.catalog import builtin_dir
    from tutor.lesson.lint import lint

    paths = options.paths or [builtin_dir()]
    problems, count = lint(paths)
    for problem in problems:
        print(problem)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    summary = f"{count} lesson file{'s' if count != 1 else ''} checked: {errors} error{'s' if errors != 1 else ''}"
    if warnings:
        summary += f", {warnings} warning{'s' if warnings != 1 else ''}"
    print(summary, file=sys.stderr)
    return EXIT_FAIL if errors else EXIT_OK


def cmd_reset(options: argparse.Namespace) -> int:
    from tutor.progress import ProgressStore

    lesson = _find_lesson(options, options.lesson)
    if options.cluster:
        from tutor.session.reset import reset_cluster

        return int(reset_cluster(lesson, options))
    store = ProgressStore()
    cluster = options.context
    if not options.yes and sys.stdin.isatty():
        scope = f"on {cluster}" if cluster else "on every cluster"
        answer = input(f"Forget your progress on {lesson.id} {scope}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return EXIT_FAIL
    removed = store.forget(lesson.id, cluster)
    if removed:
        print(f"Forgot progress on {lesson.id} ({len(removed)} cluster{'s' if len(removed) != 1 else ''}).")
    else:
        print(f"No progress on {lesson.id} was saved; nothing to forget.")
    return EXIT_OK


def cmd_check(options: argparse.Namespace) -> int:
    lesson = _find_lesson(options, options.lesson)
    from tutor.session.headless import check

    return int(check(lesson, options))


def cmd_doctor(options: argparse.Namespace) -> int:
    lesson = _find_lesson(options, options.lesson) if options.lesson else None
    from tutor.session.doctor import doctor

    return int(doctor(lesson, options))


def cmd_lesson(options: argparse.Namespace) -> int:
    if options.lesson is None:
        if options.plain or not _tui_possible():
            return cmd_list(argparse.Namespace(json=False, lessons=options.lessons))
        chosen = _pick_lesson(options)
        if chosen is None:
            return EXIT_OK
        # Then on exactly as if the learner had named it: same flags, same cluster set-up.
        options.lesson = chosen
    lesson = _find_lesson(options, options.lesson)
    overrides = parse_overrides(lesson, options.overrides)
    if options.sandbox and (options.kubeconfig or options.context):
        raise UsageError("--sandbox runs its own simulated cluster: leave out --kubeconfig and --context")
    tui = not options.plain and _tui_possible()
    if not tui:
        _install_exit_handlers()
    with _cluster_for(options, lesson) as where:
        from tutor.session.setup import Setup

        setup = Setup(
            kubeconfig=where.kubeconfig or options.kubeconfig,
            context=options.context,
            profile=options.profile,
            overrides=overrides,
            env=where.env,
            cluster_variables=where.variables,
            sandbox=where.sandbox,
            save_progress=not where.sandbox,
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

            # The TUI installs them itself, after its first paint: loading the run layer (sh)
            # first would cost the learner a visibly slower start.
            return int(
                run_tui(lesson, setup, step_id=options.step, autoplay=options.autoplay, prepare=_after_first_paint)
            )
        finally:
            gc.enable()


def _after_first_paint() -> None:
    """Run by the TUI on the app's thread once the lesson is on screen, before any command."""
    # What exists now lives as long as the app: kept out of every later collection (the
    # little garbage among it stays, as gc.freeze documents), and collection goes on.
    gc.freeze()
    gc.enable()
    _install_exit_handlers()


_CLOSE_ON_SIGNAL: list[Callable[[], object]] = []
"""What must be closed when a signal ends the tutor, besides its processes (the sandbox's files)."""


def _install_exit_handlers() -> None:
    from tutor.run import install_exit_handlers

    # Before any child process exists: none may outlive the tutor, however it ends.
    install_exit_handlers(watchdog=True, then=_close_and_die)


def _close_and_die(signum: int) -> None:
    """After the run layer has ended every child: close what is open, then die of the signal."""
    while _CLOSE_ON_SIGNAL:
        with contextlib.suppress(Exception):
            _CLOSE_ON_SIGNAL.pop()()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _pick_lesson(options: argparse.Namespace) -> str | None:
    from tutor.ui.app import pick_lesson
    from tutor.ui.choices import LessonChoice

    choices = [
        LessonChoice(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            steps=len(row["steps"]),
            progress=tuple(
                f"{item['cluster']}: {len(item['completed'])} of {len(row['steps'])} steps done"
                for item in row["progress"]
            ),
        )
        for row in _lesson_rows(options)
    ]
    return pick_lesson(choices)


def _tui_possible() -> bool:
    return sys.stdout.isatty() and sys.stdin.isatty() and os.environ.get("TERM", "") not in ("", "dumb")


class _Where:
    """Where the lesson's cluster is: the learner's kubeconfig, or a sandbox started here."""

    def __init__(self) -> None:
        self.kubeconfig: Path | None = None
        self.env: dict[str, str] | None = None
        self.variables: dict[str, str] = {}
        self.sandbox = False


@contextlib.contextmanager
def _cluster_for(options: argparse.Namespace, lesson: Any) -> Iterator[_Where]:
    where = _Where()
    if not options.sandbox:
        yield where
        return
    from tutor.sandbox import Delays, Sandbox

    # A cluster that does not exist yet: the lesson's first step starts it, as with minikube.
    # Autoplay (demos, CI) need not wait for simulated image pulls.
    pace = os.environ.get("K8S_TUTOR_SANDBOX_DELAYS", "instant" if options.autoplay else "realistic")
    if pace not in ("instant", "realistic"):
        raise UsageError(f"K8S_TUTOR_SANDBOX_DELAYS must be 'instant' or 'realistic', not {pace!r}")
    delays = Delays.instant() if pace == "instant" else Delays.realistic()
    with Sandbox(delays=delays, started=False, profile=options.profile or lesson.profile) as sandbox:
        _CLOSE_ON_SIGNAL.append(sandbox.close)
        where.kubeconfig = sandbox.kubeconfig
        where.env = sandbox.env()
        where.variables = sandbox.variable_overrides()
        where.sandbox = True
        try:
            yield where
        finally:
            with contextlib.suppress(ValueError):
                _CLOSE_ON_SIGNAL.remove(sandbox.close)
