"""The scan engine against small real asyncio servers on 127.0.0.0/8 (no mocks of the network).

Protocol modules here are small test modules built in the test (types.ModuleType) so the engine's own
rules are checked: which probes run for which open ports, credential gating, rate limiting, filtering of
answers from other hosts, failure isolation, and the store sink.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import types
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from trueorigin import __version__, fingerprints
from trueorigin.knowledge import load
from trueorigin.model import Identification, Observation, Status, Target
from trueorigin.probes.base import Credential, ProbeContext, tcp_exchange
from trueorigin.scan.credentials import parse_credentials
from trueorigin.scan.engine import HostResult, Scanner, ScanOptions, read_neighbour_mac
from trueorigin.scan.ratelimit import TokenBucket
from trueorigin.scan.run import ScanRequest, run_scan
from trueorigin.store import open_store


def loopback_block() -> str:
    """A random 127.x.y.0/24 so parallel tests never share addresses."""
    return f"127.{random.randint(64, 250)}.{random.randint(1, 250)}"


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def simple_identifier(host: str, observations: list[Observation]) -> Identification:
    """Stands in for trueorigin.identify here: these tests check the engine, not identification."""
    covered = "yes" if any(o.data.startswith(b"COVERED") for o in observations) else "no"
    return Identification(host=host, vendor="Test", brand=None, covered=covered)  # type: ignore[arg-type]


def banner_module(name: str, ports: tuple[int, ...], calls: list[tuple[str, int | None]]) -> types.ModuleType:
    """A protocol module that reads the greeting of each open port it is called for."""
    module = types.ModuleType(f"testprobes.{name}")
    module.TCP_PORTS = ports  # type: ignore[attr-defined]

    async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
        calls.append((target.address, target.port))
        assert target.port is not None
        data = await tcp_exchange(target.address, target.port, None, ctx)
        return [Observation(target.address, "banner", data, port=target.port)]

    module.probe = probe  # type: ignore[attr-defined]
    return module


def udp_module(name: str, calls: list[tuple[str, int | None]], answer_from: str | None = None) -> types.ModuleType:
    """A UDP discovery module; optionally claims an answer came from another address (must be dropped)."""
    module = types.ModuleType(f"testprobes.{name}")
    module.UDP_PORTS = (9,)  # type: ignore[attr-defined]

    async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
        calls.append((target.address, target.port))
        await ctx.wait_turn()
        host = answer_from or target.address
        return [Observation(host, "ssdp", b"NOTIFY * HTTP/1.1\r\n\r\n", port=1900, transport="udp")]

    module.probe = probe  # type: ignore[attr-defined]
    return module


async def serve(address: str, port: int, greeting: bytes) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, address, port)


class Collect:
    def __init__(self) -> None:
        self.results: dict[str, HostResult] = {}

    async def host_done(self, result: HostResult) -> None:
        assert result.address not in self.results, "a host was reported twice"
        self.results[result.address] = result


def run(coro_factory: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_factory())  # type: ignore[arg-type]


def test_probes_run_only_for_open_ports_and_silent_hosts_leave_nothing() -> None:
    block = loopback_block()
    live, silent = f"{block}.1", f"{block}.2"
    open_port, closed_port = free_port(live), free_port(live)
    calls: list[tuple[str, int | None]] = []
    banner = banner_module("banner", (open_port, closed_port), calls)

    async def main() -> Collect:
        server = await serve(live, open_port, b"COVERED device greeting\r\n")
        sink = Collect()
        async with server:
            scanner = Scanner(
                ScanOptions(ports=(open_port, closed_port), timeout=1.0, udp_discovery=False),
                modules=[banner],
                identifier=simple_identifier,
            )
            await scanner.run([live, silent], sink)
        return sink

    sink = run(main)
    assert set(sink.results) == {live, silent}
    found = sink.results[live]
    assert found.open_ports == (open_port,)
    assert calls == [(live, open_port)]  # never for the closed port, never for the silent host
    assert [o.data for o in found.observations if o.protocol == "banner"] == [b"COVERED device greeting\r\n"]
    assert found.identification is not None and found.identification.covered == "yes"
    quiet = sink.results[silent]
    assert not quiet.responded and quiet.observations == [] and quiet.identification is None


def test_udp_discovery_runs_once_per_host_and_foreign_answers_are_dropped() -> None:
    block = loopback_block()
    hosts = [f"{block}.{n}" for n in (1, 2, 3)]
    own_calls: list[tuple[str, int | None]] = []
    foreign_calls: list[tuple[str, int | None]] = []
    modules = [udp_module("own", own_calls), udp_module("liar", foreign_calls, answer_from="127.0.0.99")]

    async def main() -> Collect:
        sink = Collect()
        scanner = Scanner(ScanOptions(ports=(), timeout=0.5), modules=modules, identifier=simple_identifier)
        await scanner.run(hosts, sink)
        return sink

    sink = run(main)
    assert sorted(own_calls) == [(h, None) for h in hosts]
    for host in hosts:
        result = sink.results[host]
        assert [o.host for o in result.observations] == [host]  # the liar's answer about 127.0.0.99 is gone
        assert result.identification is not None


def test_credentialed_module_runs_only_with_users_credentials() -> None:
    block = loopback_block()
    with_creds, without = f"{block}.1", f"{block}.2"
    seen: list[tuple[str, tuple[Credential, ...], object]] = []
    module = types.ModuleType("testprobes.login")
    module.UDP_PORTS = (9,)  # type: ignore[attr-defined]
    module.NEEDS_CREDENTIALS = True  # type: ignore[attr-defined]

    async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
        seen.append((target.address, ctx.credentials, ctx.extra.get("snmp_communities")))
        return []

    module.probe = probe  # type: ignore[attr-defined]
    book = parse_credentials(
        f"- targets: [{with_creds}]\n  username: auditor\n  password: s3cret\n  snmp_community: c0mm\n", "yaml"
    )

    async def main() -> None:
        scanner = Scanner(
            ScanOptions(ports=(), timeout=0.5, credentials=book), modules=[module], identifier=simple_identifier
        )
        await scanner.run([with_creds, without], Collect())

    run(main)
    assert seen == [(with_creds, (Credential("auditor", "s3cret"),), ("c0mm",))]


class CountingBucket(TokenBucket):
    def __init__(self) -> None:
        super().__init__(rate=1e6)
        self.calls = 0

    async def acquire(self) -> None:
        self.calls += 1
        await super().acquire()


def test_every_connection_and_datagram_takes_a_token() -> None:
    block = loopback_block()
    hosts = [f"{block}.{n}" for n in range(1, 6)]
    port_a, port_b = free_port(hosts[0]), free_port(hosts[0])
    calls: list[tuple[str, int | None]] = []
    udp_calls: list[tuple[str, int | None]] = []
    modules = [banner_module("banner", (port_a,), calls), udp_module("udp", udp_calls)]
    bucket = CountingBucket()

    async def main() -> None:
        servers = [await serve(h, port_a, b"hello\r\n") for h in hosts[:3]]
        try:
            scanner = Scanner(
                ScanOptions(ports=(port_a, port_b), timeout=1.0),
                modules=modules,
                identifier=simple_identifier,
                throttle=bucket,
            )
            await scanner.run(hosts, Collect())
        finally:
            for server in servers:
                server.close()

    run(main)
    connects = len(hosts) * 2
    banner_connections = len(calls)  # one tcp_exchange each, through ctx.wait_turn
    datagrams = len(udp_calls)
    assert banner_connections == 3 and datagrams == len(hosts)
    assert bucket.calls == bucket.granted == connects + banner_connections + datagrams


def test_concurrency_limit_is_respected() -> None:
    block = loopback_block()
    hosts = [f"{block}.{n}" for n in range(1, 21)]
    in_flight = 0
    peak = 0
    module = types.ModuleType("testprobes.slow")
    module.UDP_PORTS = (9,)  # type: ignore[attr-defined]

    async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return []

    module.probe = probe  # type: ignore[attr-defined]

    async def main() -> Collect:
        sink = Collect()
        scanner = Scanner(ScanOptions(ports=(), concurrency=4), modules=[module], identifier=simple_identifier)
        await scanner.run(hosts, sink)
        return sink

    sink = run(main)
    assert len(sink.results) == len(hosts)
    assert 1 <= peak <= 4


def test_a_failing_probe_does_not_stop_the_host() -> None:
    block = loopback_block()
    host = f"{block}.1"
    port = free_port(host)
    broken = types.ModuleType("testprobes.broken")
    broken.TCP_PORTS = (port,)  # type: ignore[attr-defined]

    async def explode(target: Target, ctx: ProbeContext) -> list[Observation]:
        raise ValueError("parser bug")

    broken.probe = explode  # type: ignore[attr-defined]
    calls: list[tuple[str, int | None]] = []

    async def main() -> Collect:
        server = await serve(host, port, b"COVERED\r\n")
        sink = Collect()
        async with server:
            scanner = Scanner(
                ScanOptions(ports=(port,), timeout=1.0, udp_discovery=False),
                modules=[broken, banner_module("banner", (port,), calls)],
                identifier=simple_identifier,
            )
            await scanner.run([host], sink)
        return sink

    result = run(main).results[host]
    assert result.errors == [f"broken:{port}:ValueError"]
    assert result.identification is not None and result.identification.covered == "yes"


def test_neighbour_table_gives_mac_of_complete_entries(tmp_path: Path) -> None:
    table = tmp_path / "arp"
    table.write_text(
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "198.18.0.7       0x1         0x2         54:C4:15:6F:EC:87     *        eth0\n"
        "198.18.0.8       0x1         0x0         00:00:00:00:00:00     *        eth0\n",
        encoding="ascii",
    )
    assert read_neighbour_mac("198.18.0.7", table) == "54:c4:15:6f:ec:87"
    assert read_neighbour_mac("198.18.0.8", table) is None
    assert read_neighbour_mac("198.18.0.9", table) is None
    assert read_neighbour_mac("198.18.0.7", tmp_path / "missing") is None


def test_run_scan_stores_every_host_and_resume_skips_done_ones(tmp_path: Path) -> None:
    block = loopback_block()
    hosts = [f"{block}.{n}" for n in range(1, 5)]
    port = free_port(hosts[0])
    calls: list[tuple[str, int | None]] = []
    db = f"sqlite:///{tmp_path / 'scan.db'}"
    loop = asyncio.new_event_loop()
    servers = [loop.run_until_complete(serve(h, port, b"COVERED\r\n")) for h in hosts[:2]]

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        request = ScanRequest(targets=[f"{hosts[0]}-{hosts[-1].rsplit('.', 1)[1]}"], ports=(port,), timeout=1.0)
        request.udp_discovery = False
        outcome = run_scan(
            request, db_url=db, identifier=simple_identifier, modules=[banner_module("banner", (port,), calls)]
        )
        assert sorted(i.host for i in outcome.identifications) == hosts[:2]
        assert all(i.covered == "yes" for i in outcome.identifications)
        store = open_store(db)
        assert store.done_hosts(outcome.scan_id) == set(hosts)
        record = store.get_scan(outcome.scan_id)
        assert record is not None
        assert (record.tool_version, record.kb_version, record.fingerprint_version) == (
            __version__,
            load().version,
            fingerprints.data_version(),
        )
        assert {h: len(d) for h, d in store.observation_digests(outcome.scan_id).items()} == {
            hosts[0]: 1,
            hosts[1]: 1,
        }
        store.close()
        calls.clear()
        again = run_scan(
            None,
            db_url=db,
            resume=outcome.scan_id,
            identifier=simple_identifier,
            modules=[banner_module("banner", (port,), calls)],
        )
        assert again.skipped_hosts == len(hosts) and again.stats.hosts_done == 0 and calls == []
        assert sorted(i.host for i in again.identifications) == hosts[:2]
    finally:
        for server in servers:
            server.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


@pytest.mark.parametrize(
    "status",
    [pytest.param(Status.TIMEOUT, id="timeout-record"), pytest.param(Status.REFUSED, id="refused-record")],
)
def test_silence_records_do_not_make_a_host_respond(status: Status) -> None:
    result = HostResult("198.18.0.1", observations=[Observation("198.18.0.1", "snmp-sysdescr", b"", status=status)])
    assert not result.responded
