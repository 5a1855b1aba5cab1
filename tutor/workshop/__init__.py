"""Workshops: a learner's tutor reports its progress to the instructor's board.

- `snapshot`, `notices`: the data that crosses the wire (pure; no I/O).
- `client`: the learner's sender (a thread; never blocks the lesson) and its saved identity.
- `server/`: the instructor's server (aiohttp + SQLite) and the board's web page.
- `main`: the `k8s-tutor workshop` command (serve, status, export).
"""
