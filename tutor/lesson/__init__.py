"""Lessons: the model, the Markdown parser, lint. Pure: no I/O beyond reading files."""
