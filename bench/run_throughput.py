"""Benchmarks of the run layer (a script, not a test: timings vary by machine).

    .venv/bin/python bench/run_throughput.py

Prints, with medians and worst cases over repeats:
- output throughput: lines per second reaching the `on_line` callback (and, for
  comparison, sh's own `_out` callback in line mode);
- the cost of one short command (`true`), start to result;
- time to end a process tree on cancel (children that obey SIGTERM) and on a timeout
  (one grandchild ignores SIGTERM: the grace period, then SIGKILL);
- time from a child writing its ready line to the Ready event;
- time from a password prompt to the result that reports it;
- the sh 2.4 behaviours that made the layer read the output pipe itself.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable

import sh

from tutor.run import BackgroundEvent, Cancellation, Line, Ready, ShExecutor
from tutor.run.cleanup import GroupRegistry
from tutor.run.process import PROMPT_QUIET

PY = sys.executable
GRACE = 1.0


def summary(samples: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    ordered = sorted(samples)
    worst = ordered[-1]
    return (
        f"median {statistics.median(ordered) * scale:.1f} {unit}, worst {worst * scale:.1f} {unit} (n={len(ordered)})"
    )


def repeat(times: int, measure: Callable[[], float]) -> list[float]:
    return [measure() for _ in range(times)]


def throughput(executor: ShExecutor, lines: int) -> None:
    argv = ["seq", "1", str(lines)]

    def ours() -> float:
        count = 0

        def on_line(line: Line) -> None:
            nonlocal count
            count += 1

        started = time.perf_counter()
        executor.run(argv, on_line)
        elapsed = time.perf_counter() - started
        assert count == lines, count
        return lines / elapsed

    def sh_line_mode() -> float:
        received: list[str] = []
        started = time.perf_counter()
        sh.Command("seq")(
            "1",
            str(lines),
            _out=lambda line: received.append(line) and None,
            _tty_out=False,
            _no_out=True,
            _new_session=True,
        )
        elapsed = time.perf_counter() - started
        assert len(received) == lines, len(received)
        return lines / elapsed

    for name, measure in (("tutor.run", ours), ("sh _out callback", sh_line_mode)):
        rates = repeat(5, measure)
        print(
            f"  {name:18} {statistics.median(rates) / 1e6:.2f} M lines/s median, "
            f"{min(rates) / 1e6:.2f} M lines/s worst ({lines:,} lines, n=5)"
        )


def short_command(executor: ShExecutor) -> None:
    def once() -> float:
        started = time.perf_counter()
        executor.run(["true"])
        return time.perf_counter() - started

    print(f"  run(['true']): {summary(repeat(50, once))}")


def kill_tree(executor: ShExecutor, children: int) -> None:
    tree = " ".join(["sleep 300 &"] * children) + " echo up; wait"

    def on_cancel() -> float:
        cancel = Cancellation()
        up = threading.Event()
        done = threading.Event()
        thread = threading.Thread(
            target=lambda: (
                executor.run(["sh", "-c", tree], lambda _: up.set(), cancel=cancel),
                done.set(),
            )
        )
        thread.start()
        up.wait(10)
        started = time.perf_counter()
        cancel.cancel()
        done.wait(10)
        return time.perf_counter() - started

    print(f"  cancel, {children} grandchildren: {summary(repeat(20, on_cancel))}")

    stubborn = "(trap '' TERM; sleep 300) & echo up; wait"

    def on_timeout() -> float:
        started = time.perf_counter()
        executor.run(["sh", "-c", stubborn], timeout=0.2)
        return time.perf_counter() - started - 0.2

    print(f"  timeout to return, a grandchild ignoring SIGTERM (grace {GRACE} s): {summary(repeat(5, on_timeout))}")


def readiness(executor: ShExecutor) -> None:
    program = "import time; print(f'ready {time.monotonic()}', flush=True); time.sleep(300)"

    def once() -> float:
        seen = threading.Event()
        delay = 0.0

        def on_event(event: BackgroundEvent) -> None:
            nonlocal delay
            if isinstance(event, Ready) and event.line is not None:
                delay = time.monotonic() - float(event.line.text.split()[1])
                seen.set()

        executor.start_background("bench", [PY, "-c", program], r"^ready ", on_event)
        seen.wait(10)
        executor.stop("bench")
        return delay

    print(f"  ready line written -> Ready event: {summary(repeat(30, once))}")


def prompt(executor: ShExecutor) -> None:
    program = (
        "import sys, time; sys.stdout.write(f'{time.monotonic()} [sudo] password for you: '); "
        "sys.stdout.flush(); time.sleep(300)"
    )

    def once() -> float:
        result = executor.run([PY, "-c", program])
        assert result.needs_terminal is not None
        written = float(result.tail[-1].split()[0])
        return time.monotonic() - written

    print(f"  prompt written -> result (quiet time {PROMPT_QUIET} s): {summary(repeat(10, once))}")


def sh_pitfalls() -> None:
    """Why the layer reads the output pipe itself (sh 2.4's `_out` callbacks)."""
    got: list[object] = []

    def stalls_once(line: object) -> None:
        if not got:
            time.sleep(2.5)
        got.append(line)

    sh.Command(PY)(
        "-c",
        "for i in range(3000): print(i)",
        _bg=True,
        _bg_exc=False,
        _new_session=True,
        _tty_out=False,
        _out=stalls_once,
        _no_out=True,
    ).wait()
    print(f"  consumer stalls 2.5 s on the first line: {len(got)} of 3000 lines delivered")

    held: list[float] = []
    started = time.monotonic()
    sh.Command("sh")(
        "-c",
        "printf 'Password: '; sleep 1; echo",
        _tty_out=False,
        _out=lambda line: held.append(time.monotonic() - started) and None,
    )
    print(f"  'Password: ' with no newline delivered after {held[0]:.2f} s (at the newline)")

    kinds: list[str] = []
    sh.Command("printf")(
        "ok\\n\\377\\n",
        _tty_out=False,
        _out=lambda line: kinds.append(type(line).__name__) and None,
    )
    print(f"  callback argument types for a valid and an invalid UTF-8 line: {kinds}")


def main() -> None:
    registry = GroupRegistry()
    executor = ShExecutor(grace=GRACE, registry=registry)
    print("Output streaming (seq 1 N, lines counted in on_line):")
    throughput(executor, 200_000)
    print("Starting a command:")
    short_command(executor)
    print("Ending a process tree:")
    kill_tree(executor, 10)
    print("Readiness of a background command:")
    readiness(executor)
    print("A password prompt:")
    prompt(executor)
    print("sh's own output callbacks (why the layer does not use them):")
    sh_pitfalls()
    executor.close()
    registry.terminate_all()


if __name__ == "__main__":
    main()
