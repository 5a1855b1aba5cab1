"""One command of a step: the line the learner would type, a Run button, its status and live output."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Self, assert_never

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Button, Log, Static

from tutor.folded_tables import Folded, cell_width, fold_tables, wrap_lines
from tutor.lesson.model import Command
from tutor.safe_text import strip_controls

MAX_OUTPUT_LINES = 1000
"""Per command: enough to scroll back through a `minikube start`, bounded for a chatty one."""

if TYPE_CHECKING:
    from tutor.run import ProcessState
    from tutor.ui.screens.output import RunOutput


def process_label(state: ProcessState) -> tuple[str, str]:
    """How a background command's state reads, and the class that colours it."""
    from tutor.run import ProcessState  # the run layer: loaded with the session's cluster, not to draw a step

    match state:
        case ProcessState.STARTING | ProcessState.RUNNING:
            return "◌ starting…", "-running"
        case ProcessState.READY:
            return "● ready (kept running)", "-ok"
        case ProcessState.RESTARTING:
            return "◌ restarting…", "-running"
        case ProcessState.FAILED:
            return "✗ failed", "-failed"
        case ProcessState.NEEDS_TERMINAL:
            return "✗ needs your terminal", "-failed"
        case ProcessState.STOPPED:
            return "■ stopped", ""
        case _:
            assert_never(state)


class OutputLog(Log):
    """A Log that draws the colours a command's output lines keep (their SGR sequences,
    the only sequences `tutor.safe_text` leaves in them); other lines are drawn as Log draws them."""

    @classmethod
    def _process_line(cls, line: str) -> str:
        # What Log measures and draws: the line without its colour sequences.
        return super()._process_line(strip_controls(line) if "\x1b" in line else line)

    def write_lines(self, lines: Iterable[str], scroll_end: bool | None = None) -> Self:
        # Log drops an empty line ("".splitlines() is []): a blank line between two tables counts.
        lines = [line or " " for line in lines]
        pruned = self.max_lines is not None and self.line_count + len(lines) > self.max_lines
        super().write_lines(lines, scroll_end)
        if pruned:
            # Log repaints only the lines it added, at the places they had before the oldest
            # were dropped: the lines already on screen moved up, so all of them are repainted.
            self.refresh()
        return self

    def on_resize(self) -> None:
        # Its size is known only now, after the lines that made it grow: what fits may have changed.
        parent = self.parent
        if isinstance(parent, CommandView):
            parent.fit()

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        raw = self._lines[y]
        if "\x1b" not in raw or self.text_selection is not None:
            return super()._render_line_strip(y, rich_style)
        text = Text.from_ansi(raw.expandtabs(), no_wrap=True, end="")
        text.stylize_before(rich_style)  # the line's own colours over the widget's
        return Strip(text.render(self.app.console), text.cell_len)


class CommandView(Vertical):
    class RunPressed(Message):
        """The learner asked to run this one command."""

        def __init__(self, step_id: str, index: int) -> None:
            super().__init__()
            self.step_id = step_id
            self.index = index

    def __init__(self, step_id: str, index: int, command: Command, text: str) -> None:
        super().__init__(classes="command")
        self.step_id = step_id
        self.index = index
        self.command = command
        self.text = text
        self.last_started = -1
        """Order of the latest run that started here (-1: never); picks the view for a run."""
        self._needs_you = False
        # The status line and the output log are mounted when first needed: a step's commands
        # are part of the first frame, where each hidden widget would still cost its styling.
        self._status: Static | None = None
        self._output: OutputLog | None = None
        self._repeats: Static | None = None
        """A background command's line that keeps coming: shown once in the output, counted here."""
        self._repeated: tuple[str, int] | None = None
        self._written = 0
        """Lines of output of the latest run, the ones no longer kept included."""
        self._cue: Static | None = None
        """Under an output that does not fit its panel: how to see the rest."""
        # Output that arrives before the Log is mounted: Log.write_lines needs a mounted Log.
        self._pending: deque[str] = deque(maxlen=MAX_OUTPUT_LINES)
        self._printed: deque[str] = deque(maxlen=MAX_OUTPUT_LINES)
        """The latest run's output as the command printed it (the Log may show its tables folded)."""
        self._ended = False
        """The latest run has ended: its tables may be folded (a running one's are not, to keep still)."""
        self._fitted_width: int | None = None
        """The panel's width the output was last laid out for (None: not yet, or to do again)."""
        self._line_width = 0
        """The width its lines get there."""
        self._folded_tables = 0
        """How many of its tables the Log shows folded (0: the output as printed)."""
        self._wrapped_lines = 0
        """How many of its long lines of text the Log shows wrapped."""
        self._button: Button | None = None
        self._line: Horizontal | None = None
        if not command.manual:
            self._button = Button("▶ Run", classes="run-button", compact=True, disabled=True)
            self._button.tooltip = "Run this command (r runs the whole step)"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="command-line") as self._line:
            yield Static(Text(f"$ {self.text}"), classes="command-text")
            if self.command.manual:
                yield Static("type this yourself", classes="manual-tag")
            elif self.command.background:
                yield Static("background", classes="background-tag")
            if self._button is not None:
                yield self._button
        # Created before this view was composed (its step's events came first).
        yield from (widget for widget in (self._status, self._output, self._repeats, self._cue) if widget is not None)

    def _add(self, widget: Widget, after: Widget | None) -> None:
        """Mount a part made after compose; one made before is yielded by compose. Nothing
        when this view has left the screen (a callback after a refresh, as the tutor quits)."""
        if self.is_attached and self._line is not None and self._line.parent is self:
            self.mount(widget, after=after or self._line)

    # --- driven by the screen ----------------------------------------------------------

    def set_runnable(self, runnable: bool) -> None:
        if self._button is not None:
            self._button.disabled = not runnable

    def _flush(self) -> None:
        if self._output is None or not self._output.is_mounted:
            return
        if self._pending:
            self._output.write_lines(list(self._pending))
            self._pending.clear()

    def started(self, order: int) -> None:
        self.last_started = order
        self._needs_you = False
        self._pending.clear()
        self._printed.clear()
        self._ended = False
        self._fitted_width = None
        self._folded_tables = 0
        self._wrapped_lines = 0
        self._written = 0
        self._repeated = None
        if self._repeats is not None:
            self._repeats.display = False
        if self._output is not None:
            self._output.clear()
            self._output.remove_class("-fits-width")
            self._output.display = False  # until it prints something: no empty box
        self._set_status("◌ running…", "-running")

    def queued(self, why: str = "waiting for the cluster connection…") -> None:
        """Asked to run before it can (the session is not open, another run is under way)."""
        self._set_status(f"◌ {why}", "-running")

    def unqueue(self) -> None:
        if self._status is not None and self.last_started < 0:
            self._status.display = False

    def retext(self, text: str) -> None:
        """The command with a variable's new value (another port)."""
        if text == self.text:
            return
        self.text = text
        if self._line is not None and self._line.is_mounted:
            self._line.query_one(".command-text", Static).update(Text(f"$ {text}"))

    def repeated(self, text: str, count: int) -> None:
        """The last line came again: `count` times in a row so far."""
        self._repeated = (text, count)
        if self._repeats is None:
            self._repeats = Static("", classes="command-repeats")
            self._add(self._repeats, self._output or self._status)
        self._repeats.display = True
        self._repeats.update(Text(f"↻ the line above, {count} times in a row", style="italic"))

    def write(self, lines: Sequence[str]) -> None:
        if self._repeated is not None:
            # Something else came: the count stays in the output, where the repeats were.
            _, count = self._repeated
            self._repeated = None
            if self._repeats is not None:
                self._repeats.display = False
            lines = [f"  ↑ {count} times in a row", *lines]
        if self._folded_tables:
            # Output after the end (a note from the tutor): the tables as printed, laid out again.
            self._show(list(self._printed), 0, 0)
            self._fitted_width = None
        self._written += len(lines)
        self._printed.extend(lines)
        if self._output is None:
            self._output = OutputLog(max_lines=MAX_OUTPUT_LINES, classes="command-output")
            self._add(self._output, self._status)
        self._output.display = True
        if self._output.is_mounted:
            self._flush()
            self._output.write_lines(self._wrapped(lines))
        else:
            self._pending.extend(lines)
            self._output.call_after_refresh(self._flush)
        self._output.call_after_refresh(self.fit)

    def _wrapped(self, lines: Sequence[str]) -> Sequence[str]:
        """New lines as the Log shows them: wrapped to the width it was laid out for, if any."""
        output = self._output
        if self._fitted_width is None or output is None:
            return lines
        shown, wrapped = wrap_lines(lines, self._line_width)
        self._wrapped_lines += wrapped
        if any(cell_width(line) > self._line_width for line in shown):
            output.remove_class("-fits-width")  # a wider line scrolls sideways: never cut
        return shown

    def fit(self) -> None:
        """Lay the output out for the panel's width, then say what does not fit."""
        self._fold()
        self.show_cue()

    def _fold(self) -> None:
        """Wrap the long lines of text and, once the run has ended, fold the tables wider
        than the panel (a running one's are shown as they come, so that they do not jump
        under the learner's eyes); or show them as printed again once the panel is wide
        enough. New lines of a running command are wrapped as they come (`_wrapped`)."""
        output = self._output
        if output is None or not output.is_mounted or self._pending:
            return
        width = output.size.width
        if width <= 0 or width == self._fitted_width:
            return
        self._fitted_width = width
        # The width the lines get: Log keeps room for its vertical scroll bar (overflow: scroll).
        if output.styles.overflow_y != "hidden":
            width -= output.styles.scrollbar_size_vertical
        self._line_width = width
        folded = fold_tables(self._printed, width) if self._ended else Folded(list(self._printed), 0)
        lines, wrapped = wrap_lines(folded.lines, width)
        # Past what the Log keeps, the first lines would be dropped: shown as printed.
        if (folded.folded or wrapped) and len(lines) <= MAX_OUTPUT_LINES:
            first = not (self._folded_tables or self._wrapped_lines)
            self._show(lines, folded.folded, wrapped)
            output.set_class(all(cell_width(line) <= width for line in lines), "-fits-width")
            if folded.folded:
                output.scroll_home(animate=False)  # a table reads from its header down
            if first and self._ended and self._in_view():
                # It grew below where the learner was reading it: all of it comes into view.
                self.call_after_refresh(self.scroll_visible, animate=False)
        elif self._folded_tables or self._wrapped_lines:
            self._show(list(self._printed), 0, 0)

    def _in_view(self) -> bool:
        scrolled = next(
            (widget for widget in self.ancestors if isinstance(widget, Widget) and widget.is_scrollable), None
        )
        return scrolled is not None and scrolled.can_view_partial(self)

    def _show(self, lines: list[str], tables: int, wrapped: int) -> None:
        self._folded_tables = tables
        self._wrapped_lines = wrapped
        if self._output is not None and self._output.is_mounted:
            self._output.remove_class("-fits-width")
            self._output.clear()
            self._output.write_lines(lines, scroll_end=not tables)

    def show_cue(self) -> None:
        """Say so when the output does not fit its panel: longer (it scrolls) or wider (it
        scrolls sideways), or its tables folded to fit; `f` shows all of it as printed."""
        output = self._output
        if output is None or not output.is_mounted:
            return
        region = output.scrollable_content_region
        wide = output.virtual_size.width > region.width > 0
        long = output.line_count > region.height > 0
        folded = self._folded_tables
        wrapped = self._wrapped_lines
        dropped = self.dropped
        output.set_class(wide or long or bool(folded or wrapped), "-cued")
        if not (wide or long or folded or wrapped):
            if self._cue is not None:
                self._cue.display = False
            return
        if self._cue is None:
            self._cue = Static("", classes="command-cue")
            self._add(self._cue, self._repeats or output)
        self._cue.display = True
        if folded or wrapped:
            tables = "table" if folded == 1 else f"{folded} tables"
            lines = "a long line" if wrapped == 1 else "long lines"
            what = [
                f"{tables} folded to fit" if folded else "",
                f"{lines} wrapped" if wrapped else "",
                "wider lines scroll sideways" if wide else "",
                "scroll for more" if long else "",
                f"its first {dropped} lines are not kept" if dropped else "",
            ]
            self._cue.update(Content(f"⇲ {', '.join(part for part in what if part)}: f shows it as printed"))
            return
        count = f"the last {output.line_count} of {self._written} lines" if dropped else f"{output.line_count} lines"
        what = ["wider lines scroll sideways" if wide else "", count if long else ""]
        self._cue.update(Content(f"⇲ {', '.join(part for part in what if part)}: f shows them all, wrapped"))

    @property
    def dropped(self) -> int:
        """The latest run's first lines that are no longer kept (past MAX_OUTPUT_LINES)."""
        return max(self._written - len(self._printed), 0)

    @property
    def folded(self) -> int:
        """How many tables the Log shows folded to fit (0: the output as printed)."""
        return self._folded_tables

    @property
    def wrapped(self) -> int:
        """How many long lines of text the Log shows wrapped."""
        return self._wrapped_lines

    def finished(self, ok: bool, exit_status: int | None, detail: str) -> None:
        if self.command.background:
            return  # its state comes from ProcessChanged: "ready" is not "finished"
        self._ended = True
        self._fitted_width = None  # laid out again: its tables may fold now
        if self._output is not None:
            self.fit()  # now, when its Log is laid out: the screen brings the folded view into view
            self._output.call_after_refresh(self.fit)
        if self._needs_you:
            return  # "run it in your own terminal" says more than "exit status 1"
        if ok:
            self._set_status("✓ done", "-ok")
        else:
            self._set_status(f"✗ {detail or f'exit status {exit_status}'}", "-failed")

    def process_changed(self, state: ProcessState, detail: str) -> None:
        label, css_class = process_label(state)
        if detail and state in ("restarting", "failed", "needs-terminal"):
            label = f"{label} {detail}"
        self._set_status(label, css_class)

    def port_taken(self, description: str, can_change: bool) -> None:
        """Not started: another program holds its port."""
        advice = ": press o to use another port" if can_change else ": stop that program, then run it again"
        self._set_status(f"✗ not started, {description}{advice}", "-failed")

    def already_served(self, port: int) -> None:
        """Not started: the lesson's app already answers on its port (the learner's own forward)."""
        self._set_status(f"● port {port} already serves the game (your own forward?): not started again", "-ok")

    def needs_you(self, prompt: str) -> None:
        """The command waits for input the tutor cannot give it: the learner runs it."""
        self._needs_you = True
        asks = f" (it asks: {prompt.strip()})" if prompt.strip() else ""
        self._set_status(f"⚠ needs your terminal{asks}: run it in your own terminal", "-failed")

    @property
    def output(self) -> Sequence[str]:
        """The latest run's output as printed (its kept lines), whatever the Log shows."""
        return list(self._printed)

    def run_output(self) -> RunOutput:
        """This command's output and how it ended, for the full-screen view."""
        from tutor.ui.screens.output import RunOutput

        return RunOutput(self.text, self.status, list(self.output), self.dropped)

    @property
    def status(self) -> str:
        return str(self._status.content) if self._status is not None and self._status.display else ""

    def _set_status(self, label: str, css_class: str) -> None:
        if self._status is None:
            self._status = Static("", classes="command-status")
            self._add(self._status, None)
        self._status.display = True
        self._status.update(Content(label))
        for name in ("-running", "-ok", "-failed"):
            self._status.set_class(name == css_class, name)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.RunPressed(self.step_id, self.index))
