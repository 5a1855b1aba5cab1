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
    from tutor.session.events import CheckResult

MARKS = {"pass": ("✓", "green"), "waiting": ("…", "yellow"), "fail": ("✗", "bold red")}

CONNECTION_REASONS = ("no cluster yet", "not using this cluster", "reconnecting since", "cluster unreachable")
"""Reasons that are about the cluster, not the check: said once, above the checks."""


def _about_connection(result: CheckResult) -> bool:
    return result.status == "waiting" and result.reason.lower().startswith(CONNECTION_REASONS)


class ChecksPanel(Static):
    def __init__(self) -> None:
        super().__init__("", id="checks")
        self.border_title = "Checks"
        self.results: tuple[CheckResult, ...] = ()

    def show_message(self, message: str, style: str = "dim") -> None:
        self.results = ()
        self.update(Text(message, style=style))

    def show_results(
        self, results: Sequence[CheckResult], *, explain: bool, heading: str = "", stopped: str = ""
    ) -> None:
        self.results = tuple(results)
        text = Text()
        if heading:
            text.append(heading + "\n\n", style="bold yellow")
        if stopped:
            text.append(stopped + "\n\n", style="bold red")
        if not results:
            text.append("Checking…", style="dim")
        connection = next((result.reason for result in results if _about_connection(result)), "")
        if connection:
            text.append(connection[0].upper() + connection[1:] + "\n\n", style="yellow")
        for number, result in enumerate(results):
            if number:
                text.append("\n")
            mark, style = MARKS.get(result.status, ("?", ""))
            text.append(f"{mark} ", style=style)
            text.append(result.title, style="bold" if result.status != "pass" else "")
            if _about_connection(result):
                continue
            if result.status != "pass" and result.reason:
                text.append(f"\n  {result.reason}", style=style if result.status == "fail" else "")
            if result.status != "pass" and (explain or result.status == "fail"):
                _findings(text, result)
        passing = sum(1 for result in results if result.status == "pass")
        hidden = [r for r in results if r.status == "waiting" and r.findings and not _about_connection(r)]
        if hidden and not explain:
            text.append("\n\ne: explain why", style="dim italic")
        self.border_subtitle = f"{passing}/{len(results)} pass" if results else ""
        self.update(text)


def _findings(text: Text, result: CheckResult) -> None:
    for finding in result.findings:
        text.append(f"\n  ▸ {finding.message}", style="italic")
        for line in finding.evidence:
            text.append(f"\n      {line}", style="dim")
        if finding.command:
            text.append("\n    see: ", style="dim")
            text.append(f"$ {finding.command}", style="cyan")
