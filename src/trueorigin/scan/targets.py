"""Target parsing: the user names every address; trueorigin never adds one.

Accepted forms, alone or mixed, on the command line or in files:

- an address: ``198.18.0.7``, ``::1``
- a CIDR block: ``198.18.0.0/24`` (for IPv4 blocks wider than /31 the network and broadcast addresses
  are skipped, as `ipaddress.IPv4Network.hosts()` does)
- a range: ``198.18.0.1-198.18.0.50`` or the short form ``198.18.0.1-50`` (last octet)
- a hostname, resolved once (never a wildcard)
- a file of any of these: ``@targets.txt`` or a path to an existing file; one or more per line,
  separated by spaces or commas, ``#`` starts a comment.

Targets are kept as merged address intervals, so a /16 costs a few integers, not 65,536 strings;
`TargetSet.__iter__` yields addresses lazily. Exclusions always win. Public addresses
(`is_global`) are refused unless the caller allows them, and so are multicast, broadcast and unspecified
addresses (a scan must stay unicast). A set larger than `DEFAULT_MAX_HOSTS` (a /16) is refused unless the
caller raises the limit explicitly.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import ipaddress
import json
import os
import re
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trueorigin.errors import InputError, SafetyError
from trueorigin.limits import read_bounded
from trueorigin.scan.addresses import (
    Interval,
    canonical,
    canonical_address,
    expand_exclusions,
    judge,
    subtract,
)

DEFAULT_MAX_HOSTS = 65_536
MAX_TARGET_FILE_BYTES = 16 * 1024 * 1024
RESOLVE_TIMEOUT = 5.0
_MAX_FILE_DEPTH = 4
SHOWN_SPEC_CHARS = 80
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?:\.(?!-)[A-Za-z0-9-]{1,63})*\.?$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(slots=True)
class TargetSet:
    """The addresses to scan: merged intervals minus exclusions, iterated lazily in address order."""

    intervals: list[Interval]
    hostnames: dict[str, str] = field(default_factory=dict)  # address -> hostname the user gave

    def count(self) -> int:
        """Number of addresses (any size; len() fails past a machine integer on IPv6 blocks)."""
        return sum(iv.size for iv in self.intervals)

    def __len__(self) -> int:
        return self.count()

    def ranges(self) -> list[str]:
        """The resolved set as text, one 'first-last' (or single address) per interval, in order."""
        return [
            str(iv.address(iv.first)) if iv.first == iv.last else f"{iv.address(iv.first)}-{iv.address(iv.last)}"
            for iv in self.intervals
        ]

    def digest(self) -> str:
        """SHA-256 of the resolved addresses and the hostnames that named them: equal sets, equal digests."""
        text = json.dumps({"ranges": self.ranges(), "hostnames": sorted(self.hostnames.items())}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def __iter__(self) -> Iterator[str]:
        for iv in self.intervals:
            for value in range(iv.first, iv.last + 1):
                yield str(iv.address(value))

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        try:
            ip = ipaddress.ip_address(canonical_address(address))
        except ValueError:
            return False
        value = int(ip)
        return any(iv.version == ip.version and iv.first <= value <= iv.last for iv in self.intervals)


@dataclass(slots=True)
class _Collected:
    intervals: list[Interval] = field(default_factory=list)
    hostnames: dict[str, str] = field(default_factory=dict)
    specs: list[str] = field(default_factory=list)


def _interval_of_network(net: ipaddress.IPv4Network | ipaddress.IPv6Network, *, whole: bool) -> Interval:
    first, last = int(net.network_address), int(net.broadcast_address)
    # Like hosts(): a /24 has 254 usable addresses; the network and broadcast addresses are not devices.
    # An excluded block is excluded whole.
    if net.version == 4 and net.prefixlen < 31 and not whole:
        first, last = first + 1, last - 1
    return Interval(net.version, first, last)


def _parse_range(spec: str) -> Interval | None:
    start_text, _, end_text = spec.partition("-")
    try:
        start = ipaddress.ip_address(start_text.strip())
    except ValueError:
        return None
    end_text = end_text.strip()
    end: IPAddress
    if end_text.isdigit() and start.version == 4 and int(end_text) <= 255:
        end = ipaddress.IPv4Address(f"{str(start).rsplit('.', 1)[0]}.{int(end_text)}")
    else:
        try:
            end = ipaddress.ip_address(end_text)
        except ValueError as exc:
            raise InputError(f"bad range end in {shown(spec)}") from exc
    if end.version != start.version:
        raise InputError(f"range {shown(spec)} mixes IPv4 and IPv6")
    if int(end) < int(start):
        raise InputError(f"range {shown(spec)} ends before it starts")
    return Interval(start.version, int(start), int(end))


def _resolve(hostname: str) -> list[str]:
    # getaddrinfo cannot be cancelled; run it in a thread so an unreachable resolver costs a bounded wait
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        infos = pool.submit(socket.getaddrinfo, hostname, None, type=socket.SOCK_STREAM).result(RESOLVE_TIMEOUT)
    except concurrent.futures.TimeoutError as exc:
        raise InputError(f"cannot resolve {shown(hostname)}: no answer within {RESOLVE_TIMEOUT:g} s") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"cannot resolve {shown(hostname)}: {exc}") from exc
    finally:
        pool.shutdown(wait=False)
    seen: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = canonical_address(str(sockaddr[0]))
        if address not in seen:
            seen.append(address)
    if not seen:
        raise InputError(f"{shown(hostname)} has no IPv4/IPv6 address")
    return seen


def _tokens(text: str) -> Iterator[str]:
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for token in re.split(r"[\s,]+", line):
            if token:
                yield token


def shown(spec: str, limit: int = SHOWN_SPEC_CHARS) -> str:
    """A spec as an error message quotes it: repr, clipped, so a hostile file cannot flood the terminal."""
    if len(spec) <= limit:
        return repr(spec)
    return f"{spec[:limit]!r}… ({len(spec)} characters)"


def _read_target_file(path: Path) -> str:
    # bounded by reading, not by st_size: /dev/zero and pipes report 0
    try:
        with path.open("rb") as handle:
            data = read_bounded(handle, MAX_TARGET_FILE_BYTES, f"target file {shown(str(path))}")
    except OSError as exc:
        raise InputError(f"cannot read target file {shown(str(path))}: {exc.strerror}") from exc
    if b"\0" in data:
        raise InputError(f"target file {shown(str(path))} is not text (it holds NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"target file {shown(str(path))} is not UTF-8 text (byte {exc.start})") from exc


def _collect(specs: Iterable[str], out: _Collected, *, resolve: bool, whole: bool = False, depth: int = 0) -> None:
    for raw in specs:
        spec = raw.strip()
        if not spec:
            continue
        if spec.startswith("@") or (os.sep in spec and _is_file(spec)) or _is_plain_file(spec):
            if depth >= _MAX_FILE_DEPTH:
                raise InputError(f"target files nested deeper than {_MAX_FILE_DEPTH} levels at {shown(spec)}")
            path = Path(spec[1:] if spec.startswith("@") else spec)
            _collect(_tokens(_read_target_file(path)), out, resolve=resolve, whole=whole, depth=depth + 1)
            continue
        out.specs.append(spec)
        out.intervals.append(_parse_one(spec, out, resolve=resolve, whole=whole))


def _is_file(spec: str) -> bool:
    try:
        return Path(spec).is_file()
    except (OSError, ValueError):  # a name too long for the file system, or holding NUL, is no file
        return False


def _is_plain_file(spec: str) -> bool:
    # a bare name such as "targets.txt" that is not an address but names an existing file
    try:
        ipaddress.ip_network(spec, strict=False)
        return False
    except ValueError:
        return _is_file(spec)


def _parse_one(spec: str, out: _Collected, *, resolve: bool, whole: bool) -> Interval:
    if "*" in spec or "?" in spec:
        raise InputError(f"wildcards are not targets: {shown(spec)}; name addresses, CIDRs or ranges")
    if "/" in spec:
        try:
            net = ipaddress.ip_network(spec, strict=False)
        except ValueError as exc:
            raise InputError(f"bad CIDR {shown(spec)}: {shown(str(exc), 160)}") from exc
        return _interval_of_network(net, whole=whole)
    try:
        ip = ipaddress.ip_address(spec)
        return Interval(ip.version, int(ip), int(ip))
    except ValueError:
        pass
    if "-" in spec:
        interval = _parse_range(spec)
        if interval is not None:
            return interval
    if _HOSTNAME.match(spec) and not spec.replace(".", "").isdigit():
        if not resolve:
            raise InputError(f"hostname {shown(spec)} given where resolution is disabled")
        addresses = _resolve(spec)
        first = ipaddress.ip_address(addresses[0])
        for address in addresses:
            out.hostnames.setdefault(address, spec.rstrip("."))
        # extra addresses of the same name are kept as their own intervals
        for address in addresses[1:]:
            ip = ipaddress.ip_address(address)
            out.intervals.append(Interval(ip.version, int(ip), int(ip)))
        return Interval(first.version, int(first), int(first))
    raise InputError(f"not an address, CIDR, range, hostname or file: {shown(spec)}")


def _check_safety(intervals: Sequence[Interval], *, allow_public: bool) -> None:
    for problem in judge(intervals):
        if allow_public and problem.needs_flag:
            continue
        raise SafetyError(problem.reason)


def parse_targets(
    specs: Sequence[str],
    exclude: Sequence[str] = (),
    *,
    allow_public: bool = False,
    max_hosts: int | None = DEFAULT_MAX_HOSTS,
    resolve: bool = True,
) -> TargetSet:
    """Turn the user's target and exclusion specs into a safe, lazily iterable `TargetSet`.

    Every address is judged in its canonical form (see `trueorigin.scan.addresses`): IPv4-mapped IPv6 is
    the IPv4 host, other forms that embed an IPv4 address are judged and excluded by it, so no notation
    reaches a public address without `allow_public` or an excluded one at all. Raises `InputError` for
    malformed specs or sizes over `max_hosts` (None: no limit), `SafetyError` for public, multicast or
    broadcast targets (public ones only without `allow_public`).
    """
    wanted = _Collected()
    _collect(specs, wanted, resolve=resolve)
    if not wanted.specs:
        raise InputError("no targets given")
    excluded = _Collected()
    _collect(exclude, excluded, resolve=resolve, whole=True)
    intervals = subtract(canonical(wanted.intervals), expand_exclusions(excluded.intervals))
    # exclusions win before the safety check, so `10.0.0.0/8 --exclude ...` is judged on what is left
    _check_safety(intervals, allow_public=allow_public)
    result = TargetSet(intervals=intervals)
    result.hostnames = {a: h for a, h in wanted.hostnames.items() if a in result}
    size = result.count()
    if max_hosts is not None and size > max_hosts:
        raise InputError(
            f"{size} addresses to scan exceeds the limit of {max_hosts}; narrow the targets or pass "
            f"--max-hosts {size} to confirm"
        )
    return result
