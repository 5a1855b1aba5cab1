"""Hints, revealed one at a time, in the author's order.

The session counts the hints revealed; the screen draws them with the variables as they
are now.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from tutor.lesson.prose import display_markdown


class HintsPanel(VerticalScroll):
    def __init__(self, total: int) -> None:
        """`total`: the hints of the step on screen, none shown yet."""
        self._count = Static(self._counted(0, total), id="hint-count")
        self._button = Button("Show a hint", id="hint-button", compact=True, disabled=not total)
        super().__init__(self._count, self._button, id="hints")
        self.border_title = "Hints"
        self._shown: tuple[str, ...] = ()

    async def show(self, hints: Sequence[str], total: int) -> None:
        """`hints`: the ones revealed so far (variables filled in), of `total`."""
        self._count.update(self._counted(len(hints), total))
        self._button.disabled = len(hints) >= total
        self._button.label = "Show a hint" if not hints else "Another hint"
        if tuple(hints) == self._shown:
            return
        shown_before = self._shown
        self._shown = tuple(hints)
        if tuple(hints[: len(shown_before)]) != shown_before:
            await self.query(".hint").remove()
            shown_before = ()
        from textual.widgets import Markdown  # ~15 ms to import: not before the first hint

        for hint in hints[len(shown_before) :]:
            await self.mount(Markdown(display_markdown(hint), classes="hint"), before=self._button)
        if len(hints) > len(shown_before):
            self.scroll_end(animate=False)

    @staticmethod
    def _counted(shown: int, total: int) -> str:
        return f"{shown} of {total} shown" if total else "This step has no hints."

    @property
    def shown(self) -> Sequence[str]:
        return self._shown
