"""What a simulated container does: a small interpretation of its command line.

No container runs in the sandbox. What a learner sees of one (``kubectl logs``, the exit
code, CrashLoopBackOff, a probe that passes or not) follows from its command as far as
this module can read it:

- the image's own process (no command, or one of the image's programs): what the image
  catalogue says it does (a server, an interactive shell, a task);
- ``sleep N`` / ``sleep infinity``, ``echo``, ``printf``, ``true``/``false``, ``exit N``,
  ``env``, ``date``, ``hostname``, ``cat``, ``touch``/``rm``, ``tail -f``,
  ``python -m http.server``;
- ``sh -c`` / ``bash -c`` scripts of those, with ``;`` ``&&`` ``||`` ``&``, variables
  (``$VAR``, ``${VAR}``, ``$?``, ``$((i+1))``, ``$(date)``...), ``while true``/``until false``
  loops, ``for ... in``, ``if``/``else``, ``trap`` and redirections to files.

A program it cannot read (an unknown binary, a pipeline) runs until it is stopped and
prints nothing, or, in a pod that is not restarted on success (a Job's), does its work
for ``Context.task_seconds`` and exits 0.

A process is a lazy stream of :class:`Event`\\ s in time order (seconds since it started):
lines printed, files written or removed, a server starting, blocking for good, waiting on
its standard input (it goes on once :class:`Stdin` is closed), exiting, and a ``tick`` at
the end of each loop iteration (so a reader can stop at any instant).
The kubelet reads the stream as the clock moves; an endless loop costs only what has
been read.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from tutor.sandbox.images import Image, Route, Served

EventKind = Literal["out", "file", "serve", "block", "read", "exit", "tick"]

#: Events at one instant after which a loop with no sleep in it counts as spinning: it
#: prints nothing more (a real one would fill the node's log rotation in seconds).
SPIN_LIMIT = 2000

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
#: Programs whose work cannot be seen from here but which finish at once and quietly.
QUIET = frozenset(
    {
        "ls",
        "mkdir",
        "cp",
        "mv",
        "chmod",
        "chown",
        "cd",
        "set",
        "wait",
        "kill",
        "sync",
        "ln",
        "export",
        "unset",
        "wget",
        "curl",
        "nc",
        "ping",
        "nslookup",
        "apk",
        "apt-get",
        "apt",
        "pip",
        "npm",
        "umask",
        "ulimit",
        "shift",
        "source",
        ".",
    }
)


@dataclass(frozen=True)
class Event:
    at: float
    kind: EventKind
    text: str = ""
    content: str | None = None
    code: int = 0
    serves: tuple[Served, ...] = ()
    #: An exit whose time is the sandbox's stand-in for unknowable work (task_seconds).
    simulated: bool = False


class Stdin:
    """A container's standard input (``stdin: true``): open until the kubelet closes it.

    With ``stdinOnce`` the runtime closes it when the first attach session ends, and a
    program reading it (an interactive shell, ``cat``) reads end of file then; without a
    ``Stdin`` a program reads ``/dev/null``, end of file at once.
    """

    def __init__(self) -> None:
        #: The cluster time it was closed at (None: still open).
        self.closed_at: float | None = None


@dataclass(frozen=True)
class Context:
    """What a process can see: its image, environment, mounted files and pod."""

    image: Image | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    hostname: str = ""
    ip: str = ""
    tag: str = ""
    #: The container's standard input, or None for /dev/null.
    stdin: Stdin | None = None
    #: The pod restarts this container even after it succeeded (restartPolicy Always).
    long_running: bool = True
    task_seconds: float = 0.0
    #: Wall-clock time the process started (for ``date`` and log timestamps).
    started: float = 0.0


@dataclass(frozen=True)
class Process:
    """A started program: its events, and whether it stops on SIGTERM."""

    events: Iterator[Event]
    stops_on_sigterm: bool


class Unreadable(Exception):
    """A script with a construct this interpreter does not read."""


# ---- entry points ----------------------------------------------------------------------


def argv_of(container: Mapping[str, Any], image: Image | None, env: Mapping[str, str] | None = None) -> list[str]:
    """The process a container runs: Kubernetes' rules for command/args over the image's
    ENTRYPOINT/CMD, with ``$(VAR)`` references to the container's variables expanded."""
    command = [expand_references(str(a), env or {}) for a in container.get("command") or []]
    args = [expand_references(str(a), env or {}) for a in container.get("args") or []]
    entrypoint = list(image.entrypoint) if image else []
    cmd = list(image.cmd) if image else []
    if command:
        return command + args
    if args:
        return entrypoint + args
    return entrypoint + cmd


def expand_references(value: str, env: Mapping[str, str]) -> str:
    """``$(VAR)`` as the kubelet expands it in env values, command and args: a defined
    variable's value; an undefined reference stays as written; ``$$`` escapes."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", one, value)


def start(argv: list[str], ctx: Context) -> Process:
    """Start ``argv`` in ``ctx``: its events, lazily, and how it takes SIGTERM."""
    if _is_image_process(argv, ctx):
        return Process(_image_process(ctx), stops_on_sigterm=not (ctx.image and ctx.image.ignores_sigterm))
    words = _strip_wrappers(argv, ctx)
    shell = _Shell(ctx)
    return Process(shell.run_command_stream(words), stops_on_sigterm=_stops_on_sigterm(words, ctx))


def run_probe(argv: list[str], ctx: Context, files: Mapping[str, str]) -> tuple[int, str]:
    """An exec probe's command at this instant: (exit code, what it printed).

    A command this module cannot read (``mongo --eval ...``) is taken to succeed: the
    probe is the image's own health check.
    """
    words = _strip_wrappers(argv, ctx)
    if not words:
        return 0, ""
    shell = _Shell(replace(ctx, files={**ctx.files, **files}), probe=True)
    events = list(_limited(shell.run_command_stream(words)))
    code = next((e.code for e in events if e.kind == "exit"), shell.status)
    out = "\n".join(e.text for e in events if e.kind == "out")
    return code, out


# ---- the image's own process -------------------------------------------------------------


def _is_image_process(argv: list[str], ctx: Context) -> bool:
    """Whether the container runs the image's own process (as the catalogue describes it)."""
    image = ctx.image
    if image is None:
        return False
    if argv == [*image.entrypoint, *image.cmd]:
        return True
    words = _strip_wrappers(argv, ctx)
    if not words:
        return True
    entrypoint = list(image.entrypoint)
    if entrypoint and argv[: len(entrypoint)] == entrypoint and not _is_wrapper(entrypoint[0]):
        # Arguments to the image's own program (coredns -conf ..., the certgen's create ...).
        return image.runs != "shell"
    return image.runs == "server" and image.runs_server(words[0])


def _is_wrapper(word: str) -> bool:
    base = _base(word)
    return base in ("tini", "dumb-init", "exec") or base.endswith("entrypoint.sh")


def _strip_wrappers(argv: list[str], ctx: Context) -> list[str]:
    """Drop init wrappers and entrypoint scripts that exec what follows."""
    words = list(argv)
    while words and _is_wrapper(words[0]):
        words = words[1:]
        if words and words[0] == "--":
            words = words[1:]
    return words


def _render(text: str, ctx: Context, port: int | None = None) -> list[str]:
    stamp = ctx.started or time.time()

    def fill(match: re.Match[str]) -> str:
        name, fmt = match.group(1), match.group(2)
        if name == "time":
            return time.strftime(fmt or "%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
        values = {"pod": ctx.hostname, "ip": ctx.ip, "tag": ctx.tag, "port": str(port or "")}
        return values.get(name, match.group(0))

    filled = re.sub(r"\$\{(\w+)(?::([^}]*))?\}", fill, text)
    lines = filled.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _served(ctx: Context) -> tuple[Served, ...]:
    image = ctx.image
    if image is None:
        return ()
    out = []
    for s in image.serves:
        port = s.port_for(ctx.env)
        routes = s.http
        if routes is not None:
            routes = {
                path: Route(r.status, "\n".join(_render(r.body, ctx, port)) + ("\n" if r.body.endswith("\n") else ""))
                for path, r in routes.items()
            }
        out.append(Served(port, routes, None))
    return tuple(out)


def _image_process(ctx: Context) -> Iterator[Event]:
    image = ctx.image
    assert image is not None
    if image.runs == "shell":
        yield from _interactive(ctx)
        return
    if image.runs == "task":
        for line in _render(image.log, ctx):
            yield Event(0.0, "out", line)
        yield Event(ctx.task_seconds, "exit", code=image.exit_code, simulated=True)
        return
    if image.requires_env and not any(all(ctx.env.get(v) for v in alt) for alt in image.requires_env):
        for line in _render(image.missing_env_log, ctx):
            yield Event(0.0, "out", line)
        yield Event(0.0, "exit", code=1)
        return
    served = _served(ctx)
    port = served[0].port if served else None
    for line in _render(image.log, ctx, port):
        yield Event(0.0, "out", line)
    yield Event(0.0, "serve", serves=served)
    yield Event(0.0, "block")


def _interactive(ctx: Context) -> Iterator[Event]:
    """sh, bash, python reading their commands: they exit 0 at the end of their input, at
    once without a stdin, when it is closed with one."""
    ended = yield from end_of_input(ctx, 0.0)
    yield Event(ended, "exit", code=0)


def end_of_input(ctx: Context, now: float) -> Generator[Event, None, float]:
    """Read the standard input to its end from ``now`` (seconds since the process
    started): a ``read`` event while it is open; when it ends."""
    stdin = ctx.stdin
    if stdin is None:
        return now
    while stdin.closed_at is None:
        yield Event(now, "read")
    return max(now, stdin.closed_at - ctx.started)


def _stops_on_sigterm(words: list[str], ctx: Context) -> bool:
    """A server stops on SIGTERM; other PID 1s (sleep, tail, a shell) ignore it unless a
    script traps it."""
    if not words:
        return True
    base = _base(words[0])
    if base in SHELLS:
        script = _script_of(words)
        try:
            return script is not None and _handles_term(parse(script), ctx)
        except Unreadable:
            return False
    if ctx.image is not None and ctx.image.runs_server(words[0]):
        return True
    return base in ("python", "python3") and words[1:3] == ["-m", "http.server"]


def _base(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _script_of(words: list[str]) -> str | None:
    """The script of ``sh -c SCRIPT`` (also ``sh -ec``, ``bash -lc``); None without -c."""
    rest = words[1:]
    while rest and rest[0].startswith("-"):
        flag = rest[0]
        rest = rest[1:]
        if "c" in flag[1:]:
            return rest[0] if rest else ""
    return None


def _limited(events: Iterator[Event]) -> Iterator[Event]:
    """At most SPIN_LIMIT events of a probe command (no sleep is waited out)."""
    for n, event in enumerate(events):
        if n >= SPIN_LIMIT:
            return
        yield event


# ---- parsing a shell script ------------------------------------------------------------------

_OPERATORS = ("&&", "||", ";;", ">>", "2>&1", "1>&2", ">&2", "&>", "2>", "1>", ";", "&", "|", "(", ")", ">", "<", "\n")


@dataclass(frozen=True)
class Word:
    """A word of the script: parts that are literal (single-quoted) or expandable."""

    parts: tuple[tuple[str, bool], ...]  # (text, expandable)

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.parts)

    @property
    def quoted(self) -> bool:
        return any(not expandable for _, expandable in self.parts) or len(self.parts) > 1


@dataclass
class Simple:
    words: list[Word]
    redirect: tuple[str, Word] | None = None  # (">" | ">>", target)
    background: bool = False


@dataclass
class AndOr:
    first: Node
    rest: list[tuple[str, Node]]  # ("&&" | "||", node)


@dataclass
class Seq:
    items: list[Node]


@dataclass
class Loop:
    until: bool
    condition: Seq
    body: Seq


@dataclass
class For:
    var: str
    words: list[Word]
    body: Seq


@dataclass
class If:
    branches: list[tuple[Seq, Seq]]
    otherwise: Seq | None


Node = Simple | AndOr | Seq | Loop | For | If


def _tokens(script: str) -> list[Word | str]:
    """Words and operators; comments dropped; quotes kept as literal/expandable parts."""
    out: list[Word | str] = []
    i, n = 0, len(script)
    parts: list[tuple[str, bool]] = []
    current = ""
    started = False

    def flush() -> None:
        nonlocal current, parts, started
        if current:
            parts.append((current, True))
        if started:
            out.append(Word(tuple(parts)))
        parts, current, started = [], "", False

    while i < n:
        ch = script[i]
        if ch == "\\" and i + 1 < n:
            if script[i + 1] == "\n":
                i += 2
                continue
            if current:
                parts.append((current, True))
                current = ""
            parts.append((script[i + 1], False))
            started = True
            i += 2
            continue
        if ch == "'":
            end = script.find("'", i + 1)
            if end < 0:
                raise Unreadable("unterminated quote")
            if current:
                parts.append((current, True))
                current = ""
            parts.append((script[i + 1 : end], False))
            started = True
            i = end + 1
            continue
        if ch == '"':
            j = i + 1
            text = ""
            while j < n and script[j] != '"':
                if script[j] == "\\" and j + 1 < n and script[j + 1] in '"\\$`':
                    text += "\\" + script[j + 1] if script[j + 1] == "$" else script[j + 1]
                    j += 2
                    continue
                text += script[j]
                j += 1
            if j >= n:
                raise Unreadable("unterminated quote")
            if current:
                parts.append((current, True))
                current = ""
            parts.append((text, True))
            parts.append(("", False))  # marks the word as quoted: no field splitting
            started = True
            i = j + 1
            continue
        if ch == "$" and script.startswith("$((", i):
            end = script.find("))", i)
            if end < 0:
                raise Unreadable("unterminated arithmetic")
            current += script[i : end + 2]
            started = True
            i = end + 2
            continue
        if ch == "$" and script.startswith("$(", i):
            depth, j = 0, i + 1
            while j < n:
                if script[j] == "(":
                    depth += 1
                elif script[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            current += script[i : j + 1]
            started = True
            i = j + 1
            continue
        if ch == "#" and not started:
            while i < n and script[i] != "\n":
                i += 1
            continue
        if ch in " \t":
            flush()
            i += 1
            continue
        op = next((o for o in _OPERATORS if script.startswith(o, i)), None)
        if op is not None and not (op in ("2>&1", "1>&2", "2>", "1>") and started):
            flush()
            out.append(op)
            i += len(op)
            continue
        current += ch
        started = True
        i += 1
    flush()
    return out


def parse(script: str) -> Seq:
    """A script's syntax tree; :class:`Unreadable` for what the interpreter does not read."""
    parser = _Parser(_tokens(script))
    tree = parser.sequence(())
    if parser.peek() is not None:
        raise Unreadable(f"unexpected {parser.peek()!r}")
    return tree


class _Parser:
    def __init__(self, tokens: list[Word | str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Word | str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def keyword(self) -> str | None:
        token = self.peek()
        return token.plain if isinstance(token, Word) and not token.quoted else None

    def take(self) -> Word | str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, word: str) -> None:
        if self.keyword() != word:
            raise Unreadable(f"expected {word}")
        self.pos += 1

    def sequence(self, until: tuple[str, ...]) -> Seq:
        items: list[Node] = []
        while True:
            while self.peek() in (";", "\n"):
                self.pos += 1
            token = self.peek()
            if token is None or self.keyword() in until:
                return Seq(items)
            if isinstance(token, str) and token not in ("(",):
                raise Unreadable(f"unexpected {token!r}")
            node = self.and_or()
            if self.peek() == "&":
                self.pos += 1
                if isinstance(node, Simple):
                    node.background = True
            items.append(node)

    def and_or(self) -> Node:
        first = self.command()
        rest: list[tuple[str, Node]] = []
        while self.peek() in ("&&", "||"):
            op = str(self.take())
            while self.peek() == "\n":
                self.pos += 1
            rest.append((op, self.command()))
        if self.peek() == "|":
            raise Unreadable("pipelines are not interpreted")
        return AndOr(first, rest) if rest else first

    def command(self) -> Node:
        word = self.keyword()
        if word in ("while", "until"):
            self.pos += 1
            condition = self.sequence(("do",))
            self.expect("do")
            body = self.sequence(("done",))
            self.expect("done")
            return Loop(word == "until", condition, body)
        if word == "for":
            self.pos += 1
            var = self.take()
            if not isinstance(var, Word):
                raise Unreadable("for without a name")
            words: list[Word] = []
            if self.keyword() == "in":
                self.pos += 1
                while isinstance(self.peek(), Word) and self.keyword() != "do":
                    words.append(self.take())  # type: ignore[arg-type]
            while self.peek() in (";", "\n"):
                self.pos += 1
            self.expect("do")
            body = self.sequence(("done",))
            self.expect("done")
            return For(var.plain, words, body)
        if word == "if":
            self.pos += 1
            branches = []
            otherwise = None
            while True:
                condition = self.sequence(("then",))
                self.expect("then")
                body = self.sequence(("elif", "else", "fi"))
                branches.append((condition, body))
                closing = self.keyword()
                self.pos += 1
                if closing == "elif":
                    continue
                if closing == "else":
                    otherwise = self.sequence(("fi",))
                    self.expect("fi")
                break
            return If(branches, otherwise)
        if self.peek() == "(" or word in ("case", "function", "{", "}", "select"):
            raise Unreadable(f"{word or '('} is not interpreted")
        words = []
        redirect = None
        while True:
            token = self.peek()
            if isinstance(token, Word):
                self.pos += 1
                words.append(token)
            elif token in (">", ">>", "&>", "1>"):
                self.pos += 1
                target = self.take()
                if not isinstance(target, Word):
                    raise Unreadable("redirection without a file")
                redirect = (">>" if token == ">>" else ">", target)
            elif token in ("2>",):
                self.pos += 1
                self.take()
            elif token in ("2>&1", "1>&2", ">&2"):
                self.pos += 1  # both streams go to the container's log
            elif token == "<":
                raise Unreadable("input redirection is not interpreted")
            else:
                break
        if not words:
            raise Unreadable("empty command")
        return Simple(words, redirect)


def _handles_term(tree: Seq, ctx: Context) -> bool:
    """A script that traps SIGTERM, or execs a server (which then is PID 1), stops on it."""
    for node in tree.items:
        if not isinstance(node, Simple):
            continue
        words = [w.plain for w in node.words]
        if words[0] == "trap" and any(w in ("TERM", "SIGTERM", "15") for w in words[2:]):
            return True
        if words[0] == "exec" and len(words) > 1 and _stops_on_sigterm(words[1:], ctx):
            return True
    return False


# ---- running it ------------------------------------------------------------------------------


class _Exit(Exception):
    def __init__(self, code: int, *, simulated: bool = False) -> None:
        self.code = code
        self.simulated = simulated


class _Block(Exception):
    """The process blocks for good (sleep infinity, a server, an unknown program)."""


class _Shell:
    """Runs a parsed script symbolically, yielding its events as time passes."""

    def __init__(self, ctx: Context, *, probe: bool = False) -> None:
        self.ctx = ctx
        self.probe = probe
        self.now = 0.0
        self.status = 0
        self.vars: dict[str, str] = {"HOSTNAME": ctx.hostname, "HOME": "/root", **ctx.env}
        self.files: dict[str, str] = dict(ctx.files)
        self.busybox = ctx.image is not None and ctx.image.repository.endswith(("/busybox", "/alpine"))

    # -- the whole run

    def run_tree(self, tree: Seq) -> Iterator[Event]:
        try:
            yield from self._seq(tree)
        except _Exit as done:
            yield Event(self.now, "exit", code=done.code, simulated=done.simulated)
            return
        except _Block:
            yield Event(self.now, "block")
            return
        except Unreadable:
            # Past what this module reads: an unknown program, as far as anyone can tell.
            if self.probe:
                yield Event(self.now, "exit", code=0)
            elif self.ctx.long_running:
                yield Event(self.now, "block")
            else:
                yield Event(self.now + self.ctx.task_seconds, "exit", code=0, simulated=True)
            return
        yield Event(self.now, "exit", code=self.status)

    def run_command_stream(self, words: list[str]) -> Iterator[Event]:
        simple = Simple([Word(((w, False),)) for w in words])
        yield from self.run_tree(Seq([simple]))

    # -- nodes

    def _seq(self, seq: Seq) -> Iterator[Event]:
        for node in seq.items:
            yield from self._node(node)

    def _node(self, node: Node) -> Iterator[Event]:
        if isinstance(node, Simple):
            yield from self._simple(node)
        elif isinstance(node, AndOr):
            yield from self._node(node.first)
            for op, item in node.rest:
                if (op == "&&") == (self.status == 0):
                    yield from self._node(item)
        elif isinstance(node, Seq):
            yield from self._seq(node)
        elif isinstance(node, Loop):
            yield from self._loop(node)
        elif isinstance(node, For):
            for value in [v for w in node.words for v in self._expand_word(w)]:
                self.vars[node.var] = value
                yield from self._seq(node.body)
        elif isinstance(node, If):
            for condition, body in node.branches:
                yield from self._seq(condition)
                if self.status == 0:
                    yield from self._seq(body)
                    return
            if node.otherwise is not None:
                yield from self._seq(node.otherwise)
            else:
                self.status = 0

    def _loop(self, loop: Loop) -> Iterator[Event]:
        at_same_instant = 0
        while True:
            before = self.now
            yield from self._seq(loop.condition)
            if (self.status == 0) == loop.until:
                self.status = 0
                return
            yield from self._seq(loop.body)
            # A mark of time passing, so that a reader can stop at an instant even in a
            # loop that prints nothing.
            yield Event(self.now, "tick")
            at_same_instant = at_same_instant + 1 if self.now == before else 0
            if at_same_instant > SPIN_LIMIT or self.probe:
                # A loop that never sleeps: it spins without end, and prints nothing more
                # that anyone could read.
                raise _Block

    def _read_input(self) -> Iterator[Event]:
        """Read the standard input to its end (an exec probe has none)."""
        if not self.probe:
            self.now = yield from end_of_input(self.ctx, self.now)

    # -- a simple command

    def _simple(self, node: Simple) -> Iterator[Event]:
        words = [v for w in node.words for v in self._expand_word(w)]
        while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
            name, _, value = words[0].partition("=")
            self.vars[name] = value
            words = words[1:]
            self.status = 0
        if not words:
            return
        output: list[str] = []
        events = self._command(words, output, node.background)
        if node.redirect is not None:
            mode, target_word = node.redirect
            target = "".join(self._expand_word(target_word)) or target_word.plain
            yield from events
            if target not in ("/dev/null", "/dev/stdout", "/dev/stderr"):
                text = "".join(line + "\n" for line in output)
                before = self.files.get(target, "") if mode == ">>" else ""
                self.files[target] = before + text
                yield Event(self.now, "file", target, self.files[target])
            elif target != "/dev/null":
                for line in output:
                    yield Event(self.now, "out", line)
            return
        yield from events
        for line in output:
            yield Event(self.now, "out", line)

    def _command(self, words: list[str], out: list[str], background: bool) -> Iterator[Event]:
        """Run one command; lines it prints go to ``out`` (the caller routes them)."""
        while words and _base(words[0]) == "exec":
            words = words[1:]
        if not words:
            return
        name, args = _base(words[0]), words[1:]
        self.status = 0
        if name in ("true", ":"):
            return
        if name == "false":
            self.status = 1
            return
        if name == "exit":
            raise _Exit(_int(args[0], 2) if args else self.status)
        if name == "echo":
            out.extend(_echo(args))
            return
        if name == "printf":
            if args:
                text = _printf(args[0], args[1:])
                out.extend(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"))
            return
        if name == "sleep":
            seconds = _duration(args[0]) if args else None
            if seconds is None:
                self.status = 1
                out.append(f"sleep: invalid number '{args[0] if args else ''}'")
                return
            if background:
                return
            if seconds == float("inf"):
                raise _Block
            if not self.probe:
                self.now += seconds
            return
        if name in ("env", "printenv"):
            if name == "printenv" and args:
                value = self.vars.get(args[0])
                if value is None:
                    self.status = 1
                else:
                    out.append(value)
                return
            out.extend(f"{k}={v}" for k, v in self._environment().items())
            return
        if name == "date":
            out.append(time.strftime("%a %b %e %H:%M:%S UTC %Y", time.gmtime((self.ctx.started or 0) + self.now)))
            return
        if name == "hostname":
            out.append(self.ctx.hostname)
            return
        if name == "seq":
            numbers = [_int(a, 1) for a in args[:3]]
            first, step, last = (1, 1, numbers[0]) if len(numbers) == 1 else (numbers[0], 1, numbers[-1])
            if len(numbers) == 3:
                step = numbers[1]
            out.extend(str(i) for i in range(first, last + (1 if step > 0 else -1), step or 1))
            return
        if name == "cat":
            paths = [a for a in args if not a.startswith("-") or a == "-"]
            if not paths or paths == ["-"]:
                yield from self._read_input()
                return
            for path in paths:
                if path in self.files:
                    out.extend(self.files[path].splitlines())
                else:
                    out.append(
                        f"cat: can't open '{path}': No such file or directory"
                        if self.busybox
                        else f"cat: {path}: No such file or directory"
                    )
                    self.status = 1
            return
        if name == "touch":
            for path in args:
                if not path.startswith("-"):
                    self.files.setdefault(path, "")
                    yield Event(self.now, "file", path, self.files[path])
            return
        if name == "rm":
            for path in [a for a in args if not a.startswith("-")]:
                if path in self.files:
                    del self.files[path]
                    yield Event(self.now, "file", path, None)
                elif "-f" not in args and not any(a.startswith("-") and "f" in a for a in args):
                    out.append(f"rm: can't remove '{path}': No such file or directory")
                    self.status = 1
            return
        if name == "test" or name == "[":
            self.status = 0 if self._test([a for a in args if a != "]"]) else 1
            return
        if name == "tail" and "-f" in args:
            raise _Block
        if name == "trap":
            return
        if name in QUIET:
            return
        if name in ("python", "python3") and args[:2] == ["-m", "http.server"]:
            port = _int(args[2], 8000) if len(args) > 2 else 8000
            yield Event(self.now, "serve", serves=(Served(port, {"/": Route(200, "")}),))
            if not background:
                raise _Block
            return
        if self.ctx.image is not None and self.ctx.image.runs_server(words[0]) and self.ctx.image.runs == "server":
            yield Event(self.now, "serve", serves=_served(self.ctx))
            if not background:
                raise _Block
            return
        if name in SHELLS:
            script = _script_of(words)
            if script is None:
                # An interactive shell: it runs what it reads, and exits at the end of it.
                yield from self._read_input()
                return
            yield from self._seq(parse(script))
            return
        if self.ctx.image is not None and self.ctx.image.runs == "shell" and words == list(self.ctx.image.cmd):
            yield from self._read_input()
            return
        if self.probe:
            return  # the image's own health tool: taken to succeed
        if background:
            return
        if self.ctx.long_running:
            raise _Block
        self.now += self.ctx.task_seconds
        raise _Exit(0, simulated=True)

    def _test(self, args: list[str]) -> bool:
        if len(args) == 2 and args[0] in ("-f", "-e", "-r", "-s"):
            return args[1] in self.files and (args[0] != "-s" or bool(self.files[args[1]]))
        if len(args) == 2 and args[0] == "-d":
            return False
        if len(args) == 2 and args[0] == "-z":
            return args[1] == ""
        if len(args) == 2 and args[0] == "-n":
            return args[1] != ""
        if len(args) == 1:
            return args[0] != ""
        if len(args) == 3:
            a, op, b = args
            numeric = {
                "-eq": int.__eq__,
                "-ne": int.__ne__,
                "-lt": int.__lt__,
                "-le": int.__le__,
                "-gt": int.__gt__,
                "-ge": int.__ge__,
            }
            if op in ("=", "=="):
                return a == b
            if op == "!=":
                return a != b
            if op in numeric:
                return bool(numeric[op](_int(a, 0), _int(b, 0)))
        raise Unreadable("test expression not interpreted")

    def _environment(self) -> dict[str, str]:
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME": self.ctx.hostname}
        env.update(self.ctx.env)
        env["HOME"] = self.vars.get("HOME", "/root")
        return env

    # -- expansion

    def _expand_word(self, word: Word) -> list[str]:
        text = ""
        split = True
        for part, expandable in word.parts:
            if not expandable:
                text += part
                split = False
                continue
            text += self._expand(part)
        if word.quoted or not split:
            return [text]
        return text.split()

    def _expand(self, text: str) -> str:
        def arithmetic(match: re.Match[str]) -> str:
            expr = re.sub(r"\$?\b([A-Za-z_]\w*)\b", lambda m: self.vars.get(m.group(1), "0"), match.group(1))
            return str(_arithmetic(expr))

        def substitute(match: re.Match[str]) -> str:
            inner = _Shell(replace(self.ctx, files=self.files), probe=True)
            inner.vars = dict(self.vars)
            events = list(_limited(inner.run_tree(parse(match.group(1)))))
            return " ".join(e.text for e in events if e.kind == "out")

        def variable(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name == "?":
                return str(self.status)
            if name == "$":
                return "1"
            return self.vars.get(name, "")

        text = re.sub(r"\$\(\((.*?)\)\)", arithmetic, text)
        text = re.sub(r"\$\(([^()]*(?:\([^()]*\)[^()]*)*)\)", substitute, text)
        text = re.sub(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*|\?|\$)", variable, text)
        return text.replace("\\$", "$")


_ARITHMETIC: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Div: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
}


def _arithmetic(expr: str) -> int:
    """``$(( ))``: integers with + - * / %, as the shell computes them."""

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            right = value(node.right)
            if right == 0 and isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)):
                raise Unreadable("division by zero")
            return _ARITHMETIC[type(node.op)](value(node.left), right)
        raise Unreadable("arithmetic not interpreted")

    try:
        return value(ast.parse(expr.strip(), mode="eval").body)
    except SyntaxError as err:
        raise Unreadable("arithmetic not interpreted") from err


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _duration(text: str) -> float | None:
    if text in ("infinity", "inf"):
        return float("inf")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text)
    if match is None:
        return None
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _echo(args: list[str]) -> list[str]:
    escapes = False
    while args and args[0] in ("-n", "-e", "-ne", "-en", "-E"):
        escapes = escapes or "e" in args[0]
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text = text.replace("\\n", "\n").replace("\\t", "\t")
    return text.split("\n")


def _printf(fmt: str, args: list[str]) -> str:
    fmt = fmt.replace("\\n", "\n").replace("\\t", "\t")
    values = iter(args)
    return re.sub(r"%[sd]", lambda _m: next(values, ""), fmt).replace("%%", "%")
