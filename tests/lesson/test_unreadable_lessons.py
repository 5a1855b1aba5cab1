"""`lint` (and every other reader of lesson files) on what is not a lesson file: an error, at once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_tutor
from tests.lesson.helpers import MINIMAL, write_lesson


def lint(*paths: str | Path) -> subprocess.CompletedProcess[str]:
    # The timeout is the test: a FIFO or /dev/zero must never be read until it ends.
    return run_tutor("lint", *map(str, paths), timeout=30)


def test_a_fifo_is_an_error_and_lint_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "lesson.md"
    os.mkfifo(fifo)
    result = lint(fifo)
    assert result.returncode == 1
    assert f"{fifo}: cannot read the lesson file: it is a FIFO (named pipe), not a regular file" in result.stdout
    assert "1 lesson file checked: 1 error" in result.stderr


def test_a_fifo_in_a_folder_is_an_error_too(tmp_path: Path) -> None:
    folder = write_lesson(tmp_path, MINIMAL).parent
    os.mkfifo(folder / "pipe.md")
    result = lint(folder)
    assert result.returncode == 1
    assert "pipe.md: cannot read the lesson file: it is a FIFO" in result.stdout


def test_dev_zero_is_an_error_not_an_endless_read() -> None:
    result = lint("/dev/zero")
    assert result.returncode == 1
    assert "/dev/zero: cannot read the lesson file: it is a device, not a regular file" in result.stdout


def test_a_symlink_loop_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.md").symlink_to(tmp_path / "b.md")
    (tmp_path / "b.md").symlink_to(tmp_path / "a.md")
    result = lint(tmp_path / "a.md")
    assert result.returncode == 1
    assert "a.md: cannot read the lesson file: Too many levels of symbolic links" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_lesson_over_1_mb_is_an_error(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, MINIMAL + "\n" + "padding " * 140_000)
    assert path.stat().st_size > 1024 * 1024
    result = lint(path)
    assert result.returncode == 1
    assert "cannot read the lesson file: it is larger than 1 MB" in result.stdout


@pytest.mark.parametrize("kind", ["fifo", "loop"])
def test_the_catalog_skips_them_with_a_message(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "lessons"
    folder.mkdir()
    if kind == "fifo":
        os.mkfifo(folder / "pipe.md")
    else:
        (folder / "a.md").symlink_to(folder / "a.md")
    result = run_tutor("list", "--lessons", str(folder), timeout=30)
    assert result.returncode == 0
    assert "k8s-tutor: skipped a broken lesson:" in result.stderr
    assert "Traceback" not in result.stderr
    assert "day55" in result.stdout


def test_a_file_name_with_escape_sequences_is_printed_as_text(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "not a lesson", name="x\x1b]0;PWNED\x07\x1b[2J.md")
    result = lint(path)
    assert result.returncode == 1
    assert "\x1b" not in result.stdout + result.stderr
    assert "x.md:1: a lesson starts with front matter" in result.stdout
