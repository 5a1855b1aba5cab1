"""Output bytes to lines: what a learner sees, whatever the chunking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tutor.run.output import Line, LineDecoder


def decode(*chunks: bytes) -> list[Line]:
    decoder = LineDecoder()
    lines = [line for chunk in chunks for line in decoder.feed(chunk)]
    return lines + decoder.flush()


def final(lines: list[Line]) -> list[str]:
    return [line.text for line in lines if not line.progress]


def test_lines_split_on_newline_and_crlf():
    assert final(decode(b"one\ntwo\r\nthree")) == ["one", "two", "three"]


def test_a_character_split_across_reads_is_joined():
    data = "café ☸\n".encode()
    assert final(decode(data[:4], data[4:6], data[6:])) == ["café ☸"]


def test_invalid_utf8_becomes_replacement_characters():
    assert final(decode(b"bad \xff\xfe bytes\n", b"\xc3")) == ["bad \ufffd\ufffd bytes", "\ufffd"]


def test_progress_rewrites_are_coalesced_to_the_latest_state():
    lines = decode(b"Downloading 10%\rDownloading 20%\rDownloading 3", b"0%\r", b"Downloading 100%\n")
    assert lines[0] == Line("Downloading 20%", progress=True)
    assert lines[1] == Line("Downloading 30%", progress=True)
    assert lines[-1] == Line("Downloading 100%")
    assert all("\r" not in line.text for line in lines)


def test_a_line_ending_in_a_carriage_return_keeps_its_text():
    # "line\r" then "\n" in the next read is a CRLF split across reads.
    assert final(decode(b"line\r", b"\n")) == ["line"]


def test_escape_sequences_are_removed():
    lines = decode(b"\x1b[32m\xe2\x9c\x85 Done\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07\x07\n")
    assert final(lines) == ["✅ Done link"]


def test_tabs_are_kept():
    assert final(decode(b"NAME\tREADY\n")) == ["NAME\tREADY"]


def test_the_unfinished_line_is_pending_until_flushed():
    decoder = LineDecoder()
    assert decoder.feed(b"done\n[sudo] password for you: ") == [Line("done")]
    assert decoder.pending == "[sudo] password for you: "
    assert decoder.flush() == [Line("[sudo] password for you: ")]


def test_an_endless_line_is_cut_into_pieces():
    decoder = LineDecoder(max_line=10)
    lines = decoder.feed(b"x" * 25)
    assert [line.text for line in lines] == ["x" * 10, "x" * 10]
    assert decoder.flush() == [Line("x" * 5)]


@given(
    st.lists(st.text(alphabet="ab é\r\n\t☸", max_size=30), max_size=8),
    st.data(),
)
def test_chunking_never_changes_the_finished_lines(parts: list[str], data: st.DataObject) -> None:
    blob = "".join(parts).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(blob)), max_size=6)))
    chunks = [blob[a:b] for a, b in zip([0, *cuts], [*cuts, len(blob)], strict=True)]
    assert final(decode(*chunks)) == final(decode(blob))
