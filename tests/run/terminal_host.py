"""The tutor at the learner's terminal, for the interactive tests; run under a pty.

    python terminal_host.py foreground PROGRAM   run PROGRAM with the terminal
    python terminal_host.py background PROGRAM   start PROGRAM in the background,
                                                 lending it the terminal until ready

It reports on the terminal, as "host: ..." lines, what the test checks: the result,
whether the tutor has the terminal's foreground back and whether echo is on again.
"""

from __future__ import annotations

import os
import sys
import termios
import threading

from tutor.run import BackgroundEvent, Output, ShExecutor, install_exit_handlers


def report_terminal() -> None:
    foreground = os.tcgetpgrp(0) == os.getpgrp()
    echo = bool(termios.tcgetattr(0)[3] & termios.ECHO)
    print(f"host: foreground={foreground} echo={echo}", flush=True)


def main() -> None:
    mode, program = sys.argv[1], sys.argv[2]
    install_exit_handlers(grace=0.5)
    executor = ShExecutor(grace=0.5)
    if mode == "foreground":
        result = executor.run([program], interactive=True)
        print(f"host: result {result.describe()}", flush=True)
        report_terminal()
        return
    later = threading.Event()

    def on_event(event: BackgroundEvent) -> None:
        if isinstance(event, Output) and "Starting tunnel" in event.line.text:
            later.set()

    executor.start_background("tunnel", [program], "Tunnel successfully started", on_event, interactive=True)
    print(f"host: back, {executor.processes()['tunnel'].state}", flush=True)
    report_terminal()
    print(f"host: later output seen={later.wait(10)}", flush=True)
    executor.stop("tunnel")
    print(f"host: stopped, {executor.processes()['tunnel'].state}", flush=True)


if __name__ == "__main__":
    main()
