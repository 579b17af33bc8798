"""The asynchronous audit engine: discovery, protocol probes, identification, one host at a time in parallel.

For each target address (only those the user named, see `targets.py`):

1. Discovery. TCP connect to the port set (`DEFAULT_TCP_PORTS` or `--ports`); nothing is sent on these
   connections. The first port is tried alone: "no route / host unreachable" ends the address there.
2. Probes, concurrently: the unicast UDP discovery probe of every module declaring `UDP_PORTS` (SADP, DHIP,
   WS-Discovery, SSDP, mDNS, SNMP with a user community) sent to that one address, and
   `probe(Target(address, port))` of every module whose `TCP_PORTS` contains an open port.
   Modules with `NEEDS_CREDENTIALS` run only when the user's credentials file names the host.
3. The neighbour table (/proc/net/arp, a local read) gives the MAC address when the host is on-link.
4. Identification (`trueorigin.audit.identify`) of the host's observations, then the result sink
   (the store) gets observations, identification and "host finished" before anything else about the host.

How a module is called (the scanner's side of the ARCHITECTURE probe contract):
- `probe(Target(address, port=p, hostname=...), ctx)` once per open TCP port `p` in the module's TCP_PORTS;
- `probe(Target(address, port=None, ...), ctx)` once for a module with UDP_PORTS (unicast discovery), or
  with no port declarations at all (after the host answered anything);
- `ctx.extra["open_tcp_ports"]` is the frozenset of open TCP ports, `ctx.extra["snmp_communities"]` the
  user's SNMP communities for this host (a tuple, possibly empty), `ctx.credentials` the user's logins.

Bounds: `concurrency` hosts in flight, `per_host_concurrency` connections per host, every new connection
or datagram waits for the shared token bucket (`rate` per second), every probe call has a deadline.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from trueorigin.model import Identification, Observation, Status, Target
from trueorigin.probes.base import DEFAULT_MAX_BYTES, ProbeContext
from trueorigin.scan.credentials import CredentialBook
from trueorigin.scan.ratelimit import TokenBucket

_UNREACHABLE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL})

# Camera / NVR / router ports where covered and comparable equipment answers (nmap's `ports` idea): web
# 80/443/8080/8443, RTSP 554, Hikvision SDK 8000, Dahua SDK 37777, SSH/Telnet/FTP 22/23/21 (routers, ONTs),
# SIP 5060 (intercoms), ONVIF on 8899 (common on OEM cameras). SNMP 161/udp is the SNMP module's UDP probe.
DEFAULT_TCP_PORTS: tuple[int, ...] = (80, 443, 554, 8000, 8080, 37777, 22, 23, 21, 8443, 5060, 8899)

Identifier = Callable[[str, list[Observation]], Identification]


def default_identifier() -> Identifier:
    """The audit pipeline's identification step (`trueorigin.audit.identify`), imported late so the engine
    loads without the knowledge base."""
    from trueorigin.audit import identify

    def identify_one(host: str, observations: list[Observation]) -> Identification:
        return identify(host, observations)

    return identify_one


@dataclass(frozen=True, slots=True)
class ScanOptions:
    ports: tuple[int, ...] = DEFAULT_TCP_PORTS
    rate: float = 1000.0  # new connections + datagrams per second, all probes together
    concurrency: int = 256  # hosts in flight
    per_host_concurrency: int = 8  # connections in flight to one host
    timeout: float = 2.0  # per connect / per read
    max_bytes: int = DEFAULT_MAX_BYTES
    udp_discovery: bool = True
    credentials: CredentialBook = field(default_factory=CredentialBook)

    def __post_init__(self) -> None:
        if not self.ports and not self.udp_discovery:
            raise ValueError("nothing to probe: no TCP ports and no UDP discovery")
        if any(not 0 < p < 65536 for p in self.ports):
            raise ValueError("ports must be in 1..65535")
        if self.rate <= 0 or self.concurrency < 1 or self.per_host_concurrency < 1 or self.timeout <= 0:
            raise ValueError("rate, concurrency and timeout must be positive")


@dataclass(slots=True)
class HostResult:
    """Everything learned about one address in this scan."""

    address: str
    open_ports: tuple[int, ...] = ()
    observations: list[Observation] = field(default_factory=list)
    identification: Identification | None = None
    errors: list[str] = field(default_factory=list)  # probe failures (type names only, never payloads)

    @property
    def responded(self) -> bool:
        """An open port, or any bytes that were not just a timeout/refusal record."""
        return bool(self.open_ports) or any(
            o.data and o.status not in (Status.TIMEOUT, Status.REFUSED) for o in self.observations
        )


class ResultSink(Protocol):
    async def host_done(self, result: HostResult) -> None: ...


@dataclass(slots=True)
class ScanStats:
    started: float = field(default_factory=time.monotonic)
    hosts_done: int = 0
    hosts_skipped: int = 0
    responding: int = 0
    covered: int = 0
    review: int = 0
    probe_errors: int = 0


def _module_ports(module: ModuleType, name: str) -> tuple[int, ...]:
    value = getattr(module, name, ())
    try:
        return tuple(int(p) for p in value)
    except (TypeError, ValueError):
        return ()


def probing_modules(modules: Iterable[ModuleType]) -> list[ModuleType]:
    """Protocol modules that can do I/O (have an async `probe`)."""
    return [m for m in modules if asyncio.iscoroutinefunction(getattr(m, "probe", None))]


def read_neighbour_mac(address: str, arp_table: Path = Path("/proc/net/arp")) -> str | None:
    """MAC of an on-link IPv4 neighbour from the kernel's ARP table (no traffic sent)."""
    try:
        lines = arp_table.read_text(encoding="ascii", errors="replace").splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        # IP address, HW type, Flags, HW address, Mask, Device; flag 0x2 = complete entry
        if len(parts) >= 4 and parts[0] == address and int(parts[2], 16) & 0x2:
            mac = parts[3].lower()
            if mac != "00:00:00:00:00:00":
                return mac
    return None


class Scanner:
    """Runs one scan over a stream of addresses, handing each finished host to a sink."""

    def __init__(
        self,
        options: ScanOptions,
        *,
        modules: Sequence[ModuleType] | None = None,
        identifier: Identifier | None = None,
        throttle: TokenBucket | None = None,
        hostnames: dict[str, str] | None = None,
        arp_table: Path = Path("/proc/net/arp"),
    ) -> None:
        if modules is None:
            from trueorigin.probes import modules as discover_modules

            modules = discover_modules()
        self.options = options
        self.modules = probing_modules(modules)
        self.identifier = identifier if identifier is not None else default_identifier()
        self.throttle = throttle if throttle is not None else TokenBucket(options.rate)
        self.hostnames = hostnames or {}
        self.arp_table = arp_table
        self.stats = ScanStats()
        # observations gathered before the per-host phase (multicast discovery), keyed by address
        self.preseeded: dict[str, list[Observation]] = {}

    # -- public entry point ------------------------------------------------------------------------

    async def run(
        self,
        addresses: Iterable[str],
        sink: ResultSink,
        *,
        skip: set[str] | None = None,
        on_progress: Callable[[ScanStats], None] | None = None,
    ) -> ScanStats:
        """Scan every address not in `skip`, at most `concurrency` at once; returns the counters."""
        skip = skip or set()
        slots = asyncio.Semaphore(self.options.concurrency)
        running: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []

        async def one(address: str) -> None:
            try:
                result = await self.scan_host(address)
                await sink.host_done(result)
                self._count(result)
                if on_progress is not None:
                    on_progress(self.stats)
            except Exception as exc:  # keep the first sink error and stop; a probe error never gets here
                failures.append(exc)
                raise
            finally:
                slots.release()

        try:
            # addresses are pulled lazily: a /16 never becomes 65,536 pending tasks
            for address in addresses:
                if failures:
                    break
                if address in skip:
                    self.stats.hosts_skipped += 1
                    continue
                await slots.acquire()
                task = asyncio.create_task(one(address))
                running.add(task)
                task.add_done_callback(running.discard)
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        finally:
            for task in list(running):
                task.cancel()
        if failures:
            raise failures[0]
        return self.stats

    def _count(self, result: HostResult) -> None:
        self.stats.hosts_done += 1
        self.stats.probe_errors += len(result.errors)
        if result.responded:
            self.stats.responding += 1
        if result.identification is not None:
            if result.identification.covered == "yes":
                self.stats.covered += 1
            elif result.identification.covered == "review":
                self.stats.review += 1

    # -- one host ----------------------------------------------------------------------------------

    def _context(self, address: str, open_ports: frozenset[int]) -> ProbeContext:
        book = self.options.credentials
        return ProbeContext(
            timeout=self.options.timeout,
            max_bytes=self.options.max_bytes,
            credentials=book.for_host(address),
            throttle=self.throttle.acquire,
            extra={"open_tcp_ports": open_ports, "snmp_communities": book.snmp_communities(address)},
        )

    def _may_run(self, module: ModuleType, ctx: ProbeContext) -> bool:
        if not getattr(module, "NEEDS_CREDENTIALS", False):
            return True
        return bool(ctx.credentials or ctx.extra.get("snmp_communities"))

    async def scan_host(self, address: str) -> HostResult:
        """Discovery, probes, MAC and identification of one address. Never raises for network trouble."""
        result = HostResult(address=address, observations=list(self.preseeded.pop(address, ())))
        hostname = self.hostnames.get(address)
        per_host = asyncio.Semaphore(self.options.per_host_concurrency)

        tcp_open, unreachable = await self._discover_tcp(address, per_host)
        result.open_ports = tuple(sorted(tcp_open))
        if unreachable and not result.observations:
            # the kernel has no route / no neighbour for this address: UDP would not arrive either
            return result

        ctx = self._context(address, frozenset(tcp_open))
        calls: list[Awaitable[list[Observation]]] = []
        portless: list[ModuleType] = []
        for module in self.modules:
            if not self._may_run(module, ctx):
                continue
            tcp_ports, udp_ports = _module_ports(module, "TCP_PORTS"), _module_ports(module, "UDP_PORTS")
            if udp_ports and self.options.udp_discovery:
                calls.append(self._call(module, Target(address, None, hostname), ctx, per_host, result))
            for port in sorted(tcp_open):
                if port in tcp_ports:
                    calls.append(self._call(module, Target(address, port, hostname), ctx, per_host, result))
            if not tcp_ports and not udp_ports:
                portless.append(module)
        for observations in await asyncio.gather(*calls):
            result.observations.extend(observations)
        if portless and result.responded:
            more = [self._call(m, Target(address, None, hostname), ctx, per_host, result) for m in portless]
            for observations in await asyncio.gather(*more):
                result.observations.extend(observations)

        if result.responded:
            mac = read_neighbour_mac(address, self.arp_table)
            if mac is not None:
                result.observations.append(Observation(address, "mac", mac.encode("ascii"), transport="arp"))
            result.identification = self.identifier(address, result.observations)
        else:
            # silence from a non-responding address is not worth storing ("io-timeout" x 65,536)
            result.observations = []
        return result

    async def _connect(self, address: str, port: int) -> str:
        """One TCP connect: "open", "closed" (refused/timeout) or "unreachable" (no route, no neighbour)."""
        await self.throttle.acquire()
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, (address, port)), self.options.timeout)
            except TimeoutError:
                return "closed"
            except OSError as exc:
                return "unreachable" if exc.errno in _UNREACHABLE else "closed"
            return "open"

    async def _discover_tcp(self, address: str, per_host: asyncio.Semaphore) -> tuple[set[int], bool]:
        """Open ports among the port set, and whether the address is unreachable.

        The first port is tried alone: when the kernel answers "no route to host/network", the other
        ports would get the same answer, so a dead address in a /16 costs one connect, not twelve.
        """
        ports = list(self.options.ports)
        if not ports:
            return set(), False
        first = await self._connect(address, ports[0])
        if first == "unreachable":
            return set(), True

        async def attempt(port: int) -> int | None:
            async with per_host:
                return port if await self._connect(address, port) == "open" else None

        found = await asyncio.gather(*(attempt(p) for p in ports[1:]))
        open_ports = {p for p in found if p is not None}
        if first == "open":
            open_ports.add(ports[0])
        return open_ports, False

    async def _call(
        self,
        module: ModuleType,
        target: Target,
        ctx: ProbeContext,
        per_host: asyncio.Semaphore,
        result: HostResult,
    ) -> list[Observation]:
        # a probe may make several requests; it gets a generous deadline, then is cancelled
        budget = self.options.timeout * 6 + 1.0
        name = module.__name__.rsplit(".", 1)[-1]
        async with per_host:
            try:
                answer: Any = await asyncio.wait_for(module.probe(target, ctx), budget)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a broken device or probe must not stop the audit
                result.errors.append(f"{name}:{target.port}:{type(exc).__name__}")
                return []
        if not isinstance(answer, list):
            result.errors.append(f"{name}:{target.port}:bad-return")
            return []
        # keep only answers from the address we asked: a UDP reply from elsewhere is not ours to record
        return [o for o in answer if isinstance(o, Observation) and o.host == target.address]
