"""Plain line mode: the lesson as text, for screen readers, logs, CI and dumb terminals."""
