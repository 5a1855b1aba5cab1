"""Every file the README and docs/ send a reader to is in the repository.

A reader who follows `tests/ui/test_map_panel.py` or a link to `docs/checks.md#...` and
finds nothing stops trusting the rest of the page. Paths are read as a reader reads them:
from the repository's root when they start with one of its top-level folders, and from
the page's own folder for a link.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
TOP = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith("."))

# `tests/ui/test_snapshots.py`, `tutor/cluster/`, `tests/cli/test_cli.py::TestX::test_y`
FOLDERS = "|".join(map(re.escape, TOP))
CODE_PATH = re.compile(rf"`((?:{FOLDERS})/[^`\s]*)`")
# [text](docs/checks.md#anchor), [text](checks.md)
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def named_paths(page: Path) -> list[tuple[int, str, Path]]:
    """(line, as written, where it points) for each repository path the page names."""
    found = []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        for match in CODE_PATH.finditer(line):
            written = match.group(1)
            path = written.split("::", 1)[0]
            if any(c in path for c in "*<>{}"):
                continue  # a pattern or a placeholder, not a file
            found.append((number, written, ROOT / path))
        for match in LINK.finditer(line):
            written = match.group(1)
            found.append((number, written, page.parent / written.split("#", 1)[0]))
    return found


def test_the_pages_name_paths_at_all() -> None:
    # If the patterns stop matching, the test below would pass on nothing.
    assert len(PAGES) >= 5
    assert sum(len(named_paths(page)) for page in PAGES) >= 50


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_path_a_page_names_exists(page: Path) -> None:
    missing = [
        f"{page.relative_to(ROOT)}:{number}: {written}"
        for number, written, target in named_paths(page)
        if not target.exists()
    ]
    assert not missing, "the docs name files that are not in the repository:\n" + "\n".join(missing)
