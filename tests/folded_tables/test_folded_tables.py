"""Folded tables: kubectl's wide tables laid out in bands for a narrow panel, and everything
else left exactly as printed.

The files in kubectl/ are real output: kubectl 1.31 against the sandbox after day55's
deploy and ingress steps (`k8s-tutor sandbox --started`, the storage and ingress addons
enabled, the lesson's manifests created). get-pods-wide-watch.txt is `kubectl get pods -o
wide -w` while `mongo-0` was deleted: kubectl aligns each watched row on its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutor.folded_tables import GAP, cell_width, fold_tables, wrap_lines

KUBECTL = Path(__file__).parent / "kubectl"
CAPTURED = sorted(path.name for path in KUBECTL.glob("*.txt"))
NAMES = re.compile(r"\S+(?: \S+)*")


def captured(name: str) -> list[str]:
    return (KUBECTL / name).read_text().splitlines()


def read_table(lines: list[str], *, drawn: bool = False) -> list[dict[str, str]]:
    """A kubectl-style table read back: one dict per row, cell by column name. Columns start
    where their names start: at that character as kubectl aligns them, or, `drawn`, at that
    terminal column. Written independently of the module under test."""
    header = lines[0]
    names = [(match.group(), match.start()) for match in NAMES.finditer(header)]
    rows = []
    for line in lines[1:]:
        if drawn:  # one character per terminal column: a wide one takes two
            line = "".join(char + "\0" * (cell_width(char) - 1) for char in line)
        row = {}
        for (name, start), stop in zip(names, [*(start for _, start in names[1:]), None], strict=True):
            row[name] = line[start:stop].replace("\0", "").strip()
        rows.append(row)
    return rows


def blocks(lines: list[str]) -> list[list[str]]:
    """Lines split at blank lines."""
    out: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            out[-1].append(line)
        elif out[-1]:
            out.append([])
    return [block for block in out if block]


def unfolded(bands: list[list[str]]) -> list[dict[str, str]]:
    """The rows of a table put back together from its bands (the rows keep their order)."""
    rows: list[dict[str, str]] = []
    for band in bands:
        for index, row in enumerate(read_table(band, drawn=True)):
            if index == len(rows):
                rows.append({})
            for name, cell in row.items():
                assert rows[index].get(name, cell) == cell, f"{name} repeated with another value"
                rows[index][name] = cell
    return rows


def widest(lines: list[str]) -> int:
    return max(cell_width(line) for line in lines)


def folded_whole(lines: list[str], width: int) -> list[list[str]]:
    """The bands of `lines`, its one table, folded to `width`, once checked that every cell
    is still under its own column, row by row."""
    result = fold_tables(lines, width)
    assert result.folded == 1
    bands = blocks(result.lines)
    assert unfolded(bands) == read_table(lines)
    return bands


@pytest.mark.parametrize("name", CAPTURED)
def test_real_output_that_fits_is_left_exactly_as_printed(name: str) -> None:
    lines = captured(name)
    result = fold_tables(lines, widest(lines))
    assert result.folded == 0 and result.lines == lines


@pytest.mark.parametrize("width", [80, 60, 41])
@pytest.mark.parametrize(
    "name",
    [
        "get-pv.txt",
        "get-pvc.txt",
        "get-pod-wide.txt",
        "get-storageclass.txt",
        "get-nodes-wide.txt",
        "get-pods-all-namespaces.txt",
        "get-pv-custom-columns.txt",
        "get-svc-ingress-nginx.txt",
    ],
)
def test_a_wide_table_folds_into_bands_that_keep_every_cell(name: str, width: int) -> None:
    lines = captured(name)
    if widest(lines) <= width:
        pytest.skip("fits at this width")
    result = fold_tables(lines, width)
    assert result.folded == 1
    bands = blocks(result.lines)
    assert len(bands) > 1
    assert result.lines.count("") == len(bands) - 1, "one blank line between two bands"
    assert unfolded(bands) == read_table(lines), "every cell under its own column, row by row"
    for band in bands:
        # A band is no wider than the panel, unless it holds one column that alone is wider.
        if widest(band) > width:
            assert len(NAMES.findall(band[0])) <= 2, band[0]
    printed = [match.group() for match in NAMES.finditer(lines[0])]
    headers = [name for band in bands for name in NAMES.findall(band[0])]
    assert [name for name in headers if name != printed[0]] == printed[1:], "each column once, in order"


def test_the_volume_at_80_columns_repeats_its_name_in_every_band() -> None:
    result = fold_tables(captured("get-pv.txt"), 80)
    bands = blocks(result.lines)
    assert all(band[0].startswith("NAME ") for band in bands)
    assert all(band[1].startswith("pvc-0d0c0d33-1e3d-410a-ac18-c4fad941757c ") for band in bands)
    assert any("RECLAIM POLICY" in band[0] for band in bands)
    assert all(widest(band) <= 80 for band in bands)


def test_a_first_column_too_wide_to_repeat_is_shown_once_and_the_rows_keep_their_order() -> None:
    """The output panel at 80x24 is 41 columns: a volume's name (40) leaves no room beside it."""
    result = fold_tables(captured("get-pv.txt"), 41)
    bands = blocks(result.lines)
    assert bands[0] == ["NAME", "pvc-0d0c0d33-1e3d-410a-ac18-c4fad941757c"]
    assert sum("NAME" in band[0] for band in bands) == 1
    assert bands[1] == ["CAPACITY   ACCESS MODES   RECLAIM POLICY", "1Gi        RWO            Delete"]
    assert all(widest(band) <= 41 for band in bands)


def test_get_all_folds_each_of_its_tables_on_its_own_and_keeps_the_blank_lines_between_them() -> None:
    lines = captured("get-all.txt")
    result = fold_tables(lines, 70)
    assert result.folded == 1, "only the services' table is wider than 70"
    printed = blocks(lines)
    shown = blocks(result.lines)
    services = next(block for block in printed if block[0].startswith("NAME ") and "TYPE" in block[0])
    assert shown[: printed.index(services)] == printed[: printed.index(services)]
    assert shown[-3:] == printed[-3:], "the tables after it as printed"
    folded_services = shown[printed.index(services) : len(shown) - 3]
    assert unfolded(folded_services) == read_table(services)
    assert any("EXTERNAL-IP" in band[0] for band in folded_services)
    # At the 80x24 panel's width, every table is folded apart, the blank lines kept.
    narrow = fold_tables(lines, 41)
    assert narrow.folded == 4
    assert narrow.lines.count("") > lines.count("")


def test_a_column_that_fits_alone_but_not_beside_the_name_gets_a_band_without_it() -> None:
    """The 120x40 panel (56 columns): a claim's name and its volume's (40) do not fit side by side."""
    lines = captured("get-pvc.txt")
    bands = blocks(fold_tables(lines, 56).lines)
    assert all(widest(band) <= 56 for band in bands)
    volume = next(band for band in bands if "VOLUME" in NAMES.findall(band[0]))
    assert volume == ["VOLUME", "pvc-0d0c0d33-1e3d-410a-ac18-c4fad941757c"]
    assert all(band[0].startswith("NAME ") for band in bands if band is not volume)
    assert unfolded(bands) == read_table(lines)


def test_events_messages_wider_than_the_panel_get_a_band_of_their_own() -> None:
    lines = captured("get-events.txt")
    result = fold_tables(lines, 80)
    bands = blocks(result.lines)
    message = next(band for band in bands if "MESSAGE" in band[0])
    assert NAMES.findall(message[0]) == ["LAST SEEN", "MESSAGE"]
    assert widest(message) > 80
    assert all(widest(band) <= 80 for band in bands if band is not message)
    assert unfolded(bands) == read_table(lines)


def test_a_watch_whose_rows_are_aligned_on_their_own_is_left_as_printed() -> None:
    lines = captured("get-pods-wide-watch.txt")
    assert fold_tables(lines, 60) == fold_tables(lines, 1000)
    assert fold_tables(lines, 60).lines == lines


def test_values_with_spaces_and_brackets_stay_whole() -> None:
    # As kubectl prints an Ingress with TLS (PORTS `80, 443`) and a class marked (default).
    lines = [
        "NAME             CLASS             HOSTS        ADDRESS        PORTS     AGE",
        "pacman-ingress   nginx (default)   pacman.com   192.168.49.2   80, 443   3m20s",
        "other            <none>            *            <none>         80        12s",
    ]
    shown = [line for band in folded_whole(lines, 40) for line in band]
    assert any("80, 443" in line for line in shown)
    assert any("nginx (default)" in line for line in shown)


@pytest.mark.parametrize(
    ("why", "lines"),
    [
        ("nothing", []),
        ("a header alone", ["NAME      STATUS    ROLES     AGE       VERSION       INTERNAL-IP"]),
        ("no resources", ["No resources found in pacman namespace."]),
        (
            "a ragged row",
            [
                "NAME      READY   STATUS    RESTARTS   AGE   IP            NODE",
                "mongo-0   1/1     Running   0          4s    127.244.0.9   minikube",
                "pacman-7f7cd74f7-gl8vc   1/1   Running   0   4s   127.244.0.10   minikube",
            ],
        ),
        (
            "a row cut short",
            [
                "NAME      READY   STATUS    RESTARTS   AGE   IP            NODE",
                "mongo-0   1/1     Running",
            ],
        ),
        (
            "a tab",
            [
                "NAME      READY   STATUS    RESTARTS   AGE   IP            NODE",
                "mongo-0\t1/1     Running   0          4s    127.244.0.9   minikube",
            ],
        ),
        (
            "colour sequences",
            [
                "NAME      READY   STATUS    RESTARTS   AGE   IP            NODE",
                "mongo-0   1/1     \x1b[32mRunning\x1b[0m   0          4s    127.244.0.9   minikube",
            ],
        ),
        (
            "a header in colour",
            [
                "\x1b[1mNAME      READY   STATUS    RESTARTS   AGE   IP            NODE\x1b[0m",
                "mongo-0   1/1     Running   0          4s    127.244.0.9   minikube",
            ],
        ),
        (
            "lower-case names",
            [
                "Filesystem      Size  Used Avail Use% Mounted on",
                "/dev/sda1        20G   12G  7.5G  62% /",
            ],
        ),
        (
            "right-aligned numbers",
            [
                "USER    PID   CPU   MEM    VSZ   RSS   TTY      STAT   START   TIME   COMMAND",
                "root      1   0.0   0.1   1234   567   ?        Ss     13:00   0:01   /sbin/init",
            ],
        ),
        ("prose in capitals", ["WARNING: THIS CLUSTER IS SIMULATED", "nothing here runs for real"]),
        (
            "a table that runs on into other text",
            [
                "NAME      READY   STATUS    RESTARTS   AGE   IP            NODE",
                "mongo-0   1/1     Running   0          4s    127.244.0.9   minikube",
                "error: the server doesn't have a resource type",
            ],
        ),
    ],
)
def test_anything_in_doubt_is_left_exactly_as_printed(why: str, lines: list[str]) -> None:
    result = fold_tables(lines, 20)
    assert result.folded == 0, why
    assert result.lines == lines, why


def test_wide_characters_are_measured_as_the_terminal_draws_them() -> None:
    # Go's tabwriter aligns by characters, not by the columns a terminal gives them.
    lines = [
        "NAME           STATUS    MESSAGE",
        "日本語のポッド        Running   started",
        "plain          Pending   waiting for a node",
    ]
    bands = folded_whole(lines, 30)
    assert all(widest(band) <= 30 for band in bands)
    # Padded to what the terminal shows: the next column starts at the same place on every row.
    first = bands[0]
    starts = {
        cell_width(line[: line.index(word)]) for line, word in zip(first, ["STATUS", "Running", "Pending"], strict=True)
    }
    assert len(starts) == 1


def test_a_narrow_width_gives_each_column_a_band_and_loses_nothing() -> None:
    lines = captured("get-nodes-wide.txt")
    for width in (1, 5, 12):
        result = fold_tables(lines, width)
        assert unfolded(blocks(result.lines)) == read_table(lines)


def test_ten_thousand_rows_fold_and_keep_every_row() -> None:
    header = f"{'NAME':<13}   {'READY':<5}   {'STATUS':<7}   {'IP':<12}   {'NODE':<8}   NOMINATED NODE"
    rows = [
        f"{f'pod-{n}':<13}   1/1     Running   {f'10.0.{n // 250}.{n % 250}':<12}   minikube   <none>"
        for n in range(10_000)
    ]
    lines = [header, *rows]
    result = fold_tables(lines, 60)
    assert result.folded == 1
    bands = blocks(result.lines)
    assert all(len(band) == 10_001 for band in bands)
    assert unfolded(bands) == read_table(lines)


def test_the_gap_between_columns_is_kubectls() -> None:
    result = fold_tables(captured("get-pod-wide.txt"), 60)
    first_band = blocks(result.lines)[0]
    assert first_band[0].startswith("NAME" + " " * (len("mongo-0") - len("NAME") + GAP) + "READY")


def test_a_long_line_of_text_wraps_as_a_terminal_wraps_it() -> None:
    # The game's answer to /location/metadata: the pod's name is at its end.
    answer = '{"cloud":"unknown","zone":"unknown","host":"pacman-7f7cd74f7-gl8vc"}'
    lines, wrapped = wrap_lines(["before", answer, "after"], 30)
    assert wrapped == 1
    assert lines[0] == "before" and lines[-1] == "after"
    assert "".join(lines[1:-1]) == answer
    assert all(cell_width(line) <= 30 for line in lines)
    # Wide characters are never split, and a piece holds no more than the width.
    lines, _ = wrap_lines(["ポッド" * 10], 7)
    assert "".join(lines) == "ポッド" * 10 and all(cell_width(line) <= 7 for line in lines)


@pytest.mark.parametrize(
    "line",
    [
        "NAME      READY   STATUS    RESTARTS   AGE   IP            NODE       NOMINATED NODE",
        "mongo-0                  1/1     Terminating   0          6m25s   127.244.0.9    minikube",
        "a\ttabbed line that is long enough to wrap somewhere",
        "\x1b[32ma coloured line that is long enough to wrap somewhere\x1b[0m",
    ],
)
def test_lines_laid_out_in_columns_or_coloured_are_not_wrapped(line: str) -> None:
    assert wrap_lines([line], 20) == ([line], 0)


def test_lines_that_fit_are_not_touched() -> None:
    lines = captured("get-nodes.txt")
    assert wrap_lines(lines, 80) == (lines, 0)
