"""The body of a lesson: intro prose, `::: step` blocks, outro prose.

Inside a step: prose, command blocks, hints (`> [!TIP]`), questions, one or more checks
blocks, cleanup; `::: only {backend=... platform=...}` around any of them but checks and
cleanup says where they apply, and so does a `backend=`/`platform=` attribute on a fenced
block or after `[!TIP]`.
"""

from __future__ import annotations

import re

from markdown_it.token import Token

from tutor.lesson import attributes
from tutor.lesson.check_blocks import read_checks
from tutor.lesson.command_blocks import ATTRIBUTES as COMMAND_ATTRIBUTES
from tutor.lesson.command_blocks import read_commands
from tutor.lesson.front_matter import ID
from tutor.lesson.model import Block, CheckSpec, Command, CommandBlock, Hint, Prose, Question, Step
from tutor.lesson.parse_context import ParseContext
from tutor.lesson.place import ALWAYS, BACKENDS, PLATFORMS, When, parse_names
from tutor.lesson.question_blocks import read_question

COMMAND_LANGUAGES = {"sh", "shell", "bash", "console", "zsh"}
STEP_ATTRIBUTES = {"id", "title", "timeout"}
WHERE_ATTRIBUTES = ("backend", "platform")
BLOCKS = ("step", "only")
_TIP = re.compile(r"^\s*>\s*\[!TIP\]\s*(\{.*\})?\s*$", re.IGNORECASE)


class StepReader:
    """Walks the token stream after the front matter."""

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx

    def walk(self, tokens: list[Token]) -> tuple[list[Step], str, str]:
        steps: list[Step] = []
        intro: list[str] = []
        outro: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.type in ("container_step_open", "container_only_open"):
                end = _matching_close(tokens, i)
                if token.type == "container_only_open":
                    self.ctx.error(
                        _line(token), "'::: only' belongs inside a step: it says where a step's content applies"
                    )
                else:
                    step = self.step(token, tokens[i + 1 : end], tokens[end] if end < len(tokens) else None)
                    if step is not None:
                        steps.append(step)
                i = end + 1
                continue
            if token.level == 0 and token.map is not None:
                self.outside_step(token)
                (outro if steps else intro).append(self.ctx.source(*token.map))
            i += 1
        # A block's lines end before the blank line that separates it from the next: joined
        # with one, paragraphs stay paragraphs.
        return steps, "\n".join(intro).strip(), "\n".join(outro).strip()

    def outside_step(self, token: Token) -> None:
        line = _line(token)
        if token.type == "fence":
            lang, attrs = attributes.split_info(token.info)
            if lang in COMMAND_LANGUAGES or (attrs and ("checks" in attrs or "question" in attrs)):
                self.ctx.error(line, "commands, checks and questions belong inside a step ('::: step {#id}' ... ':::')")
        elif token.type == "paragraph_open":
            stray_marker(self.ctx, token)
        if token.map is not None:
            self.ctx.check_text_variables(self.ctx.source(*token.map), line)

    # --- a step ----------------------------------------------------------------------

    def step(self, open_token: Token, body: list[Token], close: Token | None) -> Step | None:
        ctx = self.ctx
        line = _line(open_token)
        if open_token.level > 0:
            return None  # reported by the enclosing step
        info = open_token.info.strip()
        attr_text = info[len("step") :].strip()
        attrs: dict[str, str] = {}
        unreadable = False  # said once: not again as "no id"
        if attr_text and not attr_text.startswith("{"):
            ctx.error(line, f"cannot read '::: {info}'; write '::: step {{#id title=\"...\"}}'")
            unreadable = True
        elif attr_text:
            try:
                attrs = attributes.parse(attr_text)
            except attributes.BadAttributes as err:
                ctx.error(line, f"bad step attributes: {err}")
                unreadable = True
        for key in attrs:
            if key not in STEP_ATTRIBUTES:
                ctx.error(line, f"unknown step attribute '{key}'; known: #id, title, timeout")
        if close is None or close.markup == "":
            ctx.error(line, "this step is never closed with ':::'")
        step_id = attrs.get("id")
        if not step_id:
            if not unreadable:
                ctx.error(line, "the step has no id; write '::: step {#my-step title=\"...\"}'")
            step_id = f"line-{line}"
        elif not ID.match(step_id):
            ctx.error(line, f"step id '{step_id}' must be lower-case letters, digits and '-'")
        if step_id in ctx.step_ids:
            ctx.error(line, f"duplicate step id '{step_id}' (first used on line {ctx.step_ids[step_id]})")
        ctx.step_ids.setdefault(step_id, line)
        timeout = ctx.timeout(attrs, line, "step") or 180.0
        body_reader = _StepBody(ctx, step_id, line)
        body_reader.read(body)
        title = attrs.get("title") or body_reader.heading
        self.process_references(step_id)
        if not title:
            if not unreadable:
                ctx.error(line, f"step '{step_id}' has no title; add title=\"...\" to its attributes")
            title = step_id
        if not body_reader.checks_blocks:
            ctx.error(line, f"step '{step_id}' has no checks; add a ```yaml {{checks}} block")
        if not body_reader.hints:
            ctx.warn(line, f"step '{step_id}' has no hints; add one with '> [!TIP]'")
        return Step(
            id=step_id,
            title=title,
            line=line,
            blocks=tuple(_merge_prose(body_reader.blocks)),
            checks=tuple(body_reader.checks),
            hints=tuple(body_reader.hints),
            cleanup=tuple(body_reader.cleanup),
            timeout=timeout,
        )

    def process_references(self, step_id: str) -> None:
        """Each `process_alive` check of the step names a background command that runs wherever
        the check does (checks apply everywhere)."""
        for process_id, ref_line in self.ctx.process_refs:
            found = self.ctx.process_ids.get(process_id)
            if found is None:
                self.ctx.error(ref_line, f"no background command with id '{process_id}' in this step or an earlier one")
            elif not found[1].always:
                self.ctx.error(
                    ref_line,
                    f"background command '{process_id}' runs only with {found[1]}, but checks apply everywhere: "
                    "check what the process serves (an http check) instead",
                )
        self.ctx.process_refs.clear()


class _StepBody:
    """The blocks of one step, `::: only` blocks included, in the author's order."""

    def __init__(self, ctx: ParseContext, step_id: str, line: int) -> None:
        self.ctx = ctx
        self.step_id = step_id
        self.line = line
        self.blocks: list[Block] = []
        self.checks: list[CheckSpec] = []
        self.hints: list[Hint] = []
        self.cleanup: list[Command] = []
        self.checks_blocks = 0
        self.heading: str | None = None

    def read(self, body: list[Token]) -> None:
        ctx = self.ctx
        conditions: list[When | None] = [ALWAYS]
        """The `when` of each open block, innermost last; None inside one that applies nowhere."""
        for token in body:
            if token.type == "container_step_open":
                ctx.error(
                    _line(token),
                    f"a step starts inside step '{self.step_id}' (line {self.line}); close that one with ':::' first",
                )
                continue
            if token.type == "container_only_open":
                if token.level == len(conditions):
                    conditions.append(self.only(token, conditions[-1]))
                else:
                    ctx.error(_line(token), "'::: only' starts a line of its own in a step, not inside a list or quote")
                continue
            if token.type == "container_only_close" and token.level == len(conditions) - 1 and len(conditions) > 1:
                conditions.pop()
                continue
            if token.level != len(conditions) or token.map is None:
                continue
            self.block(token, conditions[-1])

    def only(self, token: Token, outer: When | None) -> When | None:
        line = _line(token)
        attr_text = token.info.strip()[len("only") :].strip()
        if not attr_text:
            self.ctx.error(
                line, "'::: only' needs a condition: '::: only {backend=sandbox}', '::: only {platform=wsl2}'"
            )
            return None
        try:
            attrs = attributes.parse(attr_text)
        except attributes.BadAttributes as err:
            self.ctx.error(line, f"bad attributes: {err}")
            return None
        for key in attrs:
            if key not in WHERE_ATTRIBUTES:
                self.ctx.error(line, f"unknown '::: only' attribute '{key}'; known: backend, platform")
        if not any(key in attrs for key in WHERE_ATTRIBUTES):
            self.ctx.error(line, "'::: only' needs backend=... or platform=...")
            return None
        return self.where(attrs, line, outer)

    def where(self, attrs: dict[str, str], line: int, outer: When | None) -> When | None:
        """The `when` that `backend=`/`platform=` attributes give, inside `outer`."""
        if outer is None:
            return None
        names: dict[str, tuple[str, ...]] = {}
        for key, known in (("backend", BACKENDS), ("platform", PLATFORMS)):
            if key in attrs:
                found, problem = parse_names(attrs[key], known, key)
                if problem:
                    self.ctx.error(line, problem)
                    return None
                names[key] = found
        when = When(names.get("backend", ()), names.get("platform", ())).within(outer)
        if when is None:
            self.ctx.error(line, f"this applies nowhere: it is inside a block for {outer}")
        return when

    def block(self, token: Token, when: When | None) -> None:
        ctx = self.ctx
        assert token.map is not None
        line = token.map[0] + 1
        if token.type == "fence":
            self.fence(token, when)
            return
        if token.type == "blockquote_open":
            tip = _TIP.match(ctx.lines[token.map[0]])
            if tip:
                self.hint(token, tip.group(1), when)
                return
        if token.type == "paragraph_open":
            stray_marker(ctx, token)
        if self.heading is None and token.type == "heading_open":
            self.heading = ctx.lines[token.map[0]].strip().lstrip("#").strip()
        text = ctx.source(*token.map).rstrip("\n")
        ctx.check_text_variables(text, line)
        if when is not None:
            self.blocks.append(Prose(text, line, when))

    def hint(self, token: Token, attr_text: str | None, when: When | None) -> None:
        assert token.map is not None
        line = token.map[0] + 1
        if attr_text:
            try:
                attrs = attributes.parse(attr_text)
            except attributes.BadAttributes as err:
                self.ctx.error(line, f"bad attributes: {err}")
                return
            for key in attrs:
                if key not in WHERE_ATTRIBUTES:
                    self.ctx.error(line, f"unknown hint attribute '{key}'; known: backend, platform")
            when = self.where(attrs, line, when)
        text = _unquote(self.ctx.source(*token.map))
        self.ctx.check_text_variables(text, line)
        if when is not None:
            self.hints.append(Hint(text, line, when))

    def fence(self, token: Token, outer: When | None) -> None:
        ctx = self.ctx
        assert token.map is not None
        line = token.map[0] + 1
        lang, attr_text = attributes.split_info(token.info)
        attrs: dict[str, str] = {}
        if attr_text is not None:
            try:
                attrs = attributes.parse(attr_text)
            except attributes.BadAttributes as err:
                ctx.error(line, f"bad attributes: {err}")
                return
        if "checks" in attrs:
            self.checks_block(token, lang, attrs, outer)
            return
        when = self.where(attrs, line, outer)
        if "question" in attrs:
            if lang not in ("yaml", "yml", ""):
                ctx.error(line, "a question is YAML: write ```yaml {question}")
            extra = set(attrs) - {"question", *WHERE_ATTRIBUTES}
            if extra:
                ctx.error(line, f"a question block takes only backend= and platform= (got {', '.join(sorted(extra))})")
            number = sum(1 for block in self.blocks if isinstance(block, Question)) + 1
            question = read_question(ctx, token.content, line + 1, f"{self.step_id}-q{number}", when or ALWAYS)
            if question is not None and when is not None:
                self.blocks.append(question)
            return
        if lang not in COMMAND_LANGUAGES:
            extra = set(attrs) - set(WHERE_ATTRIBUTES)
            if extra:
                ctx.error(line, f"attributes on a '{lang or 'plain'}' block have no meaning; commands use ```sh")
            if when is not None:
                self.blocks.append(Prose(ctx.source(*token.map).rstrip("\n"), line, when))
            return
        for key in attrs:
            if key not in COMMAND_ATTRIBUTES:
                known = ", ".join(sorted(COMMAND_ATTRIBUTES))
                ctx.error(line, f"unknown command attribute '{key}'; known: {known}")
        if "cleanup" in attrs and (outer is None or not outer.always or any(k in attrs for k in WHERE_ATTRIBUTES)):
            ctx.error(line, "cleanup runs wherever the lesson is reset: it cannot be only for a backend or platform")
        commands = read_commands(ctx, token.content, line + 1, attrs, self.step_id, when or ALWAYS)
        if "cleanup" in attrs:
            self.cleanup.extend(commands)
        elif commands and when is not None:
            self.blocks.append(CommandBlock(tuple(commands), line, when))

    def checks_block(self, token: Token, lang: str, attrs: dict[str, str], outer: When | None) -> None:
        ctx = self.ctx
        line = _line(token)
        if lang not in ("yaml", "yml", ""):
            ctx.error(line, "a checks block is YAML: write ```yaml {checks}")
        extra = set(attrs) - {"checks"}
        if extra:
            ctx.error(line, f"a checks block takes no other attributes (got {', '.join(sorted(extra))})")
        if outer is None or not outer.always:
            ctx.error(line, "checks apply everywhere: keep the checks block outside '::: only'")
        self.checks_blocks += 1
        self.checks.extend(read_checks(ctx, token.content, line + 1))


def stray_marker(ctx: ParseContext, token: Token) -> None:
    """A `:::` line that opens or closes nothing (it was read as text): say what is wrong."""
    if token.map is None:
        return
    for offset, text in enumerate(ctx.lines[token.map[0] : token.map[1]]):
        stripped = text.strip()
        if not stripped.startswith(":::"):
            continue
        line = token.map[0] + offset + 1
        rest = stripped.lstrip(":").strip()
        if not rest:
            ctx.error(line, "':::' here closes no step")
        else:
            name = rest.split()[0]
            ctx.error(line, f"unknown block '::: {name}'; the blocks are '::: step' and '::: only'")


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 1


def _matching_close(tokens: list[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index].type.startswith("container_") and tokens[index].type.endswith("_open"):
            depth += 1
        elif tokens[index].type.startswith("container_") and tokens[index].type.endswith("_close"):
            depth -= 1
            if depth == 0:
                return index
    return len(tokens)


def _unquote(text: str) -> str:
    """A `> [!TIP]` blockquote's text, without the markers (and the attributes after [!TIP])."""
    lines = [re.sub(r"^\s*>\s?", "", raw) for raw in text.splitlines()]
    if lines and re.match(r"^\s*\[!TIP\]", lines[0], re.IGNORECASE):
        lines = lines[1:]
    return "\n".join(lines).strip()


def _merge_prose(blocks: list[Block]) -> list[Block]:
    """Adjacent prose slices shown in the same places become one, so a view renders whole
    paragraphs and lists."""
    merged: list[Block] = []
    for block in blocks:
        previous = merged[-1] if merged else None
        if isinstance(block, Prose) and isinstance(previous, Prose) and previous.when == block.when:
            merged[-1] = Prose(previous.markdown + "\n\n" + block.markdown, previous.line, previous.when)
        else:
            merged.append(block)
    return merged
