"""The bottom line: the screen's keys, greyed when unavailable, as Textual's `Footer` draws them.

One widget drawing one line, instead of Textual's `Footer`, which is a container of a
widget per key that it only composes a few frames after the screen's first one (once
the screen's bindings are known) and composes again whenever they change: on this
screen, the last thing to be drawn. The look is the Footer's (its theme colours,
the key in bold on its own background, unavailable keys dim); a click runs the key
as the Footer's keys do, and the key under the mouse is highlighted.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class KeyFooter(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-footer--key", "key-footer--description", "key-footer--hover"}

    def __init__(self) -> None:
        super().__init__(id="key-footer")
        self._spans: list[tuple[int, int, str, bool]] = []
        """Per key drawn: its first and last column (end excluded), the key, and whether it is available."""
        self._hover: int | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        hover_style = self.get_component_rich_style("key-footer--hover")
        text = Text(no_wrap=True, overflow="ellipsis")
        spans: list[tuple[int, int, str, bool]] = []
        shown: set[str] = set()
        for _, binding, enabled, _ in self.screen.active_bindings.values():
            if not binding.show or binding.action in shown:
                continue  # one entry per action, as Footer has it (q and ctrl+q: "q/^q")
            shown.add(binding.action)
            start = len(text)
            dim = Style(dim=not enabled)
            text.append(f" {self.app.get_key_display(binding)} ", key_style + dim)
            text.append(f"{binding.description} ", description_style + dim)
            if self._hover == len(spans):
                text.stylize(hover_style, start, len(text))
            spans.append((start, len(text), binding.key, enabled))
        self._spans = spans
        return text

    def _key_at(self, x: int) -> int | None:
        return next((index for index, (start, end, _, _) in enumerate(self._spans) if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._key_at(event.x)
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._key_at(event.x)
        if index is None:
            return
        _, _, key, enabled = self._spans[index]
        if enabled:
            self.app.simulate_key(key)
        else:
            self.app.bell()
