"""Workload stand-ins: HTTP servers playing an image's program, one per running pod."""
