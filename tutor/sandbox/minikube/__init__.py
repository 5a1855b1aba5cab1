"""The minikube stand-in: `cli` runs in the learner's shell, `cluster` and `addons` in the sandbox."""
