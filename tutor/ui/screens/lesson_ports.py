"""The part of the lesson screen that moves a background command to another local port.

A port-forward whose port another program holds is not started: the learner is asked
for another port (with a free one suggested), and once the session has it, the command
runs again on it. `o` asks the same on a step that has such a command.
"""

from __future__ import annotations

from textual import work

from tutor.session.events import PortTaken, VariableChanged
from tutor.ui.screens.lesson_drawing import LessonDrawing


class LessonPorts(LessonDrawing):
    autoplay: bool
    opened: bool
    _rerun: tuple[str, str, int] | None
    """A port being changed, and the command to run again once it is: (variable, step, index)."""
    _rerun_due: tuple[str, int] | None

    def _run_due(self) -> None:
        raise NotImplementedError

    def _port_taken(self, event: PortTaken) -> None:
        view = self.runs.view(event.run)
        if view is not None:
            view.port_taken(event.use.describe(), event.variable is not None)
        why = f"{event.process} was not started: {event.use.describe()}."
        if event.variable is None or self.autoplay:
            self.notify(why, title="Port taken", severity="warning", timeout=20)
            return
        self._ask_port(event.variable, why, event.suggestion, (event.step, view.index) if view is not None else None)

    def _variable_changed(self, event: VariableChanged) -> None:
        for view in self.step_views.values():
            view.retext(self.session.text, self.session.variables)
        self._show_hints()
        self.notify(f"{event.name} is now {event.value}: the commands and checks use it from now on.", timeout=8)
        rerun, self._rerun = self._rerun, None
        if rerun is not None and rerun[0] == event.name:
            self._rerun_due = (rerun[1], rerun[2])
            if not self._can_run():
                self._view(rerun[1]).command_views[rerun[2]].queued(
                    "runs on the new port once the command running now ends"
                )
            self._run_due()

    def _port_command(self, step_id: str) -> tuple[str, int] | None:
        """The step's command whose port the learner may move: (its variable, its index)."""
        for index, command in enumerate(self.lesson.step(step_id).commands):
            if command.port_variable is not None:
                return command.port_variable, index
        return None

    def action_change_port(self) -> None:
        found = self._port_command(self.current)
        if found is not None and self.opened:
            variable, _ = found
            self._ask_port(variable, f"Port {self.session.variables.get(variable)} is the one in use now.", None, None)

    def _ask_port(self, variable: str, why: str, suggestion: int | None, rerun: tuple[str, int] | None) -> None:
        """Ask for another port; once the session has it, run the command that could not start again."""
        from tutor.ui.screens.port import PortScreen

        def chosen(value: str | None) -> None:
            if value is None:
                return
            if value.strip() == self.session.variables.get(variable):
                # The same port: nothing changes; run it again if asked (it may be free by now).
                self._rerun_due = rerun
                self._run_due()
                return
            if rerun is not None:
                self._rerun = (variable, *rerun)
            self._set_variable(variable, value)

        self.app.push_screen(PortScreen(variable, why, suggestion, self.session.variable_problem), chosen)

    @work(thread=True, exit_on_error=False, group="variables", name="set variable")
    def _set_variable(self, name: str, value: str) -> None:
        # Stopping a forward on the old port waits for it: never on the app thread.
        from tutor.session.commands import BadVariable

        try:
            self.session.set_variable(name, value)
        except BadVariable as err:
            self._rerun = None
            self.app.call_from_thread(self.notify, str(err), severity="error", timeout=10)
