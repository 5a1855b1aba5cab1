"""Hints, revealed one at a time, in the author's order."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Markdown, Static

from tutor.ui.prose import for_textual


class HintsPanel(VerticalScroll):
    def __init__(self) -> None:
        super().__init__(id="hints")
        self.border_title = "Hints"
        self._shown: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", id="hint-count")
        yield Button("Show a hint", id="hint-button", compact=True, disabled=True)

    async def show(self, hints: Sequence[str], total: int) -> None:
        """`hints`: the ones revealed so far (variables filled in), of `total`."""
        count = self.query_one("#hint-count", Static)
        button = self.query_one("#hint-button", Button)
        if total == 0:
            count.update("This step has no hints.")
        else:
            count.update(f"{len(hints)} of {total} shown")
        button.disabled = len(hints) >= total
        button.label = "Show a hint" if not hints else "Another hint"
        if tuple(hints) == self._shown:
            return
        shown_before = self._shown
        self._shown = tuple(hints)
        if tuple(hints[: len(shown_before)]) != shown_before:
            await self.query(".hint").remove()
            shown_before = ()
        for hint in hints[len(shown_before) :]:
            await self.mount(Markdown(for_textual(hint), classes="hint"), before=button)
        if len(hints) > len(shown_before):
            self.scroll_end(animate=False)

    @property
    def shown(self) -> Sequence[str]:
        return self._shown
