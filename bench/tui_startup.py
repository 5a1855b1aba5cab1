"""Start-up of the TUI against a minimal Textual app, measured the same way in one run.

Each figure is the wall time from starting a fresh `python` process to the moment its
app is on screen and interactive, read by the parent from the child's output, so
interpreter start-up and every import count:

- minimal: an App with one Static, ready at its first frame (Textual's `Ready` event);
- tutor: `k8s-tutor day55` through the real CLI (`tutor.cli.main`), headless at 120x40,
  ready when the lesson screen is up and the lesson's intro has been laid out (its
  Markdown blocks mounted and drawn). No cluster: the kubeconfig does not exist, as
  for a learner before `minikube start`;
- tutor_session: the same run, until the session is built and open (the kubernetes
  client loaded in a worker, the first step shown): after the first paint, by design;
- tutor_sandbox: `k8s-tutor day55 --sandbox`, which starts the simulated cluster first
  (for information: its server and aiohttp load before the TUI).

Prints `name=value` lines (milliseconds: median and min over the runs) and the ratio
tutor/minimal, which DESIGN.md wants within 1.5.
Usage: python bench/tui_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MINIMAL = """
from textual.app import App
from textual.widgets import Static


class Minimal(App[None]):
    def compose(self):
        yield Static("hello")

    def on_ready(self) -> None:
        self.call_after_refresh(self.report)

    def report(self) -> None:
        print("ready", flush=True)
        self.exit()


Minimal().run(headless=True, size=(120, 40))
"""

TUTOR = """
import sys

from textual.widgets import Markdown

from tutor import cli
from tutor.ui import app as ui_app


class Timed(ui_app.TutorApp):
    def run(self, **options):
        return super().run(headless=True, size=(120, 40))

    def on_ready(self) -> None:
        self._said_ready = False
        self.set_interval(0.002, self.watch_screen)

    def watch_screen(self) -> None:
        screen = self.lesson_screen
        if not self._said_ready and screen.query_one(".intro", Markdown).children:
            self._said_ready = True
            self.call_after_refresh(lambda: print("ready", flush=True))
        if self._said_ready and screen.opened and screen.current is not None:
            print("session", flush=True)
            self.exit()


ui_app.TutorApp = Timed
cli._tui_possible = lambda: True
sys.exit(cli.main(sys.argv[1:]))
"""


def measure(code: str, args: list[str], env: dict[str, str], marks: tuple[str, ...]) -> dict[str, float]:
    """Milliseconds from spawning the child to each of `marks` appearing on its output."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=REPO,
        text=True,
    )
    assert child.stdout is not None
    seen: dict[str, float] = {}
    for line in child.stdout:
        word = line.strip()
        if word in marks and word not in seen:
            seen[word] = (time.perf_counter() - started) * 1000
    errors = child.stderr.read() if child.stderr else ""
    if child.wait(30) != 0 or set(seen) != set(marks):
        raise SystemExit(f"the child failed (exit {child.returncode}): {errors[-2000:]}")
    return seen


def summary(name: str, values: list[float]) -> list[str]:
    return [f"{name}_ms={statistics.median(values):.0f}", f"{name}_min_ms={min(values):.0f}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    # An installed wheel has its bytecode compiled by pip; a checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would otherwise compile the tutor's modules at every start.
    compileall.compile_dir(REPO / "tutor", quiet=1)
    with tempfile.TemporaryDirectory(prefix="k8s-tutor-bench-") as scratch:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "KUBECONFIG": str(Path(scratch) / "no-such-kubeconfig"),
            "K8S_TUTOR_STATE_DIR": str(Path(scratch) / "state"),
        }
        # One warm-up each, so the page cache and .pyc files favour no one.
        measure(MINIMAL, [], env, ("ready",))
        measure(TUTOR, ["day55"], env, ("ready", "session"))
        minimal: list[float] = []
        tutor: list[float] = []
        session: list[float] = []
        sandbox: list[float] = []
        for _ in range(options.runs):
            # Interleaved, so a slow moment of the machine hits both alike.
            minimal.append(measure(MINIMAL, [], env, ("ready",))["ready"])
            marks = measure(TUTOR, ["day55"], env, ("ready", "session"))
            tutor.append(marks["ready"])
            session.append(marks["session"])
            sandbox.append(measure(TUTOR, ["day55", "--sandbox"], env, ("ready", "session"))["ready"])
    lines = [f"runs={options.runs}", f"cpus={os.cpu_count()}"]
    lines += summary("minimal", minimal)
    lines += summary("tutor", tutor)
    lines += summary("tutor_session", session)
    lines += summary("tutor_sandbox", sandbox)
    lines.append(f"ratio={statistics.median(tutor) / statistics.median(minimal):.2f}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
