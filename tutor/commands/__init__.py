"""The CLI's commands: one module each, each with a typed options dataclass and a `run`.

`tutor.cli` parses the command line into one of these options and calls the command's
`run`; nothing else happens in the CLI. What the commands share lives here once: the
exit statuses (`exit_codes`), finding lessons (`lessons`), the cluster and variable
options (`options`) and reaching the lesson's cluster through the guard (`cluster`).
A command imports what is heavy (the kubernetes client, Textual, the sandbox) only
when it runs, so `--version`, `list` and `lint` stay fast.
"""
