"""`trueorigin scan` as a user runs it: bad input, credentials that must never leak, resume after SIGKILL.

Servers are real sockets on random 127.x.y.0/24 addresses, run in a background thread; the scanner runs
as a separate process through the real CLI, with the real probe modules and identification.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trueorigin.cli import app
from trueorigin.errors import InputError
from trueorigin.scan.cli import parse_ports
from trueorigin.store import open_store

CLI = "import sys; from trueorigin.cli import main; sys.argv[0] = 'trueorigin'; main()"


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def cli_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def loopback_block() -> str:
    return f"127.{random.randint(64, 250)}.{random.randint(1, 250)}"


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class BackgroundServers:
    """asyncio servers on their own loop in a thread, so a subprocess scanner can reach them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers: list[asyncio.Server] = []

    def add(self, address: str, port: int, handler: Handler) -> None:
        future = asyncio.run_coroutine_threadsafe(asyncio.start_server(handler, address, port), self.loop)
        self.servers.append(future.result(10))

    def close(self) -> None:
        for server in self.servers:
            self.loop.call_soon_threadsafe(server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def servers() -> Iterator[BackgroundServers]:
    background = BackgroundServers()
    try:
        yield background
    finally:
        background.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["8.8.8.8"], "allow-public", id="public-target"),
        pytest.param(["239.255.255.250"], "multicast", id="multicast-target"),
        pytest.param(["10.0.0.0/8"], "max-hosts", id="too-many-hosts"),
        pytest.param(["198.18.0.1", "--ports", "0-5"], "outside", id="bad-ports"),
        pytest.param(["198.18.0.1", "--json", "--csv"], "one of", id="two-formats"),
        pytest.param([], "at least one target", id="no-targets"),
        pytest.param(["--resume", "nope"], "no scan", id="unknown-resume"),
        pytest.param(["not a target!"], "not an address", id="garbage-target"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    # in-process (same Typer app as the console script) to keep the suite fast
    result = CliRunner().invoke(app, ["scan", *args, "--db", f"sqlite:///{tmp_path / 's.db'}", "--timeout", "0.2"])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("80", (80,), id="one"),
        pytest.param("443,80,80", (80, 443), id="deduplicated-sorted"),
        pytest.param("8000-8002,21", (21, 8000, 8001, 8002), id="range"),
    ],
)
def test_parse_ports(text: str, expected: tuple[int, ...]) -> None:
    assert parse_ports(text) == expected


@pytest.mark.parametrize("text", ["", "http", "1-70000", "9-3", "1-2000"])
def test_parse_ports_rejects(text: str) -> None:
    with pytest.raises(InputError):
        parse_ports(text)


PASSWORD = "Zq7-never-in-output-9c1f"
USERNAME = "auditor"


def basic_token() -> str:
    return base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()


DEVICE_INFO = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">\n'
    b"<deviceName>IP CAMERA</deviceName><model>DS-2CD2143G0-I</model>"
    b"<firmwareVersion>V5.5.82</firmwareVersion><deviceType>IPCamera</deviceType></DeviceInfo>\n"
)


def test_credentials_are_used_but_never_leak(tmp_path: Path, servers: BackgroundServers) -> None:
    host = f"{loopback_block()}.7"
    authorized_hits: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
        auth = next((line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("authorization:")), "")
        if path.startswith("/ISAPI/System/deviceInfo"):
            if auth == f"Basic {basic_token()}":
                authorized_hits.append(path)
                body, status = DEVICE_INFO, b"200 OK"
                headers = b"Content-Type: application/xml\r\n"
            else:
                body, status = b"unauthorized", b"401 Unauthorized"
                headers = b'WWW-Authenticate: Basic realm="test"\r\n'
        else:
            body, status, headers = b"<html><title>cam</title></html>", b"200 OK", b"Content-Type: text/html\r\n"
        writer.write(
            b"HTTP/1.1 " + status + b"\r\n" + headers + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        )
        writer.write(body)
        await writer.drain()
        writer.close()

    servers.add(host, 80, handle)
    creds = tmp_path / "creds.yaml"
    creds.write_text(f"- targets: [{host}]\n  username: {USERNAME}\n  password: {PASSWORD}\n", encoding="utf-8")
    creds.chmod(0o600)  # as a careful user keeps it: no "readable by others" warning
    db_path = tmp_path / "scan.db"
    result = cli(
        "scan", host, "--ports", "80", "--no-udp", "--timeout", "2", "--credentials", str(creds),
        "--json", "--db", f"sqlite:///{db_path}",
    )  # fmt: skip
    assert result.returncode in (0, 1, 3), result.stderr
    assert authorized_hits, "the scanner never used the user's credential, so the test proves nothing"
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [line["host"] for line in lines] == [host]
    # not a terminal: no progress bar, no colour codes, only the start and summary lines
    assert "\x1b[" not in result.stderr and "━" not in result.stderr
    assert result.stderr.startswith("scan ") and "hosts scanned now" in result.stderr
    secrets = [PASSWORD, basic_token()]
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        for secret in secrets:
            assert secret not in text, f"secret in {name}"
    store_files = [p for p in tmp_path.iterdir() if p.name.startswith("scan.db")]
    assert store_files
    for path in store_files:
        raw = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in raw, f"secret in {path.name}"
    # the stored options say a credentials file was used, nothing more
    store = open_store(f"sqlite:///{db_path}")
    try:
        scan_id = store.latest_scan_id()
        assert scan_id is not None
        record = store.get_scan(scan_id)
        assert record is not None and record.options["credentials_file"] is True
        observations = store.observations(scan_id, host)
        assert any(o.request and "deviceInfo" in o.request and b"DS-2CD2143G0-I" in o.data for o in observations)
    finally:
        store.close()


def test_bad_credentials_file_message_does_not_quote_secrets(tmp_path: Path) -> None:
    creds = tmp_path / "creds.yaml"
    creds.write_text(f"- targets: [198.18.0.1]\n  password: {PASSWORD}\n  username: [unclosed\n", encoding="utf-8")
    result = cli("scan", "198.18.0.1", "--credentials", str(creds), "--db", f"sqlite:///{tmp_path / 's.db'}")
    assert result.returncode == 2
    assert "credentials" in result.stderr and PASSWORD not in result.stderr and "Traceback" not in result.stderr


FTP_GREETING = b"220 (vsFTPd 3.0.3)\r\n"


def test_resume_after_sigkill_does_every_host_exactly_once(tmp_path: Path, servers: BackgroundServers) -> None:
    block = loopback_block()
    hosts = [f"{block}.{n}" for n in range(1, 41)]
    live = hosts[::2]

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(FTP_GREETING)
        await writer.drain()
        writer.close()

    for address in live:
        servers.add(address, 21, greet)
    db = f"sqlite:///{tmp_path / 'scan.db'}"
    common = ["--ports", "21", "--no-udp", "--timeout", "2", "--db", db, "--json"]
    # slow enough (about 4 s at 15 connections per second) to be killed half-way
    process = cli_process("scan", f"{block}.1-40", "--rate", "15", "--concurrency", "4", *common)
    store = open_store(db)
    try:
        scan_id = None
        done_at_kill: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            scan_id = scan_id or store.latest_scan_id()
            if scan_id is not None and len(store.done_hosts(scan_id)) >= 8:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the scan finished before it could be killed; slow it down"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        assert scan_id is not None
        done_at_kill = store.done_hosts(scan_id)
        assert 8 <= len(done_at_kill) < len(hosts)
        before = store.observation_digests(scan_id)

        resumed = cli("scan", "--resume", scan_id, *common[:-1], "--json")
        assert resumed.returncode in (0, 1, 3), resumed.stderr
        assert f"{len(hosts) - len(done_at_kill)} hosts scanned now, {len(done_at_kill)} done before" in " ".join(
            resumed.stderr.split()
        )
        assert store.done_hosts(scan_id) == set(hosts)
        after = store.observation_digests(scan_id)
        # every live host has exactly its one greeting; silent hosts have nothing
        assert {h: len(d) for h, d in after.items()} == {h: 1 for h in live}
        # hosts finished before the kill kept exactly what they had
        for host in done_at_kill:
            assert after.get(host, []) == before.get(host, [])
        reported = [json.loads(line)["host"] for line in resumed.stdout.splitlines() if line.strip()]
        assert sorted(reported) == sorted(live)
        assert sorted(i.host for i in store.identifications(scan_id)) == sorted(live)
    finally:
        if process.poll() is None:
            process.kill()
        store.close()
