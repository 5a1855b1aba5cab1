"""A lesson with questions, for the session's and plain mode's tests: step one asks a question
that holds nothing up, and its command also does step two's work (step two is done when it
comes, as day55's volumes step is); step three waits for the answer to its question."""

QUIZ = """\
---
id: quiz
title: Questions
namespace: shop
---

::: step {#one title="Deploy the shop" timeout=2}
```sh
deploy do:one do:two
```

```yaml {question}
id: which
ask: Which namespace does the shop run in?
choices:
  - text: "{namespace}"
    correct: true
    why: The lesson's namespace is {namespace}.
  - text: default
    why: Not this time.
```

```yaml {checks}
- kind: exists
  object: deployment/one
```
:::

::: step {#two title="Look at what it made" timeout=2}
The deployment above already made this.

```sh
look at two
```

```yaml {checks}
- kind: exists
  object: deployment/two
```
:::

::: step {#three title="Three" timeout=2}
```sh
tool do:three
```

```yaml {question}
id: gate
ask: Type the word.
answer: Gate
why: That is the word.
wrong:
  door: Close, but no.
otherwise: Look again.
blocking: true
```

```yaml {checks}
- kind: exists
  object: deployment/three
```
:::
"""
