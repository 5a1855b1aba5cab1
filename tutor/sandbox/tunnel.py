"""`minikube tunnel` for the sandbox: the Ingress on 127.0.0.1, as minikube's KIC tunnel serves it.

On macOS, Windows and WSL2 (docker driver) minikube's tunnel forwards 127.0.0.1:80 to
the ingress controller on the node, and gives LoadBalancer Services the address
127.0.0.1. This does the same against the sandbox: it relays 127.0.0.1:PORT to the
ingress controller stand-in (`tutor.sandbox.ingress_router`), and while it runs the
sandbox marks LoadBalancer Services with 127.0.0.1 (cleared when it stops).

PORT is 80 when the sandbox could bind it at start (root), and otherwise the fallback
port the sandbox chose then (18080 unless configured), which the tutor learns through
the kubeconfig extension; the tunnel says plainly which one it uses. One tunnel per
profile: the sandbox holds the lock for as long as this process's connection lives, so
a killed tunnel never leaves a stale lock behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal

from tutor.sandbox.control_client import ControlAddress, ControlError, SandboxUnreachable, stream
from tutor.sandbox.minikube.output import Printer
from tutor.sandbox.relay import relay

EX_SVC_ERROR = 110


class Tunnel:
    def __init__(self, address: ControlAddress, profile: str, out: Printer) -> None:
        self.address = address
        self.profile = profile
        self.out = out
        self.router_port = 0
        self.port = 0
        self.server: asyncio.AbstractServer | None = None
        self.ingresses: list[str] = []
        self.connections: set[asyncio.Task[None]] = set()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.router_port)
        except OSError:
            # No ingress controller behind the node's port 80: the client's connection drops.
            writer.transport.abort()
            return
        try:
            await relay(reader, writer, up_reader, up_writer)
        finally:
            if task is not None:
                self.connections.discard(task)

    async def _serve(self, name: str, port: int, reason: str) -> bool:
        """Start serving the ingress port on the first Ingress; False if it cannot be bound."""
        if reason == "unprivileged":
            self.out.step(
                "sandbox",
                "sandbox: ports below 1024 need root here; the Ingress is served on "
                f"127.0.0.1:{port} instead of 127.0.0.1:80",
            )
        elif port != 80:
            self.out.step(
                "sandbox",
                f"sandbox: the Ingress is served on 127.0.0.1:{port}, the port this sandbox "
                "was started with, instead of 127.0.0.1:80",
            )
        try:
            self.server = await asyncio.start_server(self._relay, "127.0.0.1", port, reuse_address=True)
        except OSError as error:
            if error.errno == errno.EACCES:
                self.out.warn(
                    "warning",
                    f"The service/ingress {name} requires privileged ports to be exposed: [80 443]",
                )
                self.out.exiting(
                    "SVC_TUNNEL_START",
                    "sandbox: this process may not bind 127.0.0.1:80. Restart the sandbox as the "
                    "same user as the "
                    "tunnel (it then picks a port above 1024), or run the tunnel as root.",
                )
            else:
                self.out.exiting(
                    "SVC_TUNNEL_START",
                    f"error starting tunnel: bind [127.0.0.1]:{port}: {error.strerror or error}: "
                    "another program holds this port; stop it, or start the sandbox with another "
                    "ingress port",
                )
            return False
        self.port = port
        return True

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        events = stream(self.address, "/v1/tunnel", {"profile": self.profile})
        try:
            first = await events.__anext__()
        except StopAsyncIteration:
            self.out.exiting("SVC_TUNNEL_START", "error starting tunnel: the sandbox closed the connection")
            return EX_SVC_ERROR
        except SandboxUnreachable:
            raise
        except ControlError as error:
            self.out.exiting("SVC_TUNNEL_START", f"error starting tunnel: {error}")
            return EX_SVC_ERROR
        self.router_port = int(first["router_port"])
        port = int(first["ingress_port"])
        reason = str(first.get("reason", ""))
        self.out.step("success", "Tunnel successfully started")
        self.out.line("")
        self.out.step(
            "notice",
            "NOTE: Please do not close this terminal as this process must stay alive for the "
            "tunnel to be accessible ...",
        )
        self.out.line("")
        code = 0

        async def follow() -> None:
            nonlocal code
            async for event in events:
                if "ingress" in event:
                    name = str(event["ingress"])
                    if self.server is None and not await self._serve(name, port, reason):
                        code = EX_SVC_ERROR
                        break
                    self.ingresses.append(name)
                    self.out.step("starting_ssh", f"Starting tunnel for service {name}.")
                elif "service" in event:
                    self.out.step(
                        "sandbox",
                        f"sandbox: LoadBalancer service {event['service']} gets EXTERNAL-IP "
                        "127.0.0.1; "
                        "its port is not forwarded (only the Ingress is served)",
                    )
            else:
                if not stop.is_set():
                    self.out.exiting("SVC_TUNNEL_START", "sandbox: the sandbox stopped; the tunnel ends with it")
                    code = EX_SVC_ERROR

        follower = asyncio.create_task(follow())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({follower, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, ControlError):
            await follower
        with contextlib.suppress(Exception):
            await events.aclose()
        if stop.is_set():
            for name in self.ingresses:
                self.out.step("stopping", f"Stopping tunnel for service {name}.")
        if self.server is not None:
            self.server.close()
            for task in list(self.connections):
                task.cancel()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()
        return code


def run(address: ControlAddress, profile: str, out: Printer) -> int:
    try:
        return asyncio.run(Tunnel(address, profile, out).run())
    except KeyboardInterrupt:
        return 0
