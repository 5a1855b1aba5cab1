"""Progress survives restarts, is kept per cluster, and a broken file never costs more than itself."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tutor.progress import Progress, ProgressStore, cluster_key


def test_round_trip_per_lesson_and_cluster(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    progress = store.load("day55", "mc-demo")
    assert progress.completed == [] and progress.notice is None
    progress.mark_done("start")
    progress.mark_done("deploy")
    progress.mark_done("start")
    progress.memory["high_scores"] = [{"name": "a", "score": 1}]
    store.save(progress)
    again = store.load("day55", "mc-demo")
    assert again.completed == ["start", "deploy"]
    assert again.memory == {"high_scores": [{"name": "a", "score": 1}]}
    assert again.updated is not None
    assert store.load("day55", "kind-kind").completed == []


def test_write_is_atomic_no_temp_files_left(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    for step in ("a", "b", "c"):
        progress = store.load("l", "c")
        progress.mark_done(step)
        store.save(progress)
    assert sorted(p.name for p in (tmp_path / "l").iterdir()) == ["c.json"]


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ProgressStore(tmp_path)
    progress = store.load("l", "c")
    progress.mark_done("a")
    store.save(progress)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    progress.mark_done("b")
    with pytest.raises(OSError, match="No space"):
        store.save(progress)
    monkeypatch.undo()
    assert store.load("l", "c").completed == ["a"]
    assert sorted(p.name for p in (tmp_path / "l").iterdir()) == ["c.json"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "does not hold a progress record"),
        ('{"version": 99}', "format version 99"),
        ('{"version": 1, "lesson": "l", "cluster": "c", "completed": "start"}', "no valid list"),
        ('{"version": 1, "lesson": "other", "cluster": "c", "completed": []}', "another lesson"),
    ],
)
def test_corrupt_file_is_moved_aside_and_progress_starts_fresh(tmp_path: Path, content: str, reason: str) -> None:
    store = ProgressStore(tmp_path)
    other = store.load("l", "elsewhere")
    other.mark_done("kept")
    store.save(other)
    path = store.path("l", "c")
    path.write_text(content)
    progress = store.load("l", "c")
    assert progress.completed == []
    assert progress.notice is not None and reason in progress.notice
    assert not path.exists()
    aside = [p for p in path.parent.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_text() == content
    assert str(aside[0]) in progress.notice
    assert store.load("l", "elsewhere").completed == ["kept"]


def test_forget_one_cluster_or_all(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    for cluster in ("a", "b"):
        progress = Progress("l", cluster, completed=["x"])
        store.save(progress)
    assert [p.name for p in store.forget("l", "a")] == ["a.json"]
    assert [p.cluster for p in store.all_for("l")] == ["b"]
    assert len(store.forget("l")) == 1
    assert store.all_for("l") == []
    assert store.forget("never-played") == []


def test_cluster_names_become_distinct_safe_file_names() -> None:
    assert cluster_key("mc-demo") == "mc-demo"
    odd = cluster_key("arn:aws:eks:eu-west-1:1:cluster/x")
    assert "/" not in odd and ":" not in odd
    assert cluster_key("a/b") != cluster_key("a:b")


def test_default_location_honours_the_state_dir_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_TUTOR_STATE_DIR", str(tmp_path))
    store = ProgressStore()
    assert store.root == tmp_path / "progress"
    store.save(Progress("day55", "sandbox", completed=["start"]))
    assert json.loads((tmp_path / "progress" / "day55" / "sandbox.json").read_text())["completed"] == ["start"]
