"""What the tutor reads back is only its own: progress and trust records (the lesson cache:
tests/cli/test_lesson_cache.py).

And a state folder it cannot write (read-only, full) costs the learner nothing but the
saving: a warning once, the lesson goes on from memory, and the end says it was not saved.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lesson.helpers import MARK, MINIMAL, write_lesson
from tutor.lesson import parser
from tutor.progress import ProgressStore
from tutor.trust import TrustStore


def saved(store: ProgressStore, *steps: str) -> Path:
    progress = store.load("l", "c")
    for step in steps:
        progress.mark_done(step)
    return store.save(progress)


def test_folders_are_made_private_and_files_0600(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "progress")
    path = saved(store, "a")
    assert os.stat(path.parent).st_mode & 0o777 == 0o700
    assert os.stat(tmp_path / "progress").st_mode & 0o777 == 0o700
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_a_progress_file_that_is_not_utf8_is_moved_aside(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    path = saved(store, "a")
    path.write_bytes(b'{"version": 1, "lesson": "l", "cluster": "\xff\xfe"}')
    progress = store.load("l", "c")
    assert progress.completed == []
    assert progress.notice is not None and "is not UTF-8 text" in progress.notice
    assert store.all_for("l") == []
    assert store.peek("l", "c") is None


def test_a_progress_file_others_may_write_is_ignored(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    path = saved(store, "a")
    path.chmod(0o666)
    progress = store.load("l", "c")
    assert progress.completed == []
    assert progress.notice is not None
    assert "others may write to it (mode 0666)" in progress.notice
    assert store.all_for("l") == []


def test_a_progress_folder_others_may_write_is_ignored(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    path = saved(store, "a")
    path.parent.chmod(0o777)
    progress = store.load("l", "c")
    assert progress.completed == []
    assert progress.notice is not None and "is not private" in progress.notice
    with pytest.raises(OSError, match="is not private"):
        saved(store, "b")


def test_a_symlink_is_never_followed(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    elsewhere = tmp_path / "elsewhere.json"
    path = saved(store, "a")
    os.replace(path, elsewhere)
    path.symlink_to(elsewhere)
    progress = store.load("l", "c")
    assert progress.completed == []
    assert progress.notice is not None and "symbolic link" in progress.notice
    saved(store, "b")  # the link is replaced by the tutor's own file, the target untouched
    assert not path.is_symlink()
    assert json.loads(elsewhere.read_text())["completed"] == ["a"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_a_progress_file_of_another_user_is_ignored(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    path = saved(store, "a")
    os.chown(path, 65534, 65534)
    progress = store.load("l", "c")
    assert progress.notice is not None and "belongs to another user (uid 65534)" in progress.notice


def test_trust_records_others_may_write_trust_nothing(tmp_path: Path) -> None:
    lesson = parser.load(write_lesson(tmp_path, MINIMAL))
    store = TrustStore(tmp_path / "trust" / "lessons.json")
    store.trust(lesson)
    assert store.is_trusted(lesson)
    store.path.chmod(0o646)
    assert not store.is_trusted(lesson)
    assert store.problem is not None and "others may write to it" in store.problem


def test_a_full_or_read_only_state_folder_warns_once_and_the_lesson_goes_on(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"], check=False).returncode:
        pytest.skip("needs unshare (user and mount namespaces) for a real full and read-only folder")
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "mark.md").write_text(MARK)
    work = tmp_path / "work"
    work.mkdir()
    # A cluster the session can name (its progress is saved under that name), on a loopback
    # port where nothing listens: the lesson's checks are commands, and need none.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
        "clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: nowhere, user: {}}]\n"
        "contexts: [{name: nowhere, context: {cluster: nowhere, user: nowhere}}]\n"
    )
    outputs = {}
    for case, mount in {
        "full": 'mount -t tmpfs -o size=4k tmpfs "$STATE" && (cat /dev/zero > "$STATE/fill" 2>/dev/null || true)',
        "read-only": 'mount -t tmpfs -o ro tmpfs "$STATE"',
    }.items():
        state = tmp_path / case
        state.mkdir()
        script = f"{mount} && exec {sys.executable} -m tutor mark --lessons {lessons} --trust --plain --autoplay"
        result = subprocess.run(
            ["unshare", "-rm", "sh", "-c", script],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=work,
            env=dict(os.environ, STATE=str(state), K8S_TUTOR_STATE_DIR=str(state), KUBECONFIG=str(kubeconfig)),
            timeout=120,
            check=False,
        )
        outputs[case] = result
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        out = result.stdout
        assert out.count("Your progress cannot be saved") == 1, out
        assert "Lesson mark complete" in out
        assert out.rstrip().endswith("Warning: The progress of this run was not saved.")
        for ran in work.iterdir():
            ran.unlink()
    assert "(No space left on device)" in outputs["full"].stdout
    assert "(Read-only file system)" in outputs["read-only"].stdout
