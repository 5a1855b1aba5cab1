"""What the session needs from the cluster and from the process runner.

Two small protocols, so the session's rules (unlocking, resume, drift, autoplay) are
tested with fakes; the real implementations are thin adapters over the cluster layer
(`cluster_checks.ClusterChecks`) and the run layer (`process_runner.ProcessRunner`).
They speak those layers' own types: `ConnectionStatus`, `ProcessState`, `PortUse`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tutor.lesson.model import Step

if TYPE_CHECKING:
    from tutor.cluster.status import ConnectionStatus
    from tutor.run import PortUse, ProcessState
    from tutor.session.events import StepCheck

ResultsCallback = Callable[[tuple["StepCheck", ...]], None]
ConnectionCallback = Callable[["ConnectionStatus"], None]


class CheckBackend(Protocol):
    def activate(self, step: Step, variables: Mapping[str, str], on_results: ResultsCallback) -> None:
        """Watch `step`'s checks; call `on_results` with all of them whenever one changes.

        Replaces whatever step was active. Called from any thread; `on_results` may be
        called from backend threads.
        """

    def deactivate(self) -> None: ...

    def evaluate(
        self, steps: Sequence[Step], variables: Mapping[str, str], settle: float
    ) -> dict[str, tuple[StepCheck, ...]]:
        """Evaluate the steps' checks once, by step id, giving slow sources up to `settle` seconds."""

    def on_connection(self, callback: ConnectionCallback) -> None:
        """Call `callback` with the connection's status now, and whenever it changes."""

    def processes_changed(self) -> None:
        """A background command changed state: checks that depend on processes look again."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class RunOutcome:
    ok: bool
    exit_status: int | None
    detail: str = ""
    """Why it failed, in words: 'exit status 1', 'timed out after 600 s', 'minikube is not installed...'."""
    needs_terminal: bool = False
    """It stopped at a password prompt (or said it needs a terminal): run it again interactively."""


LineCallback = Callable[[str], None]
ProcessCallback = Callable[["ProcessState", str], None]
PromptCallback = Callable[[str], None]


class RunBackend(Protocol):
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
        """Run a foreground command to completion (blocking), streaming its output.

        `interactive`: with the learner's terminal (a password prompt); output is not streamed.
        """

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
        """Start (or keep) a supervised long-running command.

        Returns at once; with `interactive`, once it is ready and has given the terminal back.
        """

    def process_state(self, process_id: str) -> ProcessState | None: ...

    def stop(self, process_id: str) -> None:
        """Stop one background command (no-op when it is not running)."""

    def port_in_use(self, port: int) -> PortUse | None:
        """What holds `port` on 127.0.0.1 (another program), or None when it is free."""

    def free_port_near(self, port: int) -> int | None:
        """A port above `port` that is free now, to offer instead."""

    def missing(self, programs: Sequence[str]) -> list[str]:
        """For each program that cannot be found, a sentence saying how to install it."""

    @property
    def lends_terminal(self) -> bool:
        """Whether a command can be given the learner's terminal (a view provides it)."""

    def stop_all(self) -> None: ...
