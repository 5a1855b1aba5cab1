"""`kubectl port-forward` against the sandbox: listens on loopback, relays to a pod's server.

The sandbox's API server cannot serve `pods/portforward` (real kubectl needs the
SPDY/WebSocket upgrade there), so the `kubectl` shim sends `port-forward` here. It does
what kubectl does, with kubectl's output:

- resolves `svc/NAME`, `deploy/NAME`, `pod/NAME` or `NAME` in `-n NS` (or the context's
  namespace) to one Running pod, waiting up to `--pod-running-timeout`, and maps a
  Service port to its target port (`9090:80` on svc/pacman forwards to 8080);
- listens on 127.0.0.1 and ::1 (`--address` may name other loopback addresses only)
  and prints `Forwarding from 127.0.0.1:9090 -> 8080`;
- prints `Handling connection for 9090` per connection and relays the bytes to the
  pod's stand-in server; a port nothing serves gives kubectl's per-connection error;
- stays pinned to that pod: when it stops running, `error: lost connection to pod`
  and exit 1, as kubectl does.

When the command is not a port-forward, or the context is not the sandbox's, the real
kubectl runs instead, with the same arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import ipaddress
import os
import re
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from tutor.sandbox import kubectx, shims
from tutor.sandbox.control_client import (
    ControlAddress,
    ControlError,
    SandboxUnreachable,
    call,
    stream,
)
from tutor.sandbox.relay import relay

# kubectl's global flags that take a value (`--flag value` or `--flag=value`).
_VALUE_FLAGS = {
    "--kubeconfig",
    "--context",
    "--cluster",
    "--user",
    "-n",
    "--namespace",
    "-s",
    "--server",
    "--token",
    "--as",
    "--as-group",
    "--as-uid",
    "--certificate-authority",
    "--client-certificate",
    "--client-key",
    "--request-timeout",
    "--tls-server-name",
    "-v",
    "--v",
    "--vmodule",
    "--log-file",
    "--log-dir",
    "--profile",
    "--profile-output",
    "--cache-dir",
    "--password",
    "--username",
    "--log-flush-frequency",
    "--log-file-max-size",
    "--kuberc",
    # port-forward's own
    "--address",
    "--pod-running-timeout",
}

USAGE_HINT = "See 'kubectl port-forward -h' for help and examples"


class Usage(Exception):
    pass


@dataclass
class Request:
    target: str = ""
    ports: list[tuple[str, str]] = field(default_factory=list)
    namespace: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    addresses: list[str] = field(default_factory=list)
    timeout: float = 60.0


def split_command(argv: Sequence[str]) -> tuple[str | None, dict[str, list[str]], list[str]]:
    """(the kubectl subcommand, flag values, positional words after it)."""
    flags: dict[str, list[str]] = {}
    words: list[str] = []
    i = 0
    while i < len(argv):
        item = argv[i]
        if item == "--":
            words.extend(argv[i + 1 :])
            break
        if item.startswith("-") and len(item) > 1:
            name, eq, value = item.partition("=")
            if name in _VALUE_FLAGS and not eq:
                i += 1
                value = argv[i] if i < len(argv) else ""
            elif name.startswith("-n") and not name.startswith("--") and len(name) > 2:
                name, value = "-n", name[2:]
            flags.setdefault(name, []).append(value)
        else:
            words.append(item)
        i += 1
    if not words:
        return None, flags, []
    return words[0], flags, words[1:]


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration, for `--pod-running-timeout=1m30s`."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * units[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise Usage(f'invalid argument "{text}" for "--pod-running-timeout" flag: time: invalid duration "{text}"')
    return total


def last(flags: dict[str, list[str]], *names: str) -> str | None:
    """The last value given for any of `names`, as kubectl's flag parsing keeps it."""
    values = [v for name in names for v in flags.get(name, [])]
    return values[-1] if values else None


def parse_request(flags: dict[str, list[str]], words: list[str]) -> Request:
    request = Request()
    if len(words) < 2:
        raise Usage("TYPE/NAME and list of ports are required for port-forward")
    request.target = words[0]
    for spec in words[1:]:
        local, sep, remote = spec.partition(":")
        if not sep:
            local, remote = spec, spec
        if local and not (local.isdigit() and int(local) < 65536):
            raise Usage(f"Error parsing local port '{local}': strconv.ParseUint: parsing \"{local}\": invalid syntax")
        if not remote:
            raise Usage(f"Error parsing remote port '{remote}': strconv.ParseUint: parsing \"\": invalid syntax")
        if remote.isdigit() and int(remote) > 65535:
            raise Usage(
                f"Error parsing remote port '{remote}': strconv.ParseUint: parsing \"{remote}\": value out of range"
            )
        request.ports.append((local, remote))
    request.namespace = last(flags, "-n", "--namespace")
    request.kubeconfig = last(flags, "--kubeconfig")
    request.context = last(flags, "--context")
    for value in flags.get("--address", []):
        request.addresses += [a.strip() for a in value.split(",") if a.strip()]
    if "--pod-running-timeout" in flags:
        request.timeout = parse_duration(flags["--pod-running-timeout"][-1])
    return request


def listen_addresses(requested: list[str]) -> list[tuple[str, int]]:
    """(host, family) pairs to bind, kubectl-style: `localhost` means 127.0.0.1 and ::1."""
    if not requested:
        requested = ["localhost"]
    out: list[tuple[str, int]] = []
    for text in requested:
        if text == "localhost":
            out.append(("127.0.0.1", socket.AF_INET))
            if socket.has_ipv6:
                out.append(("::1", socket.AF_INET6))
            continue
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            raise Usage(f"{text} is not a valid IP") from None
        if not ip.is_loopback:
            # Never listen beyond this machine: the sandbox's rule, not kubectl's.
            raise Usage(
                f"sandbox: kubectl port-forward listens on loopback addresses only here; refusing --address {text}"
            )
        out.append((str(ip), socket.AF_INET6 if ip.version == 6 else socket.AF_INET))
    # kubectl sorts its listeners by address string.
    return sorted(dict.fromkeys(out), key=lambda a: a[0])


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _klog_error(message: str) -> None:
    now = datetime.datetime.now()
    sys.stderr.write(f"E{now:%m%d %H:%M:%S.%f} {os.getpid():7d} portforward.go:424] {message}\n")
    sys.stderr.flush()


def _print(text: str) -> None:
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass


class Forwarder:
    def __init__(self, address: ControlAddress, pod: dict[str, str], pairs: list[tuple[int, int]]) -> None:
        self.address = address
        self.pod = pod
        self.pairs = pairs
        self.backends: dict[int, int] = {}
        self.servers: list[asyncio.AbstractServer] = []
        self.lost = asyncio.Event()
        #: Set once the pod's current ports are known: only then may connections come in.
        self.ready = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()

    async def listen(self, hosts: list[tuple[str, int]]) -> bool:
        any_port = False
        for i, (local, remote) in enumerate(self.pairs):
            errors: list[str] = []
            bound = 0
            for host, family in hosts:
                try:
                    server = await asyncio.start_server(
                        functools.partial(self._connection, index=i),
                        host=host,
                        port=local,
                        family=family,
                        reuse_address=True,
                    )
                except OSError as error:
                    proto = "tcp6" if family == socket.AF_INET6 else "tcp4"
                    reason = os.strerror(error.errno).lower() if error.errno else str(error)
                    errors.append(
                        f"unable to create listener: Error listen {proto} {_hostport(host, local)}: bind: {reason}"
                    )
                    continue
                if local == 0:
                    local = int(server.sockets[0].getsockname()[1])
                    self.pairs[i] = (local, remote)
                self.servers.append(server)
                bound += 1
                _print(f"Forwarding from {_hostport(host, local)} -> {remote}")
            if errors:
                sys.stderr.write(
                    f"Unable to listen on port {local}: Listeners failed to create with the "
                    f"following errors: [{' '.join(errors)}]\n"
                )
                sys.stderr.flush()
            any_port = any_port or bound > 0
        return any_port

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int) -> None:
        # Read at connection time: a random local port (`:8080`) is known only once bound.
        local, remote = self.pairs[index]
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        _print(f"Handling connection for {local}")
        backend = self.backends.get(remote)
        try:
            if backend is None:
                raise ConnectionRefusedError
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
        except OSError:
            uid = self.pod["uid"]
            _klog_error(
                f"an error occurred forwarding {local} -> {remote}: error forwarding port "
                f"{remote} to pod {uid}, "
                f'uid : failed to connect to localhost:{remote} inside namespace "{uid}", IPv4: '
                "dial tcp4 "
                f"127.0.0.1:{remote}: connect: connection refused IPv6 dial tcp6 [::1]:{remote}: "
                "connect: connection refused "
            )
            writer.close()
            return
        try:
            await relay(reader, writer, up_reader, up_writer)
        finally:
            if task is not None:
                self.tasks.discard(task)

    async def follow_pod(self) -> None:
        """Keep the pod's backend ports current; set `lost` when the pod stops running."""
        try:
            async for event in stream(self.address, "/v1/portforward/watch", self.pod):
                if "ports" in event:
                    self.backends = {int(k): int(v) for k, v in event["ports"].items()}
                    self.ready.set()
                if event.get("gone"):
                    break
        except ControlError:
            pass
        self.lost.set()
        self.ready.set()

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for task in list(self.tasks):
            task.cancel()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()


async def forward(address: ControlAddress, request: Request, namespace: str) -> int:
    loop = asyncio.get_running_loop()
    try:
        answer = await loop.run_in_executor(
            None,
            lambda: call(
                address,
                "POST",
                "/v1/portforward/resolve",
                {
                    "namespace": namespace,
                    "target": request.target,
                    "ports": request.ports,
                    "timeout": request.timeout,
                },
                timeout=request.timeout + 30,
            ),
        )
    except SandboxUnreachable:
        sys.stderr.write(
            "error: the k8s-tutor sandbox this kubectl belongs to is not running (its kubeconfig "
            "context still points to it)\n"
        )
        return 1
    except ControlError as error:
        message = str(error)
        sys.stderr.write(
            (message if message.startswith(("Error from server", "The connection")) else f"error: {message}") + "\n"
        )
        return 1
    hosts = listen_addresses(request.addresses)
    fwd = Forwarder(address, answer["pod"], [(int(a), int(b)) for a, b in answer["ports"]])
    follower = asyncio.create_task(fwd.follow_pod())
    stop = asyncio.Event()
    exit_code = 0

    def on_signal(code: int) -> None:
        nonlocal exit_code
        exit_code = code
        stop.set()

    loop.add_signal_handler(signal.SIGINT, on_signal, 0)
    loop.add_signal_handler(signal.SIGTERM, on_signal, 143)
    loop.add_signal_handler(signal.SIGHUP, on_signal, 129)
    try:
        await fwd.ready.wait()
        if fwd.lost.is_set():
            sys.stderr.write("error: lost connection to pod\n")
            return 1
        if not await fwd.listen(hosts):
            specs = " ".join(f"{{{local} {remote}}}" for local, remote in fwd.pairs)
            sys.stderr.write(f"error: unable to listen on any of the requested ports: [{specs}]\n")
            return 1
        lost = asyncio.create_task(fwd.lost.wait())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({lost, stopped}, return_when=asyncio.FIRST_COMPLETED)
        for t in (lost, stopped):
            t.cancel()
        if fwd.lost.is_set() and not stop.is_set():
            sys.stderr.write("error: lost connection to pod\n")
            return 1
        return exit_code
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await fwd.close()
        sys.stderr.flush()


def exec_real_kubectl(argv: Sequence[str]) -> int:
    """Replace this process with the real kubectl; returns only when there is none."""
    real = shims.real_kubectl()
    if real is None:
        sys.stderr.write("kubectl: command not found (the k8s-tutor sandbox's shim found no real kubectl on PATH)\n")
        return 127
    sys.stdout.flush()
    os.execv(real, ["kubectl", *argv])


def main(argv: Sequence[str]) -> int:
    command, flags, words = split_command(argv)
    if command != "port-forward" or "-h" in flags or "--help" in flags:
        return exec_real_kubectl(argv)
    try:
        context = kubectx.load(last(flags, "--kubeconfig"), last(flags, "--context"))
    except kubectx.KubeconfigError:
        return exec_real_kubectl(argv)
    address = ControlAddress.from_env()
    if not context.is_sandbox or address is None:
        return exec_real_kubectl(argv)
    try:
        request = parse_request(flags, words)
        listen_addresses(request.addresses)
    except Usage as error:
        sys.stderr.write(f"error: {error}\n")
        if "required" in str(error):
            sys.stderr.write(USAGE_HINT + "\n")
        return 1
    namespace = request.namespace or context.namespace
    try:
        return asyncio.run(forward(address, request, namespace))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
