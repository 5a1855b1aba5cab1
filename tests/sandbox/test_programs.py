"""What a simulated container does with its command line: output, timing, exit, files."""

from __future__ import annotations

from itertools import islice
from typing import Any

import pytest

from tutor.sandbox import images, programs


def image(name: str) -> images.Image:
    found = images.lookup(name)
    assert isinstance(found, tuple), found
    return found[1]


def run(
    argv: list[str] | None, name: str | None = "busybox:1.36", limit: int = 50, **ctx: Any
) -> list[tuple[float, str, str, int]]:
    img = image(name) if name else None
    context = programs.Context(image=img, hostname="web-1", **ctx)
    process = programs.start(argv if argv is not None else programs.argv_of({}, img), context)
    return [(e.at, e.kind, e.text, e.code) for e in islice(process.events, limit) if e.kind != "tick"]


def outputs(events: list[tuple[float, str, str, int]]) -> list[str]:
    return [text for _at, kind, text, _code in events if kind == "out"]


def exit_of(events: list[tuple[float, str, str, int]]) -> tuple[float, int] | None:
    return next(((at, code) for at, kind, _text, code in events if kind == "exit"), None)


def test_a_shell_image_with_nothing_to_do_exits_at_once() -> None:
    for name in ("busybox", "alpine:3.20", "ubuntu:24.04", "python:3.12", "node:20"):
        assert exit_of(run(None, name)) == (0.0, 0), name


def test_a_shell_with_stdin_waits_for_input_and_exits_at_its_end() -> None:
    stdin = programs.Stdin()
    context = programs.Context(image=image("busybox"), stdin=stdin, started=100.0)
    events = programs.start(["sh"], context).events
    first = next(events)
    assert (first.at, first.kind) == (0.0, "read")
    stdin.closed_at = 107.0  # the attached client went at cluster time 107
    done = next(events)
    assert (done.at, done.kind, done.code) == (7.0, "exit", 0)


def test_cat_reads_its_input_to_the_end_and_the_script_goes_on() -> None:
    stdin = programs.Stdin()
    context = programs.Context(image=image("busybox"), stdin=stdin, started=0.0)
    events = programs.start(["sh", "-c", "echo before; sleep 2; cat; echo after; exit 4"], context).events
    seen = [(e.at, e.kind, e.text) for e in islice(events, 2)]
    assert seen == [(0.0, "out", "before"), (2.0, "read", "")]
    stdin.closed_at = 1.0  # closed before cat read it: end of file at once, at 2 s
    rest = [(e.at, e.kind, e.text, e.code) for e in events]
    assert rest == [(2.0, "out", "after", 0), (2.0, "exit", "", 4)]


def test_without_stdin_a_shell_or_cat_read_end_of_file_at_once() -> None:
    assert exit_of(run(["sh"])) == (0.0, 0)
    assert run(["sh", "-c", "cat; echo done"]) == [(0.0, "out", "done", 0), (0.0, "exit", "", 0)]


def test_a_server_image_prints_its_start_up_and_serves() -> None:
    events = run(None, "nginx:1.27")
    assert "Configuration complete; ready for start up" in " ".join(outputs(events))
    assert events[-1][1] == "block"
    assert exit_of(events) is None


def test_echo_sleep_and_exit_in_a_script() -> None:
    events = run(["sh", "-c", "echo hello; sleep 5; echo bye >&2; exit 3"])
    assert outputs(events) == ["hello", "bye"]
    assert exit_of(events) == (5.0, 3)


def test_and_or_and_the_last_status() -> None:
    assert exit_of(run(["sh", "-c", "false && echo never"])) == (0.0, 1)
    assert outputs(run(["sh", "-c", "false || echo rescued"])) == ["rescued"]
    assert exit_of(run(["sh", "-c", "true; false"])) == (0.0, 1)


def test_a_loop_prints_lazily_for_ever() -> None:
    events = run(["sh", "-c", 'i=0; while true; do echo "$i: $(hostname)"; i=$((i+1)); sleep 1; done'], limit=20)
    assert outputs(events)[:3] == ["0: web-1", "1: web-1", "2: web-1"]
    assert [at for at, kind, *_ in events if kind == "out"][:3] == [0.0, 1.0, 2.0]
    assert exit_of(events) is None


def test_for_loops_if_and_variables() -> None:
    script = 'for n in a b c; do echo "item $n"; done; if [ "$GREETING" = hi ]; then echo yes; else echo no; fi'
    events = run(["sh", "-c", script], env={"GREETING": "hi"})
    assert outputs(events) == ["item a", "item b", "item c", "yes"]


def test_single_quotes_are_not_expanded() -> None:
    assert outputs(run(["sh", "-c", "echo '$HOME' \"$HOME\""])) == ["$HOME /root"]


def test_sleep_infinity_and_tail_f_block() -> None:
    assert run(["sleep", "infinity"])[-1][1] == "block"
    assert run(["sh", "-c", "echo up; tail -f /dev/null"])[-1][1] == "block"
    assert exit_of(run(["sleep", "3600"])) == (3600.0, 0)


def test_files_written_then_removed_are_events() -> None:
    events = run(["sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"])
    files = [(at, kind, text) for at, kind, text, _ in events if kind == "file"]
    assert files == [(0.0, "file", "/tmp/healthy"), (30.0, "file", "/tmp/healthy")]
    assert exit_of(events) == (630.0, 0)


def test_env_prints_the_containers_variables() -> None:
    lines = outputs(run(["env"], env={"COLOR": "blue"}))
    assert "COLOR=blue" in lines and "HOSTNAME=web-1" in lines


def test_cat_of_a_missing_file_fails_with_busyboxs_words() -> None:
    events = run(["cat", "/etc/config/missing"])
    assert outputs(events) == ["cat: can't open '/etc/config/missing': No such file or directory"]
    assert exit_of(events) == (0.0, 1)


def test_cat_of_a_mounted_file() -> None:
    assert outputs(run(["cat", "/etc/config/color"], files={"/etc/config/color": "blue\n"})) == ["blue"]


def test_an_unknown_program_runs_until_stopped_or_works_as_a_task() -> None:
    assert run(["/app/server"], "python:3.12") == [(0.0, "block", "", 0)]
    assert exit_of(run(["/app/migrate"], "python:3.12", long_running=False, task_seconds=2.0)) == (2.0, 0)


def test_a_pipeline_is_past_reading_and_taken_as_an_unknown_program() -> None:
    assert run(["sh", "-c", "echo a | grep a"])[-1][1] == "block"


def test_a_loop_that_never_sleeps_spins_without_end() -> None:
    events = run(["sh", "-c", "while true; do echo x; done"], limit=5000)
    assert events[-1][1] == "block"
    assert all(at == 0.0 for at, *_ in events)


def test_postgres_without_a_password_exits_1_with_its_error() -> None:
    events = run(None, "postgres:16")
    assert "Database is uninitialized and superuser password is not specified." in outputs(events)[0]
    assert exit_of(events) == (0.0, 1)
    served = run(None, "postgres:16", env={"POSTGRES_PASSWORD": "secret"})
    assert [kind for _at, kind, *_ in served][-2:] == ["serve", "block"]


@pytest.mark.parametrize(
    ("argv", "stops"),
    [
        (None, True),  # nginx itself
        (["sleep", "3600"], False),  # PID 1 with no handler ignores SIGTERM
        (["sh", "-c", "sleep 3600"], False),
        (["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"], True),
        (["sh", "-c", "echo starting; exec nginx -g 'daemon off;'"], True),
    ],
)
def test_who_stops_on_sigterm(argv: list[str] | None, stops: bool) -> None:
    img = image("nginx:1.27")
    process = programs.start(argv if argv is not None else programs.argv_of({}, img), programs.Context(image=img))
    assert process.stops_on_sigterm is stops


def test_command_and_args_follow_kubernetes_rules() -> None:
    nginx = image("nginx:1.27")
    assert programs.argv_of({}, nginx) == ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]
    assert programs.argv_of({"args": ["nginx-debug"]}, nginx) == ["/docker-entrypoint.sh", "nginx-debug"]
    assert programs.argv_of({"command": ["sleep"], "args": ["5"]}, nginx) == ["sleep", "5"]
    assert programs.argv_of({"command": ["echo", "$(NAME)", "$$(NAME)"]}, nginx, {"NAME": "web"}) == [
        "echo",
        "web",
        "$(NAME)",
    ]


def test_exec_probe_commands_read_the_files_of_the_moment() -> None:
    ctx = programs.Context(image=image("busybox:1.36"))
    assert programs.run_probe(["cat", "/tmp/healthy"], ctx, {"/tmp/healthy": ""}) == (0, "")
    code, out = programs.run_probe(["cat", "/tmp/healthy"], ctx, {})
    assert code == 1 and "No such file or directory" in out
    # The image's own health tool cannot be read from here: taken to succeed.
    assert programs.run_probe(["mongo", "--quiet", "--eval", "db.ping"], ctx, {})[0] == 0
