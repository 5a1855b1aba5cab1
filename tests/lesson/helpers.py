from __future__ import annotations

import textwrap
from pathlib import Path

MINIMAL = """\
---
id: demo
title: Demo lesson
namespace: web
variables:
  port: 8080
---

Intro text.

::: step {#first title="First step"}
Run this:

```sh
kubectl get pods -n {namespace}
```

> [!TIP]
> Look at the pods.

```yaml {checks}
- kind: exists
  object: deployment/web
```
:::
"""


def write_lesson(folder: Path, text: str, name: str = "demo.md") -> Path:
    """Write a lesson next to an (empty) manifests folder, as the shipped layout has."""
    lessons = folder / "lessons"
    lessons.mkdir(parents=True, exist_ok=True)
    (folder / "manifests").mkdir(exist_ok=True)
    path = lessons / name
    path.write_text(textwrap.dedent(text))
    return path
