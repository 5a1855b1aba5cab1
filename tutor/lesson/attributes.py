"""Attribute lists in braces, as written after a fence's language or a `::: step`.

`{#start title="Start the cluster" timeout=600}` and `{background id=pf ready="Forwarding from"}`:
`#id`, `key=value`, `key="quoted value"` (with `\\"` inside), and bare flags
(`background`, `manual`), which read as "true".
"""

from __future__ import annotations

import re


class BadAttributes(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
        \#(?P<id>[A-Za-z0-9_][-A-Za-z0-9_.]*)
      | (?P<key>[A-Za-z_][-A-Za-z0-9_]*)
        (?:\s*=\s*(?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'}]+)))?
    )""",
    re.VERBOSE,
)


def split_info(info: str) -> tuple[str, str | None]:
    """`sh {background}` -> ("sh", "{background}"); the attributes part is None if absent."""
    info = info.strip()
    brace = info.find("{")
    if brace < 0:
        return info, None
    return info[:brace].strip(), info[brace:]


def parse(text: str) -> dict[str, str]:
    """Parse `{...}`; raises BadAttributes naming the column of the trouble."""
    text = text.strip()
    if not text.startswith("{"):
        raise BadAttributes('attributes must be written in braces, like {#id title="..."}')
    if not text.endswith("}"):
        raise BadAttributes(f"attributes {text!r} are not closed with '}}'")
    body = text[1:-1]
    result: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        match = _TOKEN.match(body, pos)
        if not match or match.end() == pos:
            raise BadAttributes(f"cannot read attributes {text!r} at character {pos + 2}")
        if match.group("id"):
            key, value = "id", match.group("id")
        else:
            key = match.group("key")
            if match.group("dq") is not None:
                value = re.sub(r"\\(.)", r"\1", match.group("dq"))
            elif match.group("sq") is not None:
                value = match.group("sq")
            elif match.group("bare") is not None:
                value = match.group("bare")
            else:
                value = "true"
        if key in result:
            raise BadAttributes(f"attribute '{key}' is given twice in {text!r}")
        result[key] = value
        pos = match.end()
        if pos < len(body) and not body[pos].isspace():
            raise BadAttributes(f"cannot read attributes {text!r} at character {pos + 2}")
    return result
