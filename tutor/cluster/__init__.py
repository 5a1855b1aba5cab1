"""The cluster layer: kubeconfig and context guard, watch cache, checks, diagnosis."""
