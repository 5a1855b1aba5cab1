"""The session's RunBackend over the run layer's executor.

It turns the run layer's results into outcomes and its background events into a process's
state (the run layer's `ProcessState`) and a detail in words, and handles the one case that
needs a view's help: a command that asks the learner
for a password (`minikube tunnel` needs sudo for ports 80 and 443). When the view lends
the terminal (`terminal`: the plain view has it; the TUI suspends itself), the command is
run again with the terminal; otherwise the learner is told to run it in their own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import assert_never

from tutor.run import (
    Exited,
    Failed,
    MissingExecutable,
    Output,
    PortUse,
    Ready,
    Restarting,
    Result,
    RunError,
    ShExecutor,
    Starting,
    Stopped,
    TerminalNeeded,
    free_port_near,
    port_in_use,
)
from tutor.run.supervisor import BackgroundEvent, ProcessState
from tutor.session.backends import LineCallback, ProcessCallback, PromptCallback, RunOutcome
from tutor.session.setup import TerminalLender


class ProcessRunner:
    def __init__(self, executor: ShExecutor, *, terminal: TerminalLender | None = None) -> None:
        self.executor = executor
        self.terminal = terminal
        self._terminal_lock = threading.Lock()

    # --- foreground ----------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None,
        ok_exit: Sequence[int],
        on_line: LineCallback,
        on_prompt: PromptCallback,
        interactive: bool = False,
    ) -> RunOutcome:
        try:
            if interactive:
                with self._lend():
                    result = self.executor.run(argv, timeout=timeout, interactive=True)
            else:
                result = self.executor.run(
                    argv, lambda line: None if line.progress else on_line(line.styled or line.text), timeout=timeout
                )
        except (MissingExecutable, RunError) as err:
            return RunOutcome(False, None, str(err))
        if result.needs_terminal is not None:
            on_prompt(result.needs_terminal.text)
            return RunOutcome(False, result.exit_code, result.describe(), needs_terminal=True)
        return _outcome(result, ok_exit)

    @property
    def lends_terminal(self) -> bool:
        return self.terminal is not None

    # --- background ----------------------------------------------------------------------

    def start_background(
        self,
        process_id: str,
        argv: Sequence[str],
        *,
        ready: str | None,
        on_line: LineCallback,
        on_state: ProcessCallback,
        on_prompt: PromptCallback,
        interactive: bool = False,
    ) -> None:
        current = self.executor.processes().get(process_id)
        if current is not None and not current.state.finished:
            on_state(current.state, "already running")
            return
        if current is not None:
            self.executor.stop(process_id)
        exit_words = [""]

        def on_event(event: BackgroundEvent) -> None:
            match event:
                case Output(line=line):
                    if not line.progress:
                        on_line(line.styled or line.text)
                case Starting(attempt=attempt):
                    on_state(ProcessState.STARTING, "" if attempt == 1 else f"attempt {attempt}")
                case Ready():
                    on_state(ProcessState.READY, "")
                case Exited(result=result):
                    exit_words[0] = _last_words(result)  # said with what follows: a restart, or failing
                case Restarting(delay=delay):
                    on_state(ProcessState.RESTARTING, f"{exit_words[0]}; again in {delay:.1f} s")
                case Stopped():
                    on_state(ProcessState.STOPPED, "")
                case Failed(reason=reason):
                    on_state(ProcessState.FAILED, reason)
                case TerminalNeeded(need=need):
                    on_prompt(need.text)
                    on_state(ProcessState.NEEDS_TERMINAL, need.explain())
                case _:
                    assert_never(event)

        try:
            if interactive:
                with self._lend():
                    self.executor.start_background(process_id, argv, ready, on_event, interactive=True)
            else:
                self.executor.start_background(process_id, argv, ready, on_event)
        except (MissingExecutable, RunError) as err:
            on_state(ProcessState.FAILED, str(err))

    def missing(self, programs: Sequence[str]) -> list[str]:
        return [
            f"{check.program} is not installed: {check.advice}"
            for check in self.executor.preflight(programs)
            if not check.found
        ]

    def process_state(self, process_id: str) -> ProcessState | None:
        info = self.executor.processes().get(process_id)
        return None if info is None else info.state

    def stop(self, process_id: str) -> None:
        if process_id in self.executor.processes():
            self.executor.stop(process_id)

    def port_in_use(self, port: int) -> PortUse | None:
        return port_in_use(port)

    def free_port_near(self, port: int) -> int | None:
        return free_port_near(port)

    def stop_all(self) -> None:
        self.executor.close()

    @contextlib.contextmanager
    def _lend(self) -> Iterator[None]:
        if self.terminal is None:
            raise RunError("this view cannot lend the terminal: run the command in your own terminal")
        with self._terminal_lock, self.terminal():
            yield


def _outcome(result: Result, ok_exit: Sequence[int]) -> RunOutcome:
    ok = result.exit_code in ok_exit and not (result.timed_out or result.cancelled or result.needs_terminal)
    return RunOutcome(ok, result.exit_code, "" if ok else result.describe())


def _last_words(result: Result) -> str:
    """Why a background command ended, in its own last line (`error: lost connection to pod`)."""
    for line in reversed(result.tail):
        if line.strip():
            return f"{line.strip()} ({result.describe()})"
    return result.describe()
