"""The part of the lesson screen that shows the live object map: a panel, or a screen.

On a wide terminal (`-wide`, 150 columns and more) the map is a panel under the step, live
beside the lesson: `m` goes into it (the arrow keys move, Enter folds; Escape goes back to
the step) and `m` there opens the map's own screen; the footer says "Map panel" then (the
key's other binding). Narrower, or in presenter mode, there
is no panel and `m` opens the screen at once. A lesson that builds nothing the map draws
(no check about a cluster object, no `map:`) gets no panel.

The session keeps the map's watches (`show_map`) while the map is in view and stops them
(`hide_map`) once it is not: this screen is their one owner, and asks for them while the
panel or the screen (or both) shows the map. A terminal with no map in view makes no
request for it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from tutor.ui.screens.lesson_ports import LessonPorts

# The map's widgets (Textual's Tree, the cluster layer's map) are imported once a map is
# shown: not on the way to the first paint.
if TYPE_CHECKING:
    from tutor.cluster.object_map import ObjectMap
    from tutor.lesson.model import Lesson
    from tutor.ui.presenter import Presentation
    from tutor.ui.screens.object_map import ObjectMapScreen
    from tutor.ui.widgets.object_map_tree import ObjectMapView

log = logging.getLogger(__name__)

MapPlace = Literal["panel", "screen"]
PANEL_CLASS = "-map-panel"
"""On the screen while the panel is shown (its styles in tutor.tcss)."""


def builds_mapped_objects(lesson: Lesson) -> bool:
    """Whether the lesson's checks or its `map:` name an object the object map draws."""
    from tutor.lesson import map_subjects  # reads YAML: on the connect worker, after the first paint

    try:
        return bool(map_subjects.subjects(lesson))
    except ValueError:  # a check kind the map does not know: no panel, the lesson still runs
        log.exception("reading the object map's subjects failed")
        return False


class LessonMap(LessonPorts):
    presentation: Presentation
    _map_places: set[MapPlace]
    """Where the map is in view now: the session keeps its watches while this is not empty."""
    _map_screen: ObjectMapScreen | None
    _map_panel: ObjectMapView | None
    _map_possible: bool
    """The lesson builds something the map draws: known once the worker has read its subjects."""

    @property
    def map_panel(self) -> ObjectMapView | None:
        """The panel, while it is shown."""
        panel = self._map_panel
        return panel if panel is not None and PANEL_CLASS in self.classes else None

    def map_possible(self, possible: bool) -> None:
        """Whether the lesson builds anything the map draws (from the connect worker)."""
        self._map_possible = possible
        self.place_map_panel()

    def _layout_changed(self) -> None:
        self.place_map_panel()

    def place_map_panel(self) -> None:
        """Show the panel on a wide terminal, hide it otherwise: after a resize, and when the
        screen comes back (a screen on top gets the resizes meanwhile)."""
        wanted = self._map_possible and self.has_class("-wide") and not self.presentation.present
        if not wanted and self._in_map_panel():
            self.step_views[self.current].focus()  # the keys do not stay in a hidden panel
        if wanted and self._map_panel is None:
            from tutor.ui.widgets.object_map_tree import ObjectMapView

            self._map_panel = ObjectMapView(self.session.object_map, id="map-panel")
            self._map_panel.border_title = "What the lesson builds (m)"
            self.query_one("#main").mount(self._map_panel, after="#steps")
        if wanted != self.has_class(PANEL_CLASS):
            self.set_class(wanted, PANEL_CLASS)
            self.refresh_bindings()  # m goes into the panel, or opens the screen
        self._map_in_view("panel", wanted)

    def _map_in_view(self, place: MapPlace, shown: bool) -> None:
        places = self._map_places
        before = bool(places)
        if shown:
            places.add(place)
        else:
            places.discard(place)
        if bool(places) == before:
            return
        if places:
            self.session.show_map()  # MapChanged follows, now and on each change
        else:
            self.session.hide_map()

    def action_map_panel(self) -> None:
        """Into the panel; from the panel, the map's own screen."""
        panel = self.map_panel
        if panel is not None and not panel.map_tree.has_focus:
            panel.map_tree.focus()
        else:
            self.action_object_map()

    def action_object_map(self) -> None:
        from tutor.ui.screens.object_map import ObjectMapScreen

        self._map_screen = ObjectMapScreen(self.session.object_map)
        self._map_in_view("screen", True)
        self.app.push_screen(self._map_screen, self._map_closed)

    def _map_closed(self, _: None) -> None:
        self._map_screen = None
        self._map_in_view("screen", False)

    def _map_changed(self, found: ObjectMap) -> None:
        if self._map_panel is not None:
            self._map_panel.show_map(found)
        if self._map_screen is not None:
            self._map_screen.show_map(found)

    def _in_map_panel(self) -> bool:
        panel = self.map_panel
        return panel is not None and self.focused is not None and self.focused in panel.children
