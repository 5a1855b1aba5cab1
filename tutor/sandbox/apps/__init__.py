"""Workload stand-ins: HTTP servers that play the part of an image's program, one per running pod."""
