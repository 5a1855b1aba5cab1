"""The commands ask through one prompt (`session.asking`): the safe answer is the default, and
end of input, an interrupted read or no terminal at all mean "no", never a traceback."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.lesson.helpers import MARK, write_lesson
from tutor.cli import main
from tutor.progress import Progress, ProgressStore


class Terminal(io.StringIO):
    """Standard input as a terminal the learner typed `typed` into (then end of input)."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "forgotten"), [("", False), ("n\n", False), ("yes\n", True), ("y\n", True)])
def test_reset_asks_at_a_terminal_and_no_is_the_default(
    typed: str, forgotten: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ProgressStore().save(Progress("day55", "mc-demo", completed=["start"]))
    monkeypatch.setattr("sys.stdin", Terminal(typed))
    code = main(["reset", "day55"])
    out = capsys.readouterr().out
    assert "Forget your progress on day55 on every cluster? [y/N]" in out
    assert (code, bool(ProgressStore().all_for("day55"))) == ((0, False) if forgotten else (1, True))
    assert forgotten or "Nothing changed." in out


def test_trust_without_a_terminal_needs_yes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lesson = write_lesson(tmp_path, MARK)
    assert main(["trust", str(lesson)]) == 2
    assert "k8s-tutor trust: trusting a lesson asks you at a terminal; to trust it without asking, add --yes" in (
        capsys.readouterr().err
    )
