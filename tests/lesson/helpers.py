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


MARK = """\
---
id: mark
title: Leave a mark
requires: []
---

::: step {#touch title="Touch a file"}
```sh
touch ran-a-command
```

> [!TIP]
> Touch it.

```yaml {checks}
- kind: command
  run: touch ran-a-check
```
:::

::: step {#more title="Nothing more"}
```sh
echo nothing more
```

> [!TIP]
> Nothing.

```yaml {checks}
- kind: command
  run: "true"
```

```sh {cleanup}
touch ran-a-cleanup
```
:::
"""
"""A lesson whose every command leaves a file named after it in the working folder."""


def write_lesson(folder: Path, text: str, name: str = "demo.md") -> Path:
    """Write a lesson next to an (empty) manifests folder, as the shipped layout has."""
    lessons = folder / "lessons"
    lessons.mkdir(parents=True, exist_ok=True)
    (folder / "manifests").mkdir(exist_ok=True)
    path = lessons / name
    path.write_text(textwrap.dedent(text))
    return path
