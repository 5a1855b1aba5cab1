"""`python -m tutor.sandbox.minikube ...`: what the sandbox's `minikube` shim runs."""

import sys

from tutor.sandbox.minikube.cli import main

raise SystemExit(main(sys.argv[1:]))
