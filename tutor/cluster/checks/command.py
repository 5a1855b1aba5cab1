"""`command`: a command exits with the expected status; the escape hatch for what no kind covers."""

from __future__ import annotations

import shlex

from tutor.cluster.checks.base import Check, CheckError
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.results import CheckResult, failed, passed, waiting
from tutor.cluster.view import ClusterView, Dependency
from tutor.lesson import commandline

NOT_FOUND = 127


class Command(Check):
    kind = "command"
    polled = True
    # A command costs a process (kubectl: ~50 ms of CPU); every 3 s is modest.
    interval = 3.0

    def setup(self) -> None:
        run = self.fields["run"]
        if isinstance(run, list):  # split as written, variables filled in one argument each
            self.argv = tuple(str(arg) for arg in run)
        else:
            try:
                self.argv = commandline.parse(str(run))
            except commandline.BadCommandLine as err:
                raise CheckError(f"command: {err}") from None
        if not self.argv:
            raise CheckError("command: 'run' is empty")
        self.line = shlex.join(self.argv)
        self.expected = self.optional_int("exit") or 0
        timeout = self.fields.get("timeout")
        self.timeout = float(timeout) if timeout is not None else 20.0

    def default_title(self) -> str:
        return f"`{self.line}` succeeds" if self.expected == 0 else f"`{self.line}` exits {self.expected}"

    def dependencies(self) -> list[Dependency]:
        return []

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        status, output = ctx.run_command(self.argv, self.timeout)
        tail = tuple(line for line in output.strip().splitlines()[-5:] if line.strip())
        if status is None:
            return waiting(f"`{self.line}` did not finish within {self.timeout:g} s", *tail)
        if status == self.expected:
            return passed(f"`{self.line}` exited {status}", *tail)
        if status == NOT_FOUND and self.expected != NOT_FOUND:
            return failed(f"`{self.argv[0]}` was not found: is it installed and on PATH?", *tail)
        return waiting(f"`{self.line}` exited {status}, expected {self.expected}", *tail)
