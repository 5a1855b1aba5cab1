"""A step's ```` ```sh ```` block: command lines, with the block's attributes applied to each."""

from __future__ import annotations

from tutor.lesson import commandline, reach, schema
from tutor.lesson.model import Command
from tutor.lesson.parse_context import ParseContext
from tutor.lesson.place import When

ATTRIBUTES = {
    "background",
    "id",
    "ready",
    "manual",
    "timeout",
    "ok",
    "cleanup",
    "ask",
    "port",
    "backend",
    "platform",
    *reach.SILENCES,
}


def read_commands(
    ctx: ParseContext, content: str, first_line: int, attrs: dict[str, str], step_id: str, when: When
) -> list[Command]:
    """The commands of a block whose first line is file line `first_line` (its fence is the
    line before). `when`: where the block runs, for the background commands' records."""
    fence = first_line - 1
    try:
        lines = commandline.split_block(content)
    except commandline.BadCommandLine as err:
        ctx.error(first_line + err.line, str(err))
        return []
    background = "background" in attrs
    if background and len(lines) != 1:
        ctx.error(fence, "a background block holds exactly one command")
    if "ask" in attrs and "cleanup" not in attrs:
        ctx.error(fence, "'ask' is for cleanup blocks ({cleanup ask=\"...\"})")
    if not background:
        for key in ("id", "ready", "port"):
            if key in attrs:
                ctx.error(fence, f"'{key}' is for background commands ({{background {key}=...}})")
    if background and ("manual" in attrs or "cleanup" in attrs):
        ctx.error(fence, "a background command cannot also be manual or cleanup")
    ready = attrs.get("ready")
    if ready is not None:
        problem = schema.regex(ready)
        if problem:
            ctx.error(fence, f"'ready' {problem}")
            ready = None
    timeout = ctx.timeout(attrs, fence, "command")
    ok_exit: tuple[int, ...] = (0,)
    if "ok" in attrs:
        try:
            ok_exit = tuple(int(code) for code in attrs["ok"].split(","))
        except ValueError:
            ctx.error(fence, f"'ok' must list exit statuses like \"0,1\", not {attrs['ok']!r}")
    port = attrs.get("port") if background else None
    if port is not None and not ctx.valid_port(port, fence):
        port = None
    process_id = attrs.get("id")
    if background:
        process_id = process_id or f"{step_id}-{len(ctx.process_ids) + 1}"
        if process_id in ctx.process_ids:
            first = ctx.process_ids[process_id][0]
            ctx.error(fence, f"duplicate background id '{process_id}' (first used on line {first})")
        ctx.process_ids.setdefault(process_id, (fence, when))
    silences = ctx.silences(attrs, fence, "on the block")
    result = []
    for cmd in lines:
        cmd_line = first_line + cmd.offset
        ctx.check_variables(cmd.argv, cmd_line)
        ctx.check_manifest_paths(cmd.argv, cmd_line)
        ctx.check_reach(cmd.argv, (), cmd_line, silences, "on the block")
        result.append(
            Command(
                argv=cmd.argv,
                line=cmd_line,
                text=cmd.text,
                background=background,
                id=process_id,
                ready=ready,
                manual="manual" in attrs,
                timeout=timeout,
                ok_exit=ok_exit,
                ask=attrs.get("ask"),
                port=port,
            )
        )
    ctx.unused_silences(silences, fence)
    return result
