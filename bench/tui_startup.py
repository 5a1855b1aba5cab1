"""Start-up of the TUI against a minimal Textual app, measured the same way in one run.

Each figure is the wall time from starting a fresh `python` process to the moment its
app's screen is drawn and usable, so interpreter start-up and every import count:

- minimal: an App with one Static, at its first frame (Textual's `Ready` event);
- tutor: `k8s-tutor day55` through the real CLI (`tutor.cli.main`), headless at 120x40,
  no cluster (the kubeconfig does not exist, as for a learner before `minikube start`),
  at the first frame that shows the lesson screen a learner can use (see INTERACTIVE);
- tutor_session: the same run, until the session is built and open (the kubernetes
  client loaded in a worker, the step's checks running): after the first paint, by design;
- tutor_sandbox: `k8s-tutor day55 --sandbox`, which starts the simulated cluster first
  (for information: its server and aiohttp load before the TUI), to the same moment,
  and with the SIMULATED badge required.

INTERACTIVE, the tutor's moment, is the end of the first frame after which all of this
holds, checked on the characters Textual drew (not on widgets merely mounted):
the header (the lesson's title, "Step 1 of 11", and SIMULATED on the sandbox), the step
list, the Checks panel, the step's own text (its title), the footer's keys (Run step,
Next, Hint, Quit); and, laid out in the step's scrollable text, a Run button for every
command of the step that the tutor may run (at 120x40 they are below the fold). Keys
and Run buttons act from then on: a run asked for before the session is open waits for
it, and says so.

Each child stamps the end of that frame with `time.perf_counter()` (CLOCK_MONOTONIC, the
parent's clock too) as Textual hands the frame to its driver, before checking what was
drawn, so the check's own cost is not counted; the parent reads the stamps. Headless,
the driver writes nothing: a real terminal adds the writing of the frame to both (more
for the tutor's full screen than for one word).

Prints `name=value` lines (milliseconds: median and min over the runs) and the ratio
tutor/minimal, which docs/tui.md wants within 1.5.
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

# Both children watch the frames as Textual composes them (App._display, private to Textual
# 8 and used here only), and stamp the end of the first frame that shows what they need.
MINIMAL = """
import time

from textual.app import App
from textual.widgets import Static


class Minimal(App[None]):
    _drawn = False

    def compose(self):
        yield Static("hello")

    def _display(self, screen, renderable) -> None:
        super()._display(screen, renderable)
        if self._drawn:
            return
        stamp = time.perf_counter()
        update = self.screen._compositor.render_update(full=True)
        if any("hello" in "".join(strip.text for strip in line) for line in update.strips):
            self._drawn = True
            print("ready", stamp, flush=True)
            self.call_later(self.exit)


Minimal().run(headless=True, size=(120, 40))
"""

TUTOR = """
import importlib.util
import sys
import time

from tutor import cli  # as the console script does: the CLI first, Textual when it needs it
from tutor.commands import lesson

SANDBOX = "--sandbox" in sys.argv


def timed(module) -> None:
    \"\"\"Make the TUI's app watch its frames, as soon as the CLI has imported it.\"\"\"
    from textual.widgets import Button

    class Timed(module.TutorApp):
        _drawn = False
        _missing = ["a first frame"]

        def run(self, **options):
            return super().run(headless=True, size=(120, 40))

        def on_ready(self) -> None:
            self.set_interval(0.002, self.poll)
            self.set_timer(20, self.give_up)

        def give_up(self) -> None:
            print("never ready; missing:", ", ".join(self._missing), file=sys.__stderr__, flush=True)
            self.exit(return_code=3)

        def poll(self) -> None:
            screen = self.lesson_screen
            if self._drawn and screen.opened and screen.current is not None:
                print("session", time.perf_counter(), flush=True)
                self.exit()

        def _display(self, screen, renderable) -> None:
            super()._display(screen, renderable)
            if not self._drawn:
                self.check_frame(time.perf_counter())

        def run_buttons_laid_out(self) -> bool:
            screen = self.lesson_screen
            step = self.lesson.step(screen.current)
            wanted = sum(1 for command in step.commands if not command.manual)
            view = screen.step_views.get(step.id)
            if view is None:
                return False
            buttons = [b for b in view.query(Button) if "Run" in str(b.label)]
            return len(buttons) == wanted and all(b.region for b in buttons)

        def check_frame(self, stamp: float) -> None:
            if not self.run_buttons_laid_out():
                self._missing = ["the step's Run buttons"]
                return
            # What Textual drew, as text (its screenshot does the same).
            update = self.screen._compositor.render_update(full=True)
            lines = ["".join(strip.text for strip in line) for line in update.strips]
            step = self.lesson.step(self.lesson_screen.current)
            number = self.lesson.index(step.id) + 1
            header, footer, text = lines[0], lines[-1], "\\n".join(lines)
            wanted = {
                "the lesson's title": self.lesson.title[:20] in header,
                "the step's number": f"Step {number} of {len(self.lesson.steps)}" in header,
                "the SIMULATED badge": not SANDBOX or "SIMULATED" in header,
                "the step list": "Steps" in text and f"{number}. {step.title[:12]}" in text,
                "the checks panel": "Checks" in text,
                "the step's text": step.title in text,
                "the footer's keys": all(key in footer for key in ("Run step", "Next", "Hint", "Quit")),
            }
            self._missing = [what for what, drawn in wanted.items() if not drawn]
            if not self._missing:
                self._drawn = True
                print("ready", stamp, flush=True)


    module.TutorApp = Timed


class WhenImported:
    \"\"\"Runs `timed` on tutor.ui.app right after the CLI imports it, where and when it does.\"\"\"

    def find_spec(self, name, path, target=None):
        if name != "tutor.ui.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            timed(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, WhenImported())
lesson.tui_possible = lambda: True
sys.exit(cli.main(sys.argv[1:]))
"""


def measure(code: str, args: list[str], env: dict[str, str], marks: tuple[str, ...]) -> dict[str, float]:
    """Milliseconds from spawning the child to each of `marks`, as the child stamped them."""
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
        word, _, stamp = line.strip().partition(" ")
        if word in marks and word not in seen:
            at = float(stamp)
            if not started < at <= time.perf_counter():
                raise SystemExit(f"the child's clock is not this one: {line!r}")
            seen[word] = (at - started) * 1000
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
