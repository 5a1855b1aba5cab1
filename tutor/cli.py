"""The `k8s-tutor` command line: parse it, hand it to one command (`tutor/commands/`).

Two grammars, told apart by the first word:

    k8s-tutor COMMAND ...        list, check, reset, lint, doctor, sandbox, trust, workshop:
                                 argparse subparsers, one per command
    k8s-tutor [LESSON] [...]     open a lesson (none: pick one), options in any order

Lesson ids never take a command's name (`tutor.lesson.parser.RESERVED_IDS`), so the
first word decides. `sandbox` and `workshop` have parsers of their own: what follows
them is handed on as it was typed.

Start-up time matters: `--version`, `list` and `lint` must answer without importing the
kubernetes client or Textual (together about half a second), so a command's module is
imported only when it runs, and it imports what is heavy only when it needs it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn, assert_never, cast, get_args

from tutor import __version__
from tutor.commands.exit_codes import FAIL, INTERRUPTED, OK, USAGE, Failed, UsageError
from tutor.commands.streams import standard_streams
from tutor.safe_text import strip_controls

if TYPE_CHECKING:
    from tutor.commands.options import ClusterChoice

Command = Literal["list", "check", "reset", "lint", "doctor", "sandbox", "trust", "workshop"]
SUBCOMMANDS: tuple[Command, ...] = get_args(Command)
HANDED_ON = ("sandbox", "workshop")
"""Commands whose own parser reads the rest of the command line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def _lesson_folders(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lessons",
        metavar="DIR",
        action="append",
        type=Path,
        default=[],
        help="an extra folder of lessons (repeatable); also K8S_TUTOR_LESSONS",
    )


def _lesson_run(parser: argparse.ArgumentParser) -> None:
    """What a command that runs a lesson's commands on its cluster takes: the cluster, the
    variables, where lessons are, whether to trust one from elsewhere."""
    _cluster_options(parser)
    _lesson_folders(parser)
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
        dest="sets",
        help="override a lesson variable, e.g. --set local_port=9191 (repeatable; wins over --profile)",
    )


def build_parser() -> argparse.ArgumentParser:
    """`k8s-tutor [LESSON] [options]`: open a lesson."""
    parser = _Parser(
        prog="k8s-tutor",
        description="Learn Kubernetes hands-on: lessons that run live against your cluster.",
        epilog=f"Commands: {', '.join(SUBCOMMANDS)}. `k8s-tutor COMMAND --help` for each.",
    )
    parser.add_argument("--version", action="version", version=f"k8s-tutor {__version__}")
    parser.add_argument("lesson", nargs="?", help="the lesson to open, e.g. day55 (none: pick one)")
    parser.add_argument("--step", metavar="STEP", help="jump to one step; earlier steps are checked first")
    parser.add_argument("--plain", action="store_true", help="line mode, no TUI (screen readers, logs, CI)")
    parser.add_argument("--autoplay", action="store_true", help="run every step's commands and wait for its checks")
    parser.add_argument(
        "--workshop",
        metavar="URL",
        help="join a workshop's board: the URL the instructor gave (with its join code); also K8S_TUTOR_WORKSHOP",
    )
    parser.add_argument("--name", metavar="NAME", help="your name on the workshop's board (asked once if not given)")
    parser.add_argument(
        "--pause", action="store_true", help="with --autoplay: wait for Enter before each step's commands (live demos)"
    )
    parser.add_argument(
        "--present", action="store_true", help="projector layout: the prose alone, centred, high-contrast colours"
    )
    _lesson_run(parser)
    return parser


def build_command_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """`k8s-tutor COMMAND ...`: the parser, and its subparser for each command."""
    parser = _Parser(prog="k8s-tutor")
    parser.set_defaults(lessons=[])  # `lint` reads files, not lesson folders
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", description="List lessons, their steps and your progress.")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    _lesson_folders(listing)

    check = commands.add_parser(
        "check", description="Evaluate a lesson's checks against the cluster once; exit 0 if all pass."
    )
    check.add_argument("lesson")
    check.add_argument("--step", metavar="STEP", help="only this step's checks")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument(
        "--no-start",
        action="store_true",
        help="start none of the lesson's background commands (port-forward, tunnel) for the checks "
        "that need one: report those as not judged",
    )
    _lesson_run(check)

    reset = commands.add_parser(
        "reset", description="Forget progress on a lesson; --cluster also removes what it created."
    )
    reset.add_argument("lesson")
    reset.add_argument("--cluster", action="store_true", help="also remove what the lesson created")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _lesson_run(reset)

    lint = commands.add_parser(
        "lint", description="Validate lesson files; prints file:line: message, exits 1 on errors."
    )
    lint.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders")

    doctor = commands.add_parser(
        "doctor", description="Check tools, versions, the cluster context, profile and addons."
    )
    doctor.add_argument("lesson", nargs="?")
    _cluster_options(doctor)
    _lesson_folders(doctor)

    trust = commands.add_parser(
        "trust",
        description="Let a lesson from elsewhere run its commands: shows what it runs and reaches, then asks. "
        "Without LESSON: list the lessons you trust.",
    )
    trust.add_argument("lesson", nargs="?", help="a lesson id (with --lessons) or a lesson file")
    trust.add_argument("--revoke", action="store_true", help="forget the trust in LESSON (id, file or hash)")
    trust.add_argument("--yes", action="store_true", help="trust it without asking")
    trust.add_argument("--json", action="store_true", help="list as JSON")
    _lesson_folders(trust)

    for name in HANDED_ON:
        commands.add_parser(name, add_help=False)
    return parser, dict(commands.choices)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    standard_streams()
    command = args[0] if args and args[0] in SUBCOMMANDS else None
    try:
        return dispatch(args) if command else dispatch_lesson(build_parser().parse_args(args))
    except UsageError as err:
        print(strip_controls(f"{_prog(command)}: {err}"), file=sys.stderr)
        return USAGE
    except Failed as err:
        print(strip_controls(f"{_prog(command)}: {err}"), file=sys.stderr)
        return FAIL
    except KeyboardInterrupt:
        print("\nk8s-tutor: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`k8s-tutor list | head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK


def _prog(command: str | None) -> str:
    return f"k8s-tutor {command}" if command else "k8s-tutor"


def dispatch(args: list[str]) -> int:
    """`k8s-tutor COMMAND ...`, parsed by the command's subparser, run by its module."""
    parser, subparsers = build_command_parser()
    options, rest = parser.parse_known_args(args)
    command = cast(Command, options.command)  # one of the subparsers' names
    if rest and command not in HANDED_ON:
        subparsers[command].error(f"unrecognized arguments: {' '.join(rest)}")
    lessons = tuple(options.lessons)
    match command:
        case "list":
            from tutor.commands import listing

            return listing.run(listing.ListOptions(json=options.json, lessons=lessons))
        case "lint":
            from tutor.commands import lint

            return lint.run(lint.LintOptions(paths=tuple(options.paths)))
        case "check":
            from tutor.commands import check

            return check.run(
                check.CheckOptions(
                    lesson=options.lesson,
                    step=options.step,
                    json=options.json,
                    cluster=_cluster(options),
                    lessons=lessons,
                    trust=options.trust,
                    start=not options.no_start,
                )
            )
        case "reset":
            from tutor.commands import reset

            return reset.run(
                reset.ResetOptions(
                    lesson=options.lesson,
                    remove_created=options.cluster,
                    yes=options.yes,
                    cluster=_cluster(options),
                    lessons=lessons,
                    trust=options.trust,
                )
            )
        case "doctor":
            from tutor.commands import doctor

            return doctor.run(doctor.DoctorOptions(lesson=options.lesson, cluster=_cluster(options), lessons=lessons))
        case "trust":
            from tutor.commands import trust

            return trust.run(
                trust.TrustOptions(
                    lesson=options.lesson, revoke=options.revoke, yes=options.yes, json=options.json, lessons=lessons
                )
            )
        case "sandbox":
            from tutor.commands import sandbox

            return sandbox.run(sandbox.SandboxOptions(args=tuple(rest)))
        case "workshop":
            from tutor.commands import workshop

            return workshop.run(workshop.WorkshopOptions(args=tuple(rest)))
        case _:
            assert_never(command)


def dispatch_lesson(options: argparse.Namespace) -> int:
    """`k8s-tutor [LESSON] ...`."""
    if options.lesson in SUBCOMMANDS:
        raise UsageError(f"{options.lesson} is a command: name it first (k8s-tutor {options.lesson} [options])")
    from tutor.commands import lesson

    return lesson.run(
        lesson.LessonOptions(
            lesson=options.lesson,
            step=options.step,
            plain=options.plain,
            autoplay=options.autoplay,
            cluster=_cluster(options),
            lessons=tuple(options.lessons),
            trust=options.trust,
            workshop=options.workshop or os.environ.get("K8S_TUTOR_WORKSHOP") or None,
            name=options.name,
            pause=options.pause,
            present=options.present,
        )
    )


def _cluster(options: argparse.Namespace) -> ClusterChoice:
    from tutor.commands.options import ClusterChoice  # with the lesson layer: not for --version

    return ClusterChoice(
        context=options.context,
        kubeconfig=options.kubeconfig,
        profile=options.profile,
        sandbox=options.sandbox,
        sets=tuple(options.sets),
    )
