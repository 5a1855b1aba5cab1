"""The one sanitiser: what a lesson, a cluster or a command writes reaches the terminal as text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutor.safe_text import has_controls, strip_controls

# What an attacker would put in a lesson title, an event message or a command's output.
HOSTILE = {
    "clipboard write (OSC 52)": "\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07",
    "clipboard write, ST-terminated": "\x1b]52;c;Y3VybCBldmlsLnNofHNo\x1b\\",
    "window title": "\x1b]0;PWNED\x07",
    "hyperlink (OSC 8)": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "clear screen": "\x1b[2J\x1b[H",
    "cursor up and erase line": "\x1b[1A\x1b[2K",
    "hide the cursor": "\x1b[?25l",
    "alternate screen": "\x1b[?1049h",
    "device control string": "\x1bP+q544e\x1b\\",
    "8-bit CSI": "\x9b2J",
    "8-bit OSC": "\x9d0;PWNED\x9c",
    "backspace over text": "safe\x08\x08\x08\x08evil",
    "carriage return over text": "kubectl get pods\rrm -rf ~",
    "bell": "\x07",
    "right-to-left override": "kubectl get \u202epods\u202c",
    "keypad mode": "\x1b=",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_sequence_is_removed_whole(name: str) -> None:
    text = f"before {HOSTILE[name]} after"
    clean = strip_controls(text)
    assert clean.startswith("before ") and clean.endswith(" after")
    assert not has_controls(clean)
    # Nothing an OSC or DCS carried shows up as text either.
    for payload in ("Y3VybCBldmlsLnNofHNo", "PWNED", "evil.example", "544e"):
        assert payload not in clean


@pytest.mark.parametrize("name", list(HOSTILE))
def test_output_keeps_its_colours_and_nothing_else(name: str) -> None:
    text = f"\x1b[32mok\x1b[0m {HOSTILE[name]} \x1b[1;31mred\x1b[m"
    clean = strip_controls(text, keep_colours=True)
    assert clean.startswith("\x1b[32mok\x1b[0m ")
    assert clean.endswith(" \x1b[1;31mred\x1b[m")
    assert re.sub(r"\x1b\[[0-9;:]*m", "", clean) == strip_controls(text)


def test_a_string_never_terminated_takes_the_rest_of_the_text_with_it() -> None:
    # As a terminal would: it swallows everything up to a terminator that never comes.
    assert strip_controls("before \x1b]2;PWNED after") == "before "
    assert strip_controls("before \x1b[12") == "before "


def test_a_colour_in_its_8_bit_form_is_kept_in_the_7_bit_one() -> None:
    assert strip_controls("\x9b31mred", keep_colours=True) == "\x1b[31mred"


def test_newlines_and_tabs_stay_and_plain_text_is_returned_as_it_is() -> None:
    text = "line one\n\tline two: ünïcödé, 日本語, emoji 🚀"
    assert strip_controls(text) is text


@given(st.text(alphabet=st.sampled_from(["\x1b", "[", "]", "\x07", "\\", "\x9b", "\x9d", "m", "2", ";", "a", "\n"])))
def test_nothing_but_colours_ever_survives(text: str) -> None:
    clean = strip_controls(text)
    assert not has_controls(clean)
    assert strip_controls(clean) == clean
    coloured = strip_controls(text, keep_colours=True)
    assert not has_controls(re.sub(r"\x1b\[[0-9;:]*m", "", coloured))
