"""`k8s-tutor workshop serve | status | export`: the instructor's commands.

    serve    the board and the API for a room of learners, in the foreground until Ctrl+C
    status   the room in the terminal (or as JSON), from a running server
    export   the records of a workshop's database as CSV or JSON

Exit status: 0 done; 1 it could not be done (port in use, server unreachable, wrong
token, unusable database); 2 bad usage. Errors are one line, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
DEFAULT_PORT = 8055
DEFAULT_NAME = "workshop"
TOKEN_ENV = "K8S_TUTOR_WORKSHOP_TOKEN"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Failed(Exception):
    """The command could not do its work: the message says why (exit 1)."""


class _UsageExit(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise _UsageExit


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    name: str = DEFAULT_NAME
    db: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    lesson: str = "day55"
    rotate_token: bool = False


@dataclass(frozen=True)
class StatusOptions:
    url: str
    token: str
    json: bool = False
    cafile: Path | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class ExportOptions:
    db: Path
    format: str
    output: Path | None = None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def _name(text: str) -> str:
    if not _NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r}: a name is letters, digits, '.', '_' and '-' (at most 64)")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"not a number of seconds (0 to 600): {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="k8s-tutor workshop",
        description="Run a workshop: a live board of every learner's progress.",
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    serve = commands.add_parser(
        "serve",
        help="the instructor's server and board",
        description="Serve the workshop board and the API learners send their progress to. It listens "
        "on 127.0.0.1 only unless --host says otherwise; the state is kept in a database, so a "
        "restart with the same --name (or --db) loses nothing.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1: this computer only)"
    )
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"the port (default {DEFAULT_PORT})")
    serve.add_argument("--name", type=_name, default=DEFAULT_NAME, help=f"the workshop's name (default {DEFAULT_NAME})")
    serve.add_argument(
        "--db", type=Path, metavar="PATH", help="the database file (default: per --name, in your data folder)"
    )
    serve.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--tls-key", type=Path, metavar="FILE", help="the certificate's private key (PEM)")
    serve.add_argument("--lesson", type=_name, default="day55", help="the lesson the join line names (default day55)")
    serve.add_argument(
        "--rotate-token", action="store_true", help="replace the instructor token (the old one stops working)"
    )
    status = commands.add_parser(
        "status",
        help="the room, in the terminal",
        description="Show who is where, who is stuck and why, from a running workshop server.",
    )
    status.add_argument("url", help="the server's URL (the board's or the join URL)")
    status.add_argument("--token", help=f"the instructor token (default: ${TOKEN_ENV})")
    status.add_argument("--json", action="store_true", help="the API's room object, as JSON")
    status.add_argument(
        "--cafile", type=Path, metavar="FILE", help="trust this certificate (a self-signed HTTPS server)"
    )
    status.add_argument("--timeout", type=_seconds, default=10.0, help="seconds to wait for an answer (default 10)")
    export = commands.add_parser(
        "export",
        help="a workshop's records as CSV or JSON",
        description="Write every learner's latest state, and when each step was done, to standard output "
        "(or --output). Secrets are never exported.",
    )
    where = export.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", type=Path, metavar="PATH", help="the workshop's database file")
    where.add_argument("--name", type=_name, help="the workshop's name (its database in your data folder)")
    export.add_argument("--format", choices=("csv", "json"), required=True)
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here instead of standard output")
    return top


def main(argv: Sequence[str]) -> int:
    try:
        args = parser().parse_args(list(argv))
    except _UsageExit:
        return EXIT_USAGE
    except SystemExit as done:  # --help
        return int(done.code or 0)
    try:
        match args.command:
            case "serve":
                if (args.tls_cert is None) != (args.tls_key is None):
                    return _usage("--tls-cert and --tls-key go together")
                return serve(
                    ServeOptions(
                        host=args.host,
                        port=args.port,
                        name=args.name,
                        db=args.db,
                        tls_cert=args.tls_cert,
                        tls_key=args.tls_key,
                        lesson=args.lesson,
                        rotate_token=args.rotate_token,
                    )
                )
            case "status":
                token = (args.token or os.environ.get(TOKEN_ENV, "")).strip()
                if not token:
                    return _usage(f"give the instructor token with --token or ${TOKEN_ENV}")
                if not token.isascii() or not token.isprintable() or " " in token:
                    # It travels in a header: a token pasted with a line break would end it early.
                    return _usage("the instructor token is one word of printable characters: copy it again")
                return status(StatusOptions(args.url, token, args.json, args.cafile, args.timeout))
            case "export":
                from tutor.workshop.server.store import default_db

                db = args.db if args.db is not None else default_db(args.name)
                return export(ExportOptions(db, args.format, args.output))
            case _:
                parser().print_usage(sys.stderr)
                sys.stderr.write("k8s-tutor workshop: error: name a command: serve, status or export\n")
                return EXIT_USAGE
    except Failed as err:
        sys.stderr.write(f"k8s-tutor workshop {args.command}: {err}\n")
        return EXIT_FAIL


def _usage(message: str) -> int:
    sys.stderr.write(f"k8s-tutor workshop: error: {message}\n")
    return EXIT_USAGE


def _say(text: str = "") -> None:
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


# --- serve ------------------------------------------------------------------------------


def serve(options: ServeOptions) -> int:
    from tutor.workshop.server.app import Settings
    from tutor.workshop.server.serve import RunningServer, Tls, bind, is_loopback, is_wildcard, one_line_logs
    from tutor.workshop.server.store import Store, StoreError, default_db

    tls = None
    if options.tls_cert is not None and options.tls_key is not None:
        try:
            tls = Tls(options.tls_cert, options.tls_key).context()
        except (OSError, ssl.SSLError) as err:
            raise Failed(f"cannot use the TLS certificate and key: {_reason(err)}") from None
    db = options.db if options.db is not None else default_db(options.name)
    try:
        store, changes = Store.open(db, name=options.name, private_folder=options.db is None)
    except StoreError as err:
        raise Failed(str(err)) from None
    try:
        if options.rotate_token:
            store.rotate_token()
        try:
            sock = bind(options.host, options.port)
        except OSError as err:
            if err.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise Failed(f"port {options.port} on {options.host} is in use (another server? try --port)") from None
            raise Failed(f"cannot listen on {options.host}:{options.port}: {_reason(err)}") from None
        scheme = "https" if tls else "http"
        port = int(sock.getsockname()[1])
        hosts = _advertised_hosts(options.host) if is_wildcard(options.host) else [options.host]
        bases = [f"{scheme}://{_url_host(host)}:{port}" for host in hosts] or [f"{scheme}://HOST:{port}"]
        settings = Settings(lesson=options.lesson, public_url=bases[0])
        server = RunningServer(store, sock, settings=settings, tls=tls)
        one_line_logs()
        for change in changes:
            _say(f"k8s-tutor workshop: {change}")
        _banner(store, options, bases, db, loopback=is_loopback(options.host))
        asyncio.run(_run_until_signal(server))
        _say("k8s-tutor workshop: stopped; the state is kept: the same command resumes it.")
        return EXIT_OK
    finally:
        store.close()


def _banner(store: Any, options: ServeOptions, bases: list[str], db: Path, *, loopback: bool) -> None:
    joined = len(store.learners)
    _say(f"Workshop {store.name}: {joined} learner{'s' if joined != 1 else ''} so far; its state is in {db}")
    if not loopback:
        _say("")
        _say(f"WARNING: listening on {options.host}: anyone on that network who has the join code can join,")
        _say("and anyone who has the instructor token can see every learner. Share the join line only in the room.")
    _say("")
    _say("Learners join with:")
    for base in bases:
        _say(f"  k8s-tutor {options.lesson} --workshop {base}/{store.join_code}")
    if bases[0].startswith("http://HOST") or bases[0].startswith("https://HOST"):
        _say("  (replace HOST with this computer's address on the room's network)")
    _say("")
    _say(f"Board: {bases[0]}/board#token={store.instructor_token}")
    _say(f"instructor token: {store.instructor_token}")
    if loopback:
        _say("")
        _say("Only this computer can reach it. To open it to the room: --host ADDRESS (this computer's address there).")
    _say("")
    _say("Ctrl+C stops it; the state is kept.")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _advertised_hosts(host: str) -> list[str]:
    """This computer's own non-loopback IPv4 addresses, read from its interfaces (Linux);
    nothing is sent anywhere to find them."""
    if not sys.platform.startswith("linux"):
        return []
    import fcntl

    found: list[str] = []
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))  # SIOCGIFADDR
            except OSError:
                continue
        address = socket.inet_ntoa(packed[20:24])
        if not ipaddress.ip_address(address).is_loopback and address not in found:
            found.append(address)
    return found


async def _run_until_signal(server: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()


# --- status -----------------------------------------------------------------------------


def status(options: StatusOptions) -> int:
    from tutor.workshop.http import BadUrl, JsonHttp, Unreachable, WorkshopUrl
    from tutor.workshop.status import room_lines

    try:
        url = WorkshopUrl.parse(options.url, join=False)
    except BadUrl as err:
        return _usage(str(err))
    tls = None
    if options.cafile is not None:
        try:
            tls = ssl.create_default_context(cafile=str(options.cafile))
        except (OSError, ssl.SSLError) as err:
            raise Failed(f"cannot read {options.cafile}: {_reason(err)}") from None
    http = JsonHttp(url, timeout=options.timeout, tls=tls)
    try:
        reply = http.request("GET", "/api/v1/room", token=options.token)
    except Unreachable as err:
        raise Failed(f"no answer from {url.base}: {err}") from None
    finally:
        http.close()
    if reply.status in (401, 403):
        raise Failed(f"{url.base} refused the token ({reply.error_code}): {reply.error_message}")
    if not reply.ok or not isinstance(reply.data, dict) or reply.data.get("api") != 1:
        raise Failed(f"{url.base} did not answer as a k8s-tutor workshop server (HTTP {reply.status})")
    if options.json:
        _say(json.dumps(reply.data, indent=2))
    else:
        for line in room_lines(reply.data):
            _say(line)
    return EXIT_OK


# --- export -----------------------------------------------------------------------------


def export(options: ExportOptions) -> int:
    from tutor.workshop.server.export import export_csv, export_json
    from tutor.workshop.server.store import Store, StoreError

    try:
        store = Store.open_readonly(options.db)
    except StoreError as err:
        raise Failed(str(err)) from None
    try:
        now = time.time()
        text = (
            export_csv(store, now) if options.format == "csv" else json.dumps(export_json(store, now), indent=2) + "\n"
        )
    finally:
        store.close()
    if options.output is None:
        with contextlib.suppress(BrokenPipeError):
            sys.stdout.write(text)
            sys.stdout.flush()
        return EXIT_OK
    try:
        options.output.write_text(text, encoding="utf-8")
    except OSError as err:
        raise Failed(f"cannot write {options.output}: {_reason(err)}") from None
    return EXIT_OK


def _reason(err: BaseException) -> str:
    if isinstance(err, ssl.SSLError):
        return str(err.reason or err)
    if isinstance(err, OSError) and err.strerror:
        return err.strerror + (f": {err.filename}" if err.filename else "")
    return str(err)
