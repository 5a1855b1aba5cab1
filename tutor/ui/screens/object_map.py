"""The live object map's own screen: what the lesson builds and how it hangs together.

A screen of its own, so that it has the whole terminal even at 80x24 (`m` below 150
columns; on a wide terminal the map is a panel under the step, and `m` there goes into
it, `m` again opens this screen). It draws `ObjectMapView` (tutor/ui/widgets/object_map_tree.py),
the same widget as the panel, with the map the session holds now, then each `MapChanged`
the lesson screen forwards. Whether the session keeps the map's watches is the lesson
screen's to say (tutor/ui/screens/lesson_map.py): while this screen or the panel shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from tutor.ui.widgets.key_footer import KeyFooter
from tutor.ui.widgets.object_map_tree import ObjectMapView

if TYPE_CHECKING:
    from tutor.cluster.object_map import ObjectMap

TITLE = "What the lesson builds, live from the cluster"


class ObjectMapScreen(Screen[None]):
    AUTO_FOCUS = "#map-tree"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m,escape", "close", "Back to the lesson", key_display="m/esc"),
        Binding("q", "app.quit", "Quit", key_display="q/^q"),
    ]

    def __init__(self, found: ObjectMap | None) -> None:
        """`found`: the map as the session holds it now (None: not read yet)."""
        super().__init__(id="map-screen")
        self._first = found

    def compose(self) -> ComposeResult:
        yield Static(Text(TITLE, style="bold"), id="map-title")
        yield ObjectMapView(self._first, id="map-view")
        yield KeyFooter()

    def action_close(self) -> None:
        self.dismiss(None)

    @property
    def view(self) -> ObjectMapView:
        return self.query_one(ObjectMapView)

    def show_map(self, found: ObjectMap) -> None:
        """Draw `found` in place of what is shown."""
        if self.is_mounted:
            self.view.show_map(found)
        else:
            self._first = found

    def lines(self) -> list[str]:
        """The tree's lines as plain text, as drawn (for tests)."""
        return self.view.lines()
