"""A program that imitates the Pac-Man app on a loopback port: what `served_by` must not accept."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Impostor:
    """A tiny loopback server that answers as the Pac-Man app does, naming whichever pod it is told."""

    def __init__(self, pod: str, port: int = 0) -> None:
        self.pod = pod
        self.scores: list[dict[str, Any]] = [{"name": "someone", "score": 1}]
        impostor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                status = 200
                if self.path == "/location/metadata":
                    body = json.dumps({"cloud": "unknown", "zone": "unknown", "host": impostor.pod}).encode()
                elif self.path == "/highscores/list":
                    body = json.dumps(impostor.scores).encode()
                else:
                    status, body = 404, b"<h1>Not Found</h1>\x1b]0;owned\x07"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
