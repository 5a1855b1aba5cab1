"""The live object map drawn: a note (what the map says, or its legend) over a `Tree`.

One widget for both places the map is shown: the map's own screen (`m`,
tutor/ui/screens/object_map.py) and the panel under the step on a wide terminal
(tutor/ui/screens/lesson_map.py). It draws the session's `ObjectMap`
(tutor/cluster/object_map.py): each object with its state in the colour of how it stands
and the step it belongs to; relations drawn elsewhere in the tree are `→` lines under the
object they start from. A redraw keeps what the learner did: the object under the cursor,
and what they folded.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from tutor.cluster.object_map import MapLink, MapNode, ObjectMap, link_words, qualified, shows_step
from tutor.safe_text import strip_controls

HEALTH_STYLES = {
    "ok": "green",
    "waiting": "yellow",
    "failing": "bold red",
    "leaving": "bold magenta",
    "absent": "dim",
}
LEGEND = "green: ready/bound · yellow: on its way · red: stuck · magenta: going · grey: not created yet"

NodeKey = tuple[str, str | None, str, str]
"""What a line of the tree shows: (kind, namespace, name, relation or "" for an object)."""


class ObjectMapView(Vertical):
    """The map's note and its tree; `show_map` draws a new map in place of the last."""

    def __init__(self, found: ObjectMap | None = None, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        """`found`: the map to draw first (None: the cluster is still being read)."""
        super().__init__(id=id, classes="map-view")
        self.shown = found
        self._folded: set[NodeKey] = set()

    def compose(self) -> ComposeResult:
        yield Static(Text("Reading the cluster…", style="dim"), classes="map-note")
        tree: Tree[NodeKey] = Tree("objects", id="map-tree", classes="map-tree")
        tree.show_root = False
        tree.guide_depth = 3
        yield tree

    def on_mount(self) -> None:
        if self.shown is not None:
            self._draw(self.shown)

    @property
    def map_tree(self) -> Tree[NodeKey]:
        return self.query_one("#map-tree", Tree)

    def show_map(self, found: ObjectMap) -> None:
        """Draw `found` in place of what is shown (once mounted, if it is not yet)."""
        self.shown = found
        if self.is_mounted:
            self._draw(found)

    def _draw(self, found: ObjectMap) -> None:
        note = self.query_one(".map-note", Static)
        if found.note:
            note.update(Text(found.note[0].upper() + found.note[1:], style="yellow"))
        elif not found.roots:
            note.update(Text("The lesson has built nothing yet.", style="dim"))
        else:
            note.update(Text(LEGEND, style="dim"))
        tree = self.map_tree
        cursor = tree.cursor_node.data if tree.cursor_node is not None else None
        tree.clear()
        for root in found.roots:
            self._add(tree.root, root, None)
        if cursor is not None:
            for line in range(tree.last_line + 1):
                node = tree.get_node_at_line(line)
                if node is not None and node.data == cursor:
                    tree.move_cursor(node)
                    break

    def _add(self, parent: TreeNode[NodeKey], node: MapNode, above: MapNode | None) -> None:
        key: NodeKey = (node.kind, node.namespace, node.name, "")
        label = node_label(node, step=shows_step(node, above))
        if not node.children and not node.links:
            parent.add_leaf(label, key)
            return
        branch = parent.add(label, key, expand=key not in self._folded)
        for child in node.children:
            self._add(branch, child, node)
        for link in node.links:
            branch.add_leaf(link_label(link), (link.kind, link.namespace, link.name, link.relation))

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[NodeKey]) -> None:
        if event.node.data is not None:
            self._folded.add(event.node.data)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeKey]) -> None:
        if event.node.data is not None:
            self._folded.discard(event.node.data)

    def lines(self) -> list[str]:
        """The tree's lines as plain text, as drawn (for tests)."""
        tree = self.map_tree
        found = []
        for line in range(tree.last_line + 1):
            node = tree.get_node_at_line(line)
            if node is not None:
                found.append("  " * _depth(node) + str(node.label))
        return found


def _depth(node: TreeNode[NodeKey]) -> int:
    depth = 0
    while node.parent is not None and node.parent.parent is not None:
        depth, node = depth + 1, node.parent
    return depth


def node_label(node: MapNode, *, step: bool = True) -> Text:
    """`Pod pacman/mongo-0 Running 1/1  step: deploy`, the state in its health's colour."""
    text = Text(no_wrap=True)
    text.append(node.kind, style="bold")
    text.append(strip_controls(f" {qualified(node.kind, node.namespace, node.name)}"))
    if node.state:
        text.append(strip_controls(f" {node.state}"), style=HEALTH_STYLES[node.health])
    if step and node.step:
        text.append(f"  step: {node.step}", style="dim")
    return text


def link_label(link: MapLink) -> Text:
    """`→ sends to Pod pacman/pacman-7d9f-abcde ready`, dim but for the state's colour."""
    head, state = link_words(link)
    text = Text(strip_controls(f"→ {head}"), style="dim", no_wrap=True)
    if state:
        text.append(strip_controls(f" {state}"), style=HEALTH_STYLES[link.health])
    return text
