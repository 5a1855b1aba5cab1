"""The Pac-Man stand-in: the HTTP API of `quay.io/ifont/pacman-nodejs-app`, one server per pod.

The real image is a Node.js/Express app (font/pacman) in front of MongoDB. The
stand-in answers the same routes with the same JSON shapes, so `curl`, the tutor's
checks and a browser see what they would see on minikube: scores saved through one pod
are listed by every pod, and they live wherever MongoDB keeps its data (see
`tutor.sandbox.apps.mongo`). While the database cannot be reached, the routes that
need it answer HTTP 500, as the real app's error handler does; `/` keeps working,
because the real app serves it as a static file.
"""

from __future__ import annotations

import datetime
import html
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tutor.sandbox.apps.mongo import Database, Unreachable

IMAGE = "quay.io/ifont/pacman-nodejs-app"
PORT = 8080
"""The app listens on $PORT or 8080, whatever the pod spec declares."""

DatabaseLookup = Callable[[], Database]
"""Finds the database the pod would reach right now; raises `Unreachable` otherwise."""


def is_pacman_image(image: str) -> bool:
    """True for the game's image under any tag or digest."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name in (IMAGE, "ifont/pacman-nodejs-app") or name.endswith("/" + IMAGE)


def listen_port(container: dict[str, Any]) -> int:
    for var in container.get("env") or []:
        if var.get("name") == "PORT" and str(var.get("value", "")).isdigit():
            return int(var["value"])
    return PORT


INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Pac-Man (k8s-tutor sandbox stand-in)</title>
<style>
body {{ background: #000; color: #ffe600; font-family: monospace;
       max-width: 46em; margin: 2em auto; }}
h1 {{ letter-spacing: .2em; }} .note {{ color: #9cf; }}
td, th {{ padding: .2em .8em; text-align: left; }}
input, button {{ font-family: monospace; }}
</style>
</head>
<body>
<h1>PAC-MAN</h1>
<p class="note">This is the k8s-tutor sandbox's stand-in for the Pac-Man game: a SIMULATED
cluster runs no containers, so there is no game to play here. It answers the game's API
(<code>/highscores/list</code>, <code>/highscores</code>, <code>/location/metadata</code>,
<code>/user/id</code>, <code>/user/stats</code>) and keeps the scores where MongoDB would.</p>
<p>Cloud: <span id="cloud">unknown</span> &middot; Zone: <span id="zone">unknown</span>
&middot; Host: <span id="host">{host}</span></p>
<h2>Save a high score</h2>
<form id="save"><input name="name" placeholder="your name" required>
<input name="score" type="number" value="100" min="0"> <button>save</button></form>
<p id="saved"></p>
<h2>High scores</h2>
<table><thead><tr>
<th>RANK</th><th>NAME</th><th>CLOUD</th><th>ZONE</th><th>HOST</th><th>SCORE</th>
</tr></thead>
<tbody id="scores"><tr><td colspan="6">loading...</td></tr></tbody></table>
<script>
function cell(t) {{
  var td = document.createElement("td"); td.textContent = t; return td;
}}
function load() {{
  fetch("highscores/list").then(function (r) {{
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }})
  .then(function (rows) {{
    var body = document.getElementById("scores"); body.innerHTML = "";
    rows.forEach(function (s, i) {{
      var tr = document.createElement("tr");
      [i + 1, s.name, s.cloud, s.zone, s.host, s.score].forEach(function (v) {{
        tr.appendChild(cell(v));
      }});
      body.appendChild(tr);
    }});
  }}).catch(function (e) {{
    document.getElementById("scores").innerHTML =
      "<tr><td colspan=6>cannot reach the database (" + e.message + ")</td></tr>";
  }});
}}
document.getElementById("save").addEventListener("submit", function (ev) {{
  ev.preventDefault();
  var f = new FormData(ev.target), body = new URLSearchParams();
  body.set("name", f.get("name")); body.set("score", f.get("score")); body.set("level", "1");
  body.set("cloud", "unknown"); body.set("zone", "unknown");
  body.set("host", document.getElementById("host").textContent);
  document.getElementById("saved").textContent = "Saving highscore...";
  fetch("highscores", {{method: "POST", body: body}}).then(function (r) {{
    document.getElementById("saved").textContent =
      r.ok ? "Saved." : "Could not save (HTTP " + r.status + ")";
    load();
  }});
}});
load();
</script>
</body>
</html>
"""

ERROR_PAGE = """<!DOCTYPE html><html><head><title></title>
<link rel="stylesheet" href="/stylesheets/style.css"></head>
<body><h1>{message}</h1><h2>{status}</h2><pre></pre></body></html>
"""


def _error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        text=ERROR_PAGE.format(message=html.escape(message), status=status),
        content_type="text/html",
    )


def _int(value: Any) -> int | None:
    # The app stores parseInt(value, 10): a leading number, or NaN (null in JSON).
    text = str(value or "").strip()
    digits = ""
    for i, ch in enumerate(text):
        if ch.isdigit() or (i == 0 and ch in "+-"):
            digits += ch
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return None


def _json(value: Any) -> web.Response:
    return web.Response(text=json.dumps(value, separators=(",", ":")), content_type="application/json")


def make_app(pod_name: str, database: DatabaseLookup, mongo_url: str) -> web.Application:
    """The app of one pod: `pod_name` is its hostname, as `os.hostname()` is in the real one."""

    def db() -> Database:
        try:
            return database()
        except Unreachable as error:
            raise web.HTTPInternalServerError(
                text=ERROR_PAGE.format(
                    message=html.escape(
                        f"MongoError: failed to connect to server [{mongo_url}] on first connect ({error})"
                    ),
                    status=500,
                ),
                content_type="text/html",
            ) from None

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=INDEX.format(host=html.escape(pod_name)), content_type="text/html")

    async def highscores_list(request: web.Request) -> web.Response:
        return _json(db().top_scores(10))

    async def highscores_post(request: web.Request) -> web.Response:
        form = await request.post()
        store = db()
        score, level = _int(form.get("score")), _int(form.get("level"))
        store.insert_score(
            {
                "name": str(form.get("name", "")),
                "cloud": str(form.get("cloud", "")),
                "zone": str(form.get("zone", "")),
                "host": str(form.get("host", "")),
                "score": score,
                "level": level,
                "date": datetime.datetime.now(datetime.UTC).strftime("%a %b %d %Y %H:%M:%S GMT+0000 (UTC)"),
                "referer": request.headers.get("Referer", ""),
                "user_agent": request.headers.get("User-Agent", ""),
                "hostname": request.host,
                "ip_addr": request.remote or "",
            }
        )
        return _json(
            {
                "name": form.get("name"),
                "zone": form.get("zone"),
                "score": score,
                "level": level,
                "rs": "success",
            }
        )

    async def location(request: web.Request) -> web.Response:
        # The real app asks the node's providerID, then cloud metadata servers; none
        # answers on minikube (or here), so it reports unknown/unknown.
        return _json({"cloud": "unknown", "zone": "unknown", "host": pod_name})

    async def user_id(request: web.Request) -> web.Response:
        return _json(db().new_user())

    async def user_stats_get(request: web.Request) -> web.Response:
        return _json(db().user_stats())

    async def user_stats_post(request: web.Request) -> web.Response:
        form = await request.post()
        store = db()
        fields = {k: str(form.get(k, "")) for k in ("cloud", "zone", "host")}
        for k in ("score", "level", "lives", "elapsedTime"):
            fields[k] = _int(form.get(k))  # type: ignore[assignment]
        ok = store.update_user(str(form.get("userId", "")), fields)
        return _json({"rs": "success" if ok else "error"})

    @web.middleware
    async def express(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPNotFound:
            response = _error(404, "Not Found")
        except web.HTTPMethodNotAllowed:
            response = _error(404, "Not Found")
        response.headers["X-Powered-By"] = "Express"
        return response

    app = web.Application(middlewares=[express])
    app.router.add_get("/", index)
    app.router.add_get("/index.html", index)
    app.router.add_get("/highscores/list", highscores_list)
    app.router.add_post("/highscores", highscores_post)
    app.router.add_post("/highscores/", highscores_post)
    app.router.add_get("/location/metadata", location)
    app.router.add_get("/user/id", user_id)
    app.router.add_get("/user/stats", user_stats_get)
    app.router.add_post("/user/stats", user_stats_post)
    return app
