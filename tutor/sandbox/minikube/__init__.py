"""The minikube stand-in: `cli` runs in the learner's shell; `cluster`, `addons` in the sandbox."""
