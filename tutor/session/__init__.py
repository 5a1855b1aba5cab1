"""The lesson session: the UI-agnostic engine that runs a lesson against a cluster."""
