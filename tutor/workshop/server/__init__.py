"""The instructor's workshop server: learners' snapshots in, the board and its API out.

It depends on nothing of the tutor but the wire schema (`tutor.workshop.snapshot`,
`tutor.workshop.notices`); import-linter holds it to that.

- `store.py`: the workshop's state in SQLite (one file per workshop; a restart loses nothing).
- `room.py`: what the board shows, derived from the store (status, totals) and the live feed.
- `app.py`: the HTTP API (`/api/v1/...`) and the board's files.
- `serve.py`: running it, in the foreground (`k8s-tutor workshop serve`) or in a thread.
- `export.py`: the instructor's records as CSV or JSON.
- `board/`: the board's page: plain HTML, CSS and JavaScript, no build step, no CDN.
"""
