"""The step's checks, live: ✓ pass, … waiting with its progress, ✗ fail with the reason.

For a check that does not pass, the findings say why in the cluster's own words: a
message, the evidence lines, and the kubectl command that shows it. Failing checks show
them at once; waiting ones on request (explain), since "waiting" is often just "not yet".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from tutor.session.events import StepCheck

MARKS = {"pass": ("✓", "green"), "waiting": ("…", "yellow"), "fail": ("✗", "bold red")}


def _about_connection(check: StepCheck) -> bool:
    """A reason about the cluster, not the check: said once, above the checks."""
    return check.result.unjudged == "connection"


class ChecksPanel(Static):
    def __init__(self) -> None:
        super().__init__("", id="checks")
        self.border_title = "Checks"
        self.results: tuple[StepCheck, ...] = ()

    def show_message(self, message: str, style: str = "dim") -> None:
        self.results = ()
        self.update(Text(message, style=style))

    def show_results(self, checks: Sequence[StepCheck], *, explain: bool, heading: str = "", stopped: str = "") -> None:
        self.results = tuple(checks)
        text = Text()
        if heading:
            text.append(heading + "\n\n", style="bold yellow")
        if stopped:
            text.append(stopped + "\n\n", style="bold red")
        if not checks:
            text.append("Checking…", style="dim")
        connection = next((check.result.reason for check in checks if _about_connection(check)), "")
        if connection:
            text.append(connection[0].upper() + connection[1:] + "\n\n", style="yellow")
        for number, check in enumerate(checks):
            result = check.result
            if number:
                text.append("\n")
            mark, style = MARKS[result.status]
            text.append(f"{mark} ", style=style)
            text.append(check.title, style="bold" if not result.passed else "")
            if _about_connection(check) or result.passed:
                continue
            if result.reason:
                text.append(f"\n  {result.reason}", style=style if result.status == "fail" else "")
            if explain or result.status == "fail":
                _findings(text, check)
        passing = sum(1 for check in checks if check.result.passed)
        hidden = [c for c in checks if c.result.status == "waiting" and c.result.findings and not _about_connection(c)]
        if hidden and not explain:
            text.append("\n\ne: explain why", style="dim italic")
        self.border_subtitle = f"{passing}/{len(checks)} pass" if checks else ""
        self.update(text)


def _findings(text: Text, check: StepCheck) -> None:
    for finding in check.result.findings:
        text.append(f"\n  ▸ {finding.message}", style="italic")
        for line in finding.evidence:
            text.append(f"\n      {line}", style="dim")
        if finding.command:
            text.append("\n    see: ", style="dim")
            text.append(f"$ {finding.command}", style="cyan")
