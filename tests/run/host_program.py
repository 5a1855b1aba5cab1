"""A small program using the run layer as the tutor does, for the no-orphans tests.

    python host_program.py MODE [--watchdog]

It installs the exit handlers, starts a background command and a foreground one (on
a non-daemon worker thread, as a UI worker may be), each with grandchildren, one of
which ignores SIGTERM; prints "host ready"; then, by MODE, waits to be signalled
("wait"), dies of an unhandled exception ("raise") or returns from main ("return")
while the worker is still blocked on its command.
"""

from __future__ import annotations

import sys
import threading
import time

from tutor.run import BackgroundEvent, Line, Ready, ShExecutor, install_exit_handlers

TREE = "sleep 300 & (trap '' TERM; sleep 300) & echo {word}; wait"


def main() -> None:
    mode = sys.argv[1]
    install_exit_handlers(grace=0.5, watchdog="--watchdog" in sys.argv)
    install_exit_handlers(grace=0.5)  # idempotent
    executor = ShExecutor(grace=0.5)

    background_ready = threading.Event()

    def on_event(event: BackgroundEvent) -> None:
        if isinstance(event, Ready):
            background_ready.set()

    executor.start_background("tunnel", ["sh", "-c", TREE.format(word="tunnel-ready")], "tunnel-ready", on_event)
    foreground_ready = threading.Event()

    def on_line(line: Line) -> None:
        foreground_ready.set()

    worker = threading.Thread(target=executor.run, args=(["sh", "-c", TREE.format(word="fg-ready")], on_line))
    worker.start()
    if not (background_ready.wait(10) and foreground_ready.wait(10)):
        sys.exit("host: the commands did not start")
    print("host ready", flush=True)
    if mode == "raise":
        raise RuntimeError("host crashed")
    if mode == "return":
        return
    time.sleep(600)


if __name__ == "__main__":
    main()
