"""Which command on screen each of the session's runs belongs to, and drawing the run there.

The session names a run by an id of its own and says which step and which command text it
is; the screen has a `CommandView` per command of a step. A step may hold the same command
twice (`kubectl get storageclass` before and after the patches): a run goes to the view the
learner pressed, else to the least recently run of the matching ones, which is the next one
in the step's order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from tutor.ui.widgets.command_view import CommandView

if TYPE_CHECKING:
    from tutor.session.events import CommandStarted, ProcessChanged


class CommandRuns:
    def __init__(self, views: Callable[[str], Sequence[CommandView]]) -> None:
        """`views(step_id)`: the step's command views, in order (made on demand)."""
        self._views = views
        self._runs: dict[str, CommandView] = {}
        self._processes: dict[str, CommandView] = {}
        self._claims: dict[tuple[str, str], CommandView] = {}
        self._order = 0

    def claim(self, view: CommandView) -> None:
        """The learner pressed this command's Run: its run comes to this view."""
        self._claims[(view.step_id, view.text)] = view

    def started(self, event: CommandStarted) -> CommandView | None:
        view = self._claims.pop((event.step, event.text), None)
        if view is None:
            candidates = [view for view in self._views(event.step) if view.text == event.text]
            if not candidates:
                return None
            view = min(candidates, key=lambda view: (view.last_started, view.index))
        self._order += 1
        view.started(self._order)
        self._runs[event.run] = view
        if event.background:
            self._processes[view.command.id or event.run] = view
        return view

    def latest(self) -> CommandView | None:
        """The view the newest run went to."""
        return max(self._runs.values(), key=lambda view: view.last_started, default=None)

    def view(self, run: str) -> CommandView | None:
        return self._runs.get(run)

    def write(self, output: Mapping[str, list[str]]) -> None:
        for run, lines in output.items():
            view = self._runs.get(run)
            if view is not None:
                view.write(lines)

    def process_changed(self, event: ProcessChanged) -> None:
        view = self._processes.get(event.process)
        if view is not None:
            view.process_changed(event.state, event.detail)
