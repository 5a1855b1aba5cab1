"""Which output means "this command waits for the learner at a terminal"."""

from __future__ import annotations

import pytest

from tutor.run.prompts import NeedKind, terminal_refusal, waiting_prompt


@pytest.mark.parametrize(
    ("unfinished", "kind"),
    [
        ("[sudo] password for michael: ", NeedKind.PASSWORD),
        ("Password:", NeedKind.PASSWORD),
        ("password: ", NeedKind.PASSWORD),
        ("Enter passphrase for key '/home/me/.ssh/id_rsa': ", NeedKind.PASSWORD),
        ("Do you want to continue? [y/N] ", NeedKind.CONFIRMATION),
        ("Proceed (y/n)? ", NeedKind.CONFIRMATION),
    ],
)
def test_prompts_are_recognised(unfinished: str, kind: NeedKind) -> None:
    need = waiting_prompt(unfinished)
    assert need is not None
    assert need.kind is kind
    assert need.text == unfinished.strip()


@pytest.mark.parametrize(
    "unfinished",
    ["", "   ", "Downloading 45%", "password: hunter2", "I0101 12:00 reading password file"],
)
def test_other_unfinished_lines_are_not_prompts(unfinished: str) -> None:
    assert waiting_prompt(unfinished) is None


@pytest.mark.parametrize(
    "line",
    [
        "sudo: a terminal is required to read the password; either use the -S option to "
        "read from standard input or configure an askpass helper",
        "sudo: no tty present and no askpass program specified",
        "sudo: a password is required",
        "/usr/bin/sh: 1: cannot open /dev/tty: No such device or address",
        "bash: /dev/tty: No such device or address",
    ],
)
def test_a_missing_terminal_is_recognised(line: str) -> None:
    need = terminal_refusal(line)
    assert need is not None
    assert need.kind is NeedKind.NO_TERMINAL
    assert need.explain().startswith("needs a terminal: ")


def test_ordinary_lines_are_not_refusals() -> None:
    assert terminal_refusal("Forwarding from 127.0.0.1:9090 -> 8080") is None
    assert terminal_refusal("✅  Tunnel successfully started") is None
