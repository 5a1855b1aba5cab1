"""The checks panel decides from a result's fields, never from its words."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tutor.cluster.results import waiting
from tutor.session.events import CheckId, StepCheck
from tutor.ui.widgets.checks_panel import ChecksPanel


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChecksPanel()


async def test_the_connection_is_said_once_above_the_checks_from_the_field() -> None:
    about_cluster = waiting("the cluster went somewhere", unjudged="connection")
    checks = (
        StepCheck(CheckId("s", 0), "first", about_cluster),
        StepCheck(CheckId("s", 1), "second", about_cluster),
        StepCheck(CheckId("s", 2), "third", waiting("no cluster yet, says this check's own reason")),
    )
    app = PanelApp()
    async with app.run_test() as pilot:
        panel = app.query_one(ChecksPanel)
        panel.show_results(checks, explain=False)
        await pilot.pause()
        text = str(panel.render())
    assert text.count("The cluster went somewhere") == 1  # above the checks, once
    assert "no cluster yet, says this check's own reason" in text  # its words decide nothing
    assert panel.border_subtitle == "0/3 pass"
