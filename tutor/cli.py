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
from tutor.safe_text import strip_controls

SUBCOMMANDS = ("list", "check", "reset", "lint", "doctor", "sandbox", "trust", "workshop")

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


def _trust_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust",
        action="store_true",
        help="let a lesson from --lessons run its commands in this run, without asking (CI)",
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
        epilog="Commands: list, check, reset, lint, doctor, sandbox, trust, workshop. "
        "`k8s-tutor COMMAND --help` for each.",
    )
    parser.add_argument("--version", action="version", version=f"k8s-tutor {__version__}")
    parser.add_argument("lesson", nargs="?", help="the lesson to open, e.g. day55 (none: pick one)")
    parser.add_argument("--step", metavar="STEP", help="jump to one step; earlier steps are checked first")
    parser.add_argument("--plain", action="store_true", help="line mode, no TUI (screen readers, logs, CI)")
    parser.add_argument("--autoplay", action="store_true", help="run every step's commands and wait for its checks")
    _cluster_options(parser)
    _lesson_options(parser)
    _trust_option(parser)
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
        _trust_option(parser)
    elif command == "reset":
        parser.description = "Forget progress on a lesson; --cluster also removes what it created."
        parser.add_argument("lesson")
        parser.add_argument("--cluster", action="store_true", help="also remove what the lesson created")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        _cluster_options(parser)
        _lesson_options(parser)
        _trust_option(parser)
    elif command == "lint":
        parser.description = "Validate lesson files; prints file:line: message, exits 1 on errors."
        parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders")
    elif command == "doctor":
        parser.description = "Check tools, versions, the cluster context, profile and addons."
        parser.add_argument("lesson", nargs="?")
        _cluster_options(parser)
        _lesson_options(parser)
    elif command == "trust":
        parser.description = (
            "Let a lesson from elsewhere run its commands: shows what it runs and reaches, then asks. "
            "Without LESSON: list the lessons you trust."
        )
        parser.add_argument("lesson", nargs="?", help="a lesson id (with --lessons) or a lesson file")
        parser.add_argument("--revoke", action="store_true", help="forget the trust in LESSON (id, file or hash)")
        parser.add_argument("--yes", action="store_true", help="trust it without asking")
        parser.add_argument("--json", action="store_true", help="list as JSON")
        _lesson_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    _standard_streams()
    try:
        return _dispatch(args)
    except UsageError as err:
        print(strip_controls(f"k8s-tutor: {err}"), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nk8s-tutor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`k8s-tutor list | head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _standard_streams() -> None:
    """Started with standard input, output or error closed (`<&-`): /dev/null stands in.

    Otherwise the next file the tutor opens (a socket, the sandbox's event loop) would take
    descriptor 0, 1 or 2, and a child process would read from it or write into it.
    """
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            stream = open(fd, "r" if fd == 0 else "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)


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
            "trust": cmd_trust,
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
        print(strip_controls(f"k8s-tutor: skipped a broken lesson: {problem}"), file=sys.stderr)
    if catalog.conflicts:
        raise UsageError("\n".join(str(problem) for problem in catalog.conflicts))
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


def parse_overrides(lesson: Any, pairs: Sequence[str], *, profile: str | None = None) -> dict[str, str]:
    """`--set name=value` pairs (and `--profile`), checked against the lesson's variables."""
    from tutor.lesson.overrides import BadOverride
    from tutor.lesson.overrides import parse_overrides as parse

    try:
        return parse(lesson, pairs, profile=profile)
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
        # Cluster names come from kubeconfigs: text only.
        print(
            strip_controls(
                f"{row['id']:<{width}}  {row['title']}  ({len(row['steps'])} steps){'  ' + done if done else ''}"
            )
        )
        for index, step in enumerate(row["steps"], 1):
            print(f"{'':<{width}}  {index:>2}. {step['id']}: {step['title']}")
    return EXIT_OK


def cmd_lint(options: argparse.Namespace) -> int:
    from tutor.lesson.catalog import builtin_dir
    from tutor.lesson.lint import lint

    paths = options.paths or [builtin_dir()]
    problems, count = lint(paths)
    for problem in problems:
        print(strip_controls(str(problem)))  # a file's name is anybody's text
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
    cluster = _progress_identity(options)
    if not options.yes and _interactive_stdin():
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


def _progress_identity(options: argparse.Namespace) -> str | None:
    """The cluster `--context`/`--kubeconfig` name, as progress knows it (a sandbox's is its own);
    None: every cluster."""
    if not options.context and not options.kubeconfig:
        return None
    from tutor.cluster.kubeconfig import KubeconfigProblem, Source, load

    try:
        return str(load(Source.resolve(options.kubeconfig, options.context)).info.identity)
    except KubeconfigProblem as err:
        if options.context:
            return str(options.context)
        raise UsageError(f"cannot tell which cluster to forget: {err}") from None


def cmd_check(options: argparse.Namespace) -> int:
    lesson = _find_lesson(options, options.lesson)
    from tutor.session.headless import check

    return int(check(lesson, options))


def cmd_trust(options: argparse.Namespace) -> int:
    from tutor.trust import TrustStore, explain, is_shipped

    store = TrustStore()
    if options.lesson is None:
        if options.revoke:
            raise UsageError("--revoke needs the lesson to forget: its id, its file, or its hash")
        return _list_trusted(store, as_json=options.json)
    if options.revoke:
        try:
            removed = store.revoke(options.lesson)
        except OSError as err:
            print(f"k8s-tutor trust: cannot change the trust records: {err}", file=sys.stderr)
            return EXIT_FAIL
        if not removed:
            print(f"No trust in {options.lesson} is recorded; nothing changed.")
            return EXIT_FAIL
        for record in removed:
            print(strip_controls(f"No longer trusted: {record.lesson} ({record.path})."))
        return EXIT_OK
    lesson = _lesson_to_trust(options)
    if is_shipped(lesson):
        print(f"{lesson.id} is shipped with k8s-tutor: it needs no trust.")
        return EXIT_OK
    print(strip_controls(explain(lesson)))
    if store.is_trusted(lesson):
        print("You already trust it, as it is now.")
        return EXIT_OK
    if not options.yes:
        if not _interactive_stdin():
            raise UsageError("trusting a lesson asks you at a terminal; to trust it without asking, add --yes")
        try:
            answer = input("Trust it and let it run its commands? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("Not trusted; nothing changed.")
            return EXIT_FAIL
    try:
        record = store.trust(lesson)
    except OSError as err:
        print(f"k8s-tutor trust: cannot record the trust: {err}", file=sys.stderr)
        return EXIT_FAIL
    print(f"Trusted {lesson.id} as it is now (sha256 {record.sha256[:12]}); a change to it or its files asks again.")
    return EXIT_OK


def _list_trusted(store: Any, *, as_json: bool) -> int:
    records = store.records()
    if store.problem:
        print(strip_controls(f"k8s-tutor trust: {store.problem}"), file=sys.stderr)
    if as_json:
        print(json.dumps({"trusted": [record.to_json() for record in records]}, indent=2))
    elif not records:
        print("You trust no lesson from elsewhere (the shipped lessons need no trust).")
    for record in [] if as_json else records:
        print(strip_controls(f"{record.lesson}  {record.path}  sha256 {record.sha256[:12]}  since {record.trusted}"))
    return EXIT_OK


def _lesson_to_trust(options: argparse.Namespace) -> Any:
    """LESSON as a file (a path that exists), else as an id among the lessons found."""
    path = Path(options.lesson).expanduser()
    if not os.path.lexists(path):
        return _find_lesson(options, options.lesson)
    from tutor import lesson_cache
    from tutor.lesson.problems import LessonError

    try:
        return lesson_cache.load(path)
    except LessonError as err:
        raise UsageError(f"{path} is not a lesson that can be opened:\n{err}") from None


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
    from tutor.lesson.place import Place

    # The lesson as it reads where it runs: what is only for another backend or platform goes.
    lesson = _find_lesson(options, options.lesson).for_place(Place.here(sandbox=options.sandbox))
    overrides = parse_overrides(lesson, options.overrides, profile=options.profile)
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


def _write_env_script(sandbox: Any) -> Path | None:
    """The line a learner's own terminal needs, as `k8s-tutor sandbox` writes it, in the
    sandbox's own folder (private to the user, removed with it)."""
    from tutor.sandbox.main import env_script

    if sandbox.standins is None:
        return None
    script = Path(sandbox.standins.shim_dir).parent / "env.sh"
    script.write_text(env_script(sandbox))
    return script


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
                strip_controls(f"{item['cluster']}: {len(item['completed'])} of {len(row['steps'])} steps done")
                for item in row["progress"]
            ),
        )
        for row in _lesson_rows(options)
    ]
    return pick_lesson(choices)


def _interactive_stdin() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _tui_possible() -> bool:
    return (
        sys.stdout is not None
        and sys.stdout.isatty()
        and _interactive_stdin()
        and os.environ.get("TERM", "") not in ("", "dumb")
    )


class _Where:
    """Where the lesson's cluster is: the learner's kubeconfig, or a sandbox started here."""

    def __init__(self) -> None:
        self.kubeconfig: Path | None = None
        self.env: dict[str, str] | None = None
        self.variables: dict[str, str] = {}
        self.sandbox = False
        self.shell_env: Path | None = None
        """The sandbox's env.sh: `source` it in another terminal to reach the same cluster."""


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
        where.shell_env = _write_env_script(sandbox)
        try:
            yield where
        finally:
            with contextlib.suppress(ValueError):
                _CLOSE_ON_SIGNAL.remove(sandbox.close)
