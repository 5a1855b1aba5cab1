"""A foreground command, as the learner sees it run: every line, the right status, and
nothing left running once it is over, however it ended."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tutor.run import (
    Cancellation,
    Line,
    MissingExecutable,
    NeedKind,
    Result,
    RunError,
    ShExecutor,
)
from tutor.run.cleanup import GroupRegistry

from .helpers import MARK, PY, kill_all, marked_processes, needs_proc, script, wait_for_marked

pytestmark = needs_proc


def collect(executor: ShExecutor, argv: list[str], **options: Any) -> tuple[Result, list[str]]:
    lines: list[str] = []
    result = executor.run(argv, lambda line: lines.append(line.text), **options)
    return result, lines


def test_twenty_thousand_lines_all_arrive_in_order(executor: ShExecutor) -> None:
    program = "for i in range(20000): print(f'line {i}')"
    result, lines = collect(executor, [PY, "-c", program])
    assert result.ok
    assert lines == [f"line {i}" for i in range(20000)]


def test_a_slow_consumer_still_gets_the_tail(executor: ShExecutor) -> None:
    # The child writes everything into the pipe and exits at once; the consumer stalls
    # longer than the 2 s after which sh's own reader gives up on an exited process.
    lines: list[str] = []

    def slow(line: Line) -> None:
        if not lines:
            time.sleep(2.2)
        lines.append(line.text)

    result = executor.run([PY, "-c", "for i in range(3000): print(i)"], slow)
    assert result.exit_code == 0
    assert lines == [str(i) for i in range(3000)]


def test_stdout_and_stderr_arrive_merged_in_the_order_written(executor: ShExecutor) -> None:
    program = (
        "import sys\n"
        "for i in range(50):\n"
        "    stream = sys.stderr if i % 2 else sys.stdout\n"
        "    print(f'{stream.name} {i}', file=stream, flush=True)\n"
    )
    _, lines = collect(executor, [PY, "-c", program])
    assert lines == [f"{'<stderr>' if i % 2 else '<stdout>'} {i}" for i in range(50)]


def test_exit_status_signal_and_tail(executor: ShExecutor) -> None:
    failed = executor.run(["sh", "-c", "echo first; echo 'Error from server (NotFound)'; exit 3"])
    assert (failed.exit_code, failed.signal, failed.ok) == (3, None, False)
    assert failed.tail == ("first", "Error from server (NotFound)")
    assert failed.describe() == "exit status 3"

    killed = executor.run(["sh", "-c", "kill -TERM $$"])
    assert (killed.exit_code, killed.signal) == (None, signal.SIGTERM)
    assert killed.describe() == "killed by SIGTERM"


def test_invalid_utf8_and_progress_lines_are_shown_sensibly(executor: ShExecutor, tmp_path: Path) -> None:
    # Each state of the bar waits until the learner has been shown it (the callback
    # leaves a file behind), so no read can merge two states, however loaded the machine.
    program = (
        "import os, sys, time\n"
        "out = sys.stdout.buffer\n"
        "out.write(b'bad \\xff byte\\n'); out.flush()\n"
        "for n, p in enumerate((10, 50, 100)):\n"
        "    out.write(f'pulling {p}%\\r'.encode()); out.flush()\n"
        "    deadline = time.monotonic() + 30\n"
        f"    while not os.path.exists(os.path.join({str(tmp_path)!r}, f'shown-{{n}}')):\n"
        "        if time.monotonic() > deadline: sys.exit(9)\n"
        "        time.sleep(0.005)\n"
        "out.write(b'\\ndone\\n')\n"
    )
    lines: list[Line] = []

    def shown(line: Line) -> None:
        if line.progress:
            (tmp_path / f"shown-{sum(seen.progress for seen in lines)}").touch()
        lines.append(line)

    result = executor.run([PY, "-c", program], shown)
    assert result.ok
    texts = [line.text for line in lines]
    assert texts[0] == "bad \ufffd byte"
    assert [line.text for line in lines if line.progress] == [
        "pulling 10%",
        "pulling 50%",
        "pulling 100%",
    ]
    assert texts[-2:] == ["pulling 100%", "done"]


def test_environment_and_working_directory(executor: ShExecutor, tmp_path: Path) -> None:
    _result, lines = collect(
        executor,
        ["sh", "-c", 'echo "$NO_COLOR $MINIKUBE_IN_STYLE $TERM $PROFILE"; pwd'],
        env={"PROFILE": "mc-demo"},
        cwd=tmp_path,
    )
    assert lines == ["1 false dumb mc-demo", str(tmp_path)]


def test_the_sandbox_stand_ins_run_when_first_on_path(registry: GroupRegistry, tmp_path: Path) -> None:
    script(tmp_path, "kubectl", 'echo "simulated kubectl $*"\n')
    executor = ShExecutor(path_prefix=[tmp_path], registry=registry)
    assert executor.which("kubectl") == str(tmp_path / "kubectl")
    _, lines = collect(executor, ["kubectl", "get", "pods"])
    assert lines == ["simulated kubectl get pods"]


def test_argv_is_never_given_to_a_shell(executor: ShExecutor, tmp_path: Path) -> None:
    _, lines = collect(executor, ["echo", "$HOME", "; touch pwned", "|", "cat"], cwd=tmp_path)
    assert lines == ["$HOME ; touch pwned | cat"]
    assert not (tmp_path / "pwned").exists()


def test_stdin_is_empty_so_nothing_waits_for_it(executor: ShExecutor) -> None:
    result = executor.run(["cat"], timeout=10)
    assert result.exit_code == 0
    assert not result.timed_out


def test_a_missing_program_is_reported_before_anything_runs(executor: ShExecutor) -> None:
    lines: list[Line] = []
    with pytest.raises(MissingExecutable) as caught:
        executor.run(["minikube", "start"], lines.append, env={"PATH": "/nonexistent"})
    assert "minikube" in str(caught.value)
    assert "https://minikube.sigs.k8s.io/docs/start/" in str(caught.value)
    assert lines == []


def test_a_missing_working_directory_is_reported(executor: ShExecutor, tmp_path: Path) -> None:
    with pytest.raises(RunError, match="does not exist"):
        executor.run(["true"], cwd=tmp_path / "nowhere")


TREE = "sleep 300 & sleep 300 & (trap '' TERM; sleep 300) & echo up; wait"
"""A child with grandchildren, one of which ignores SIGTERM."""


def test_a_timeout_takes_down_the_whole_tree(executor: ShExecutor, token: str) -> None:
    started = time.monotonic()
    result, lines = collect(executor, ["sh", "-c", TREE], timeout=0.5)
    assert result.timed_out
    assert lines == ["up"]
    assert marked_processes(token) == []
    assert time.monotonic() - started < 10


def test_cancel_from_another_thread_takes_down_the_whole_tree(executor: ShExecutor, token: str) -> None:
    cancel = Cancellation()
    seen = threading.Event()

    def on_line(line: Line) -> None:
        seen.set()

    outcome: list[Result] = []
    worker = threading.Thread(target=lambda: outcome.append(executor.run(["sh", "-c", TREE], on_line, cancel=cancel)))
    worker.start()
    assert seen.wait(10)
    assert len(wait_for_marked(token, 4)) == 4
    cancel.cancel()
    worker.join(10)
    result = outcome[0]
    assert result.cancelled
    assert result.describe().startswith("cancelled")
    assert marked_processes(token) == []


def test_a_cancelled_command_does_not_start(executor: ShExecutor, tmp_path: Path) -> None:
    cancel = Cancellation()
    cancel.cancel()
    result = executor.run(["touch", str(tmp_path / "ran")], cancel=cancel)
    assert result.cancelled
    assert result.pid is None
    assert not (tmp_path / "ran").exists()


def test_close_cancels_what_runs_and_refuses_new_commands(executor: ShExecutor) -> None:
    outcome: list[Result] = []
    worker = threading.Thread(target=lambda: outcome.append(executor.run(["sleep", "300"])))
    worker.start()
    deadline = time.monotonic() + 10
    while not executor._running and time.monotonic() < deadline:
        time.sleep(0.01)
    executor.close()
    worker.join(10)
    assert outcome[0].cancelled
    with pytest.raises(RunError):
        executor.run(["true"])


def test_an_exception_in_the_callback_ends_the_command_first(executor: ShExecutor, token: str) -> None:
    def explode(line: Line) -> None:
        raise ValueError("consumer bug")

    with pytest.raises(ValueError, match="consumer bug"):
        executor.run(["sh", "-c", TREE], explode)
    assert marked_processes(token) == []


def test_a_background_job_left_by_the_command_is_ended(executor: ShExecutor, token: str) -> None:
    result, lines = collect(executor, ["sh", "-c", "sleep 300 & echo left a job"])
    assert result.exit_code == 0
    assert lines == ["left a job"]
    assert marked_processes(token) == []


def test_a_silent_job_left_by_the_command_is_ended(executor: ShExecutor, token: str) -> None:
    # It does not hold the output pipe, so only the end-of-run group check finds it.
    result, lines = collect(executor, ["sh", "-c", "sleep 300 >/dev/null 2>&1 & echo done"])
    assert result.exit_code == 0
    assert lines == ["done"]
    assert marked_processes(token) == []


def test_a_process_that_escaped_the_group_does_not_hang_the_run(executor: ShExecutor, token: str) -> None:
    # Known limit: `setsid` puts it out of reach of the group signal; the run still ends.
    result, lines = collect(executor, ["sh", "-c", "setsid sleep 300 & echo escaped"])
    assert result.exit_code == 0
    assert lines == ["escaped"]
    escaped = marked_processes(token)
    assert len(escaped) == 1
    kill_all(escaped)


# A command that waits for a terminal must be surfaced, never hang silently.


def test_a_password_prompt_without_newline_is_surfaced(executor: ShExecutor, token: str) -> None:
    waits = "printf '[sudo] password for you: '; read -r pw || sleep 300"
    started = time.monotonic()
    result = executor.run(["sh", "-c", waits])
    assert result.needs_terminal is not None
    assert result.needs_terminal.kind is NeedKind.PASSWORD
    assert result.needs_terminal.text == "[sudo] password for you:"
    assert result.tail == ("[sudo] password for you: ",)
    assert time.monotonic() - started < 10
    assert marked_processes(token) == []


def test_sudo_without_a_terminal_is_surfaced(executor: ShExecutor, tmp_path: Path) -> None:
    sudo = script(
        tmp_path,
        "sudo",
        "echo 'sudo: a terminal is required to read the password; either use the -S option"
        " to read from standard input or configure an askpass helper' >&2\nexit 1\n",
    )
    result = executor.run([str(sudo), "ip", "route", "add"])
    # Stopped on the message, or exited 1 first: a race that does not matter.
    assert not result.ok
    assert result.needs_terminal is not None
    assert result.needs_terminal.kind is NeedKind.NO_TERMINAL


def test_a_child_cannot_reach_the_terminal(executor: ShExecutor) -> None:
    # Its own session has no controlling terminal: opening /dev/tty fails at once
    # (ENXIO) rather than taking over the learner's screen.
    result = executor.run(["sh", "-c", "exec 3</dev/tty; echo opened"])
    assert result.needs_terminal is not None
    assert "No such device or address" in result.needs_terminal.text


def test_marker_reaches_grandchildren(executor: ShExecutor, token: str) -> None:
    # The tests find grandchildren by this marker; make sure it really is inherited.
    _result, lines = collect(executor, ["sh", "-c", f'sh -c "echo ${MARK}"'])
    assert lines == [token]


def test_interactive_without_a_terminal_just_runs_it(
    executor: ShExecutor, token: str, capfd: pytest.CaptureFixture[str]
) -> None:
    # Plain mode in a pipe or CI: no terminal to lend, so the command simply inherits
    # the tutor's stdin/stdout/stderr, in its own group, still under a timeout.
    lines: list[Line] = []
    result = executor.run(["sh", "-c", "echo to the terminal; echo $TERM"], lines.append, interactive=True)
    assert result.ok
    assert lines == []
    out = capfd.readouterr().out
    assert "to the terminal" in out
    assert "dumb" not in out  # the terminal keeps its own TERM
    stuck = executor.run(["sh", "-c", TREE], timeout=0.3, interactive=True)
    assert stuck.timed_out
    assert marked_processes(token) == []
