"""The run layer: commands as processes (sh), with no UI and no cluster knowledge."""
