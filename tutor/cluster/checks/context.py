"""What a check may ask of the session: the context protocol.

The cluster layer may not import the session (docs/architecture.md), so the session hands
the engine an object with these methods. Checks call them from the engine's probe
thread; implementations must be thread-safe and return quickly (except `run_command`,
which is bounded by its timeout).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

ProcessState = str
"""`ready`, `starting`, `exited: <reason>`; None: the process was never started."""


class CheckContext(Protocol):
    def process_state(self, process_id: str) -> ProcessState | None:
        """The state of the lesson's background command `process_id` (a port-forward, a tunnel)."""

    def remember(self, key: str, value: Any) -> None:
        """Keep `value` (JSON-serialisable) under `key` in the learner's progress."""

    def recall(self, key: str) -> Any | None:
        """What was kept under `key`, or None."""

    def run_command(self, argv: Sequence[str], timeout: float) -> tuple[int | None, str]:
        """Run argv (no shell) with the lesson's environment; (exit status or None on timeout, output).

        A program that cannot be found is exit status 127, as in a shell.
        """

    def listener(self, port: int) -> str | None:
        """Which program listens on this machine's `port` ("python3 (pid 4242)"), or None
        when it cannot be told: evidence when something else answers there."""


MEMORY_FORMAT = 1


@dataclass(frozen=True)
class Remembered:
    """What a `remember: KEY` check keeps: the value it saw, and which pods served it.

    `pods` maps namespace -> pod name -> uid at the moment the value was remembered,
    for every pod in the check's namespace: a later `data_survives` check can then
    tell whether `pod/mongo-0` is still the same pod (same uid) or a replacement.
    """

    value: Any
    at: float
    pods: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MEMORY_FORMAT,
            "value": self.value,
            "at": self.at,
            "pods": {ns: dict(names) for ns, names in self.pods.items()},
        }

    @classmethod
    def from_json(cls, raw: Any) -> Remembered | None:
        """The record, or None for anything this version cannot read (treated as not remembered)."""
        if not isinstance(raw, Mapping) or raw.get("format") != MEMORY_FORMAT or "value" not in raw:
            return None
        at = raw.get("at")
        pods = raw.get("pods")
        clean: dict[str, dict[str, str]] = {}
        if isinstance(pods, Mapping):
            for ns, names in pods.items():
                if isinstance(names, Mapping):
                    clean[str(ns)] = {str(k): str(v) for k, v in names.items()}
        return cls(raw["value"], float(at) if isinstance(at, int | float) else 0.0, clean)


Runner = Callable[[Sequence[str], float], tuple[int | None, str]]
Listeners = Callable[[int], str | None]


class BasicContext:
    """A context without processes: memory in a dict, commands through an optional runner.

    Used by the headless `check` (no background commands run there) and by tests.
    """

    def __init__(
        self,
        memory: dict[str, Any] | None = None,
        *,
        processes: Mapping[str, str] | None = None,
        runner: Runner | None = None,
        listeners: Listeners | None = None,
    ) -> None:
        self.memory: dict[str, Any] = memory if memory is not None else {}
        self.processes: dict[str, str] = dict(processes or {})
        self._runner = runner
        self._listeners = listeners

    def process_state(self, process_id: str) -> str | None:
        return self.processes.get(process_id)

    def remember(self, key: str, value: Any) -> None:
        self.memory[key] = value

    def recall(self, key: str) -> Any | None:
        return self.memory.get(key)

    def run_command(self, argv: Sequence[str], timeout: float) -> tuple[int | None, str]:
        if self._runner is None:
            return 127, "no command runner in this context"
        return self._runner(argv, timeout)

    def listener(self, port: int) -> str | None:
        return self._listeners(port) if self._listeners is not None else None


def now() -> float:
    return time.time()
