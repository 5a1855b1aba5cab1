"""The run layer: commands as processes (sh), with no UI and no cluster knowledge.

The session uses `ShExecutor` through the `Executor` interface; the CLI calls
`install_exit_handlers()` once at start-up. See docs/runner.md.
"""

from tutor.run.cleanup import cleanup_processes, install_exit_handlers
from tutor.run.environment import PLAIN_OUTPUT, child_environment
from tutor.run.errors import (
    MissingExecutable,
    RunError,
    ShuttingDown,
    ToolCheck,
    install_advice,
    preflight,
    which,
)
from tutor.run.executor import CommandPolicy, CommandRefused, Executor, Prepared, ShExecutor
from tutor.run.output import Line, Repeats
from tutor.run.ports import PortHolder, PortUse, describe_holders, free_port_near, port_in_use
from tutor.run.process import Cancellation, Result
from tutor.run.prompts import NeedKind, TerminalNeed
from tutor.run.supervisor import (
    BackgroundEvent,
    Exited,
    Failed,
    Output,
    ProcessInfo,
    ProcessState,
    Ready,
    Restarting,
    RestartPolicy,
    Starting,
    Stopped,
    TerminalNeeded,
)

__all__ = [
    "PLAIN_OUTPUT",
    "BackgroundEvent",
    "Cancellation",
    "CommandPolicy",
    "CommandRefused",
    "Executor",
    "Exited",
    "Failed",
    "Line",
    "MissingExecutable",
    "NeedKind",
    "Output",
    "PortHolder",
    "PortUse",
    "Prepared",
    "ProcessInfo",
    "ProcessState",
    "Ready",
    "Repeats",
    "RestartPolicy",
    "Restarting",
    "Result",
    "RunError",
    "ShExecutor",
    "ShuttingDown",
    "Starting",
    "Stopped",
    "TerminalNeed",
    "TerminalNeeded",
    "ToolCheck",
    "child_environment",
    "cleanup_processes",
    "describe_holders",
    "free_port_near",
    "install_advice",
    "install_exit_handlers",
    "port_in_use",
    "preflight",
    "which",
]
