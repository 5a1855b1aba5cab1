"""A newcomer's first run: from a fresh clone to the first step of the lesson on screen.

For each installer (pip, and uv when it can be had), the committed tree is cloned into a
temporary folder, the install part of `make run` runs there (`make .venv/bin/k8s-tutor`,
with `UV=` empty for pip), and then `k8s-tutor day55 --sandbox --plain` is timed until
it prints its first step. Package caches start empty unless --warm: a newcomer has none.
Without uv on PATH, uv is installed into a throwaway venv for the measurement.

    python bench/first_run.py [--installer pip|uv|both] [--warm] [--keep]

Prints `name=value` lines: per installer the seconds to clone, to install, to the first
step, their sum from the clone on (`*_total_s`), and the target (45 s with pip, 15 s with
uv, on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"pip": 45.0, "uv": 15.0}
FIRST_STEP = "Step 1 of "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installer", choices=["pip", "uv", "both"], default="both")
    parser.add_argument("--warm", action="store_true", help="keep the user's package caches (a second run)")
    parser.add_argument("--keep", action="store_true", help="leave the clones in place and say where")
    options = parser.parse_args()
    if shutil.which("git") is None or shutil.which("make") is None:
        print("first_run: needs git and make on PATH", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="k8s-tutor-first-run-"))
    try:
        installers = ["pip", "uv"] if options.installer == "both" else [options.installer]
        failed = False
        for installer in installers:
            uv = _uv(work) if installer == "uv" else ""
            if installer == "uv" and not uv:
                print("uv_skipped=could not install uv", flush=True)
                continue
            failed |= not _measure(installer, uv, work, warm=options.warm)
        if options.keep:
            print(f"kept={work}")
        return 1 if failed else 0
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


def _measure(installer: str, uv: str, work: Path, *, warm: bool) -> bool:
    clone = work / installer
    env = dict(os.environ)
    if not warm:
        env["PIP_CACHE_DIR"] = str(work / f"{installer}-pip-cache")
        env["UV_CACHE_DIR"] = str(work / f"{installer}-uv-cache")
    env["K8S_TUTOR_CACHE_DIR"] = str(work / f"{installer}-tutor-cache")
    env["K8S_TUTOR_STATE_DIR"] = str(work / f"{installer}-state")

    began = time.monotonic()
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)], check=True, env=env)
    cloned = time.monotonic()
    make = subprocess.run(
        ["make", "--no-print-directory", "-C", str(clone), f"UV={uv}", ".venv/bin/k8s-tutor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    installed = time.monotonic()
    if make.returncode != 0:
        print(f"{installer}_failed=make exited {make.returncode}", flush=True)
        sys.stderr.write(make.stdout + make.stderr)
        return False
    first_step = _until_first_step(clone, env)
    shown = time.monotonic()
    if first_step is not None:
        print(f"{installer}_failed={first_step}", flush=True)
        return False
    total = shown - cloned
    figures = {
        "clone_s": cloned - began,
        "install_s": installed - cloned,
        "first_step_s": shown - installed,
        "total_s": total,
        "target_s": TARGETS[installer],
    }
    for name, value in figures.items():
        print(f"{installer}_{name}={value:.1f}", flush=True)
    print(f"{installer}_within_target={'yes' if total <= TARGETS[installer] else 'no'}", flush=True)
    return True


def _until_first_step(clone: Path, env: dict[str, str]) -> str | None:
    """Start the lesson on the sandbox in line mode; None once its first step is printed,
    else what went wrong. The tutor is stopped either way."""
    run_env = dict(env, PATH=f"{clone / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}", TERM="dumb")
    process = subprocess.Popen(
        [str(clone / ".venv" / "bin" / "k8s-tutor"), "day55", "--sandbox", "--plain"],
        cwd=clone,
        env=run_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read, args=(process, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                return f"the tutor exited with status {process.wait()}: " + " | ".join(seen[-5:])
            seen.append(line)
            if line.startswith(FIRST_STEP):
                return None
        return "no first step within 120 s; the tutor said: " + " | ".join(seen[-5:])
    finally:
        _stop(process)


def _read(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _stop(process: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            continue


def _uv(work: Path) -> str:
    """uv from PATH, else installed with pip into a throwaway venv (not timed); "" if neither."""
    found = shutil.which("uv")
    if found:
        return found
    tool = work / "uv-tool"
    made = subprocess.run([sys.executable, "-m", "venv", str(tool)], capture_output=True)
    if made.returncode != 0:
        return ""
    installed = subprocess.run(
        [str(tool / "bin" / "python"), "-m", "pip", "install", "--quiet", "uv"], capture_output=True, timeout=600
    )
    binary = tool / "bin" / "uv"
    return str(binary) if installed.returncode == 0 and binary.exists() else ""


if __name__ == "__main__":
    raise SystemExit(main())
