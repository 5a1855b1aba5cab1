"""The Textual TUI: a view of the lesson session."""
