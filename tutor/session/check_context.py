"""What the session offers the cluster layer's checks: processes, memory, commands.

The check engine calls this from its probe thread; everything here is thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tutor.run import MissingExecutable, ProcessState, RunError, ShExecutor, describe_holders

if TYPE_CHECKING:
    from tutor.session.session import LessonSession


class SessionContext:
    def __init__(self, session: LessonSession, executor: ShExecutor) -> None:
        self.session = session
        self.executor = executor

    def process_state(self, process_id: str) -> str | None:
        return process_word(self.executor, process_id)

    def remember(self, key: str, value: Any) -> None:
        self.session.remember(key, value)

    def recall(self, key: str) -> Any | None:
        return self.session.recall(key)

    def run_command(self, argv: Sequence[str], timeout: float) -> tuple[int | None, str]:
        return run_for_check(self.executor, argv, timeout)

    def listener(self, port: int) -> str | None:
        return describe_holders(port)


def process_word(executor: ShExecutor, process_id: str) -> str | None:
    """A background command's state in the checks' words (`CheckContext.process_state`)."""
    info = executor.processes().get(process_id)
    if info is None:
        return None
    if info.state is ProcessState.READY:
        return "ready"
    if not info.state.finished:
        return "starting"
    return f"exited: {info.reason or info.state}"


def run_for_check(executor: ShExecutor, argv: Sequence[str], timeout: float) -> tuple[int | None, str]:
    """A `command` check's run: its exit status (None: timed out; 127: no such program; 126:
    refused or not runnable) and its output."""
    lines: list[str] = []
    try:
        result = executor.run(argv, lambda line: lines.append(line.text), timeout=timeout)
    except MissingExecutable as err:
        return 127, str(err)
    except RunError as err:
        return 126, str(err)
    return (None if result.timed_out else result.exit_code), "\n".join(lines)
