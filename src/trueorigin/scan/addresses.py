"""Which addresses a scan may touch: one canonical form per host, and the special-purpose blocks.

IPv6 has several notations that name an IPv4 host. A safety check or an exclusion that looks only at the
notation the user typed can be walked around (`::ffff:8.8.8.8` is 8.8.8.8 on a dual-stack socket), so:

- IPv4-mapped addresses (``::ffff:a.b.c.d``, RFC 4291 §2.5.5.2) *are* the IPv4 host: they are rewritten to
  plain IPv4 before anything else looks at them.
- Other forms that embed an IPv4 address in a fixed position (IPv4-compatible ``::a.b.c.d``, SIIT
  ``::ffff:0:a.b.c.d``, the NAT64 well-known prefix ``64:ff9b::/96``, 6to4 ``2002:AABB:CCDD::/48``) stay IPv6
  targets, but are judged by the IPv4 address they name: public if it is public, excluded if it is excluded.
- Forms whose IPv4 address cannot be read without knowing a network's configuration (Teredo ``2001::/32``,
  whose client address is obfuscated and which always tunnels over the public IPv4 Internet, and the NAT64
  local-use prefix ``64:ff9b:1::/48``, RFC 8215, whose embedding length is an operator's choice) are refused.

"Not globally reachable" follows the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its
updates; rows with "Globally Reachable: False"), copied into `docs/scanning.md`. Everything outside those
rows counts as public: an unknown block is treated as the riskier kind.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

V4_BITS = 32
V6_BITS = 128


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """Inclusive range of integer addresses of one IP version."""

    version: int
    first: int
    last: int

    def __len__(self) -> int:
        return self.last - self.first + 1

    @property
    def size(self) -> int:
        """Number of addresses; unlike len() it works for blocks wider than a machine integer."""
        return self.last - self.first + 1

    def address(self, value: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.IPv4Address(value) if self.version == 4 else ipaddress.IPv6Address(value)

    def clip(self, other: Interval) -> Interval | None:
        """The part of this interval inside `other` (same version), or None."""
        if other.version != self.version or other.last < self.first or other.first > self.last:
            return None
        return Interval(self.version, max(self.first, other.first), min(self.last, other.last))

    def describe(self) -> str:
        if self.first == self.last:
            return str(self.address(self.first))
        nets = list(ipaddress.summarize_address_range(self.address(self.first), self.address(self.last)))
        if len(nets) == 1:
            return str(nets[0])
        return f"{self.address(self.first)}-{self.address(self.last)}"


def block(cidr: str) -> Interval:
    net = ipaddress.ip_network(cidr)
    return Interval(net.version, int(net.network_address), int(net.broadcast_address))


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for iv in sorted(intervals):
        if merged and merged[-1].version == iv.version and iv.first <= merged[-1].last + 1:
            last = merged[-1]
            merged[-1] = Interval(iv.version, last.first, max(last.last, iv.last))
        else:
            merged.append(iv)
    return merged


def subtract(keep: Iterable[Interval], remove: Iterable[Interval]) -> list[Interval]:
    """`keep` minus `remove`, merged and sorted."""
    cuts = merge(remove)
    out: list[Interval] = []
    for iv in merge(keep):
        pieces = [iv]
        for cut in cuts:
            if cut.version != iv.version:
                continue
            next_pieces: list[Interval] = []
            for piece in pieces:
                if cut.last < piece.first or cut.first > piece.last:
                    next_pieces.append(piece)
                    continue
                if cut.first > piece.first:
                    next_pieces.append(Interval(piece.version, piece.first, cut.first - 1))
                if cut.last < piece.last:
                    next_pieces.append(Interval(piece.version, cut.last + 1, piece.last))
            pieces = next_pieces
        out.extend(pieces)
    return out


def intersect(intervals: Iterable[Interval], blocks: Iterable[Interval]) -> list[Interval]:
    wanted = merge(blocks)
    out: list[Interval] = []
    for iv in merge(intervals):
        out.extend(part for b in wanted if (part := iv.clip(b)) is not None)
    return out


# --- IANA special-purpose registries: blocks that are not globally reachable (checked 2026-12-04) ---
NOT_GLOBAL_V4: tuple[Interval, ...] = tuple(
    block(c)
    for c in (
        "0.0.0.0/8",  # "this network", RFC 791
        "10.0.0.0/8",  # private use, RFC 1918
        "100.64.0.0/10",  # shared address space, RFC 6598
        "127.0.0.0/8",  # loopback, RFC 1122
        "169.254.0.0/16",  # link local, RFC 3927
        "172.16.0.0/12",  # private use, RFC 1918
        "192.0.0.0/29",  # IPv4 service continuity prefix, RFC 7335
        "192.0.0.170/31",  # NAT64/DNS64 discovery, RFC 8880
        "192.0.2.0/24",  # documentation TEST-NET-1, RFC 5737
        "192.168.0.0/16",  # private use, RFC 1918
        "198.18.0.0/15",  # benchmarking, RFC 2544
        "198.51.100.0/24",  # documentation TEST-NET-2, RFC 5737
        "203.0.113.0/24",  # documentation TEST-NET-3, RFC 5737
        "240.0.0.0/4",  # reserved, RFC 1112
        "255.255.255.255/32",  # limited broadcast, RFC 919
    )
)
NOT_GLOBAL_V6: tuple[Interval, ...] = tuple(
    block(c)
    for c in (
        "::1/128",  # loopback, RFC 4291
        "::/128",  # unspecified, RFC 4291
        "100::/64",  # discard-only, RFC 6666
        "2001:2::/48",  # benchmarking, RFC 5180
        "2001:db8::/32",  # documentation, RFC 3849
        "fc00::/7",  # unique local, RFC 4193
        "fe80::/10",  # link-local unicast, RFC 4291
    )
)
# never a unicast device, whatever the user allows
NOT_UNICAST_V4: tuple[Interval, ...] = tuple(block(c) for c in ("0.0.0.0/8", "224.0.0.0/4", "255.255.255.255/32"))
NOT_UNICAST_V6: tuple[Interval, ...] = tuple(block(c) for c in ("::/128", "ff00::/8"))

IPV4_MAPPED = block("::ffff:0:0/96")


@dataclass(frozen=True, slots=True)
class Embedding:
    """An IPv6 block whose addresses name an IPv4 host: bits [shift, shift+32) hold it."""

    name: str
    zone: Interval
    shift: int
    base: int  # the address that names 0.0.0.0 (the zone may start later)

    def ipv4_of(self, part: Interval) -> Interval:
        """The IPv4 addresses named by `part` (which lies inside the zone); contiguous because the map is monotone."""
        mask = (1 << V4_BITS) - 1
        first = ((part.first - self.base) >> self.shift) & mask
        return Interval(4, first, ((part.last - self.base) >> self.shift) & mask)

    def ipv6_naming(self, v4: Interval) -> Interval | None:
        """Every address of the zone that names an address of `v4` (None: the zone names none of them)."""
        low = max(self.zone.first, self.base + (v4.first << self.shift))
        high = min(self.zone.last, self.base + (v4.last << self.shift) + (1 << self.shift) - 1)
        return Interval(6, low, high) if low <= high else None


def _embedding(name: str, cidr: str, shift: int) -> Embedding:
    zone = block(cidr)
    return Embedding(name, zone, shift, zone.first)


EMBEDDINGS: tuple[Embedding, ...] = (
    # ::/104 holds :: and ::1 and names no usable IPv4 host (0.0.0.0/8), so the compatible zone starts after it
    Embedding("IPv4-compatible (RFC 4291)", Interval(6, int(ipaddress.IPv6Address("::100:0")), (1 << 32) - 1), 0, 0),
    _embedding("SIIT IPv4-translated (RFC 2765)", "::ffff:0:0:0/96", 0),
    _embedding("NAT64 well-known prefix (RFC 6052)", "64:ff9b::/96", 0),
    _embedding("6to4 (RFC 3056)", "2002::/16", 80),
)
REFUSED_V6: tuple[tuple[str, Interval], ...] = (
    ("Teredo (RFC 4380) tunnels over the public IPv4 Internet and hides the host's IPv4 address", block("2001::/32")),
    ("the NAT64 local-use prefix (RFC 8215) embeds IPv4 at an operator-chosen length", block("64:ff9b:1::/48")),
)


def canonical(intervals: Iterable[Interval]) -> list[Interval]:
    """IPv4-mapped IPv6 rewritten as the IPv4 addresses it is; everything else unchanged; merged."""
    out: list[Interval] = []
    for iv in intervals:
        if iv.version == 6 and (mapped := iv.clip(IPV4_MAPPED)) is not None:
            out.append(Interval(4, mapped.first - IPV4_MAPPED.first, mapped.last - IPV4_MAPPED.first))
            out.extend(subtract([iv], [IPV4_MAPPED]))
        else:
            out.append(iv)
    return merge(out)


def canonical_address(text: str) -> str:
    """One spelling per host: '::ffff:198.18.0.7' -> '198.18.0.7'; raises ValueError for a non-address."""
    ip = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def named_ipv4(intervals: Iterable[Interval]) -> list[Interval]:
    """The IPv4 addresses that the embedding forms inside `intervals` name (not the plain IPv4 ones)."""
    out: list[Interval] = []
    for iv in intervals:
        if iv.version != 6:
            continue
        for emb in EMBEDDINGS:
            if (part := iv.clip(emb.zone)) is not None:
                out.append(emb.ipv4_of(part))
    return merge(out)


def expand_exclusions(excluded: Iterable[Interval]) -> list[Interval]:
    """Exclusions closed over notation: an IPv4 host excluded in any form is excluded in every form."""
    base = canonical(excluded)
    v4 = merge([iv for iv in base if iv.version == 4] + named_ipv4(base))
    naming = [part for iv in v4 for emb in EMBEDDINGS if (part := emb.ipv6_naming(iv)) is not None]
    return merge([*base, *v4, *naming])


@dataclass(frozen=True, slots=True)
class Judgement:
    """Why a block may not be scanned; `needs_flag` problems go away with --allow-public."""

    block: Interval
    reason: str
    needs_flag: bool


def judge(intervals: Iterable[Interval]) -> Iterator[Judgement]:
    """Every reason the (canonical) intervals are unsafe to scan, most severe kinds first per interval."""
    for iv in intervals:
        if iv.version == 4:
            yield from _judge_v4(iv, via=None)
            continue
        for reason, refused in REFUSED_V6:
            if (part := iv.clip(refused)) is not None:
                yield Judgement(part, f"{part.describe()}: {reason}; name the IPv4 host instead", False)
        for bad in intersect([iv], NOT_UNICAST_V6):
            yield Judgement(bad, f"{bad.describe()} is multicast or unspecified: not a unicast scan target", False)
        rest = [iv]
        for emb in EMBEDDINGS:
            if (part := iv.clip(emb.zone)) is not None:
                yield from _judge_v4(emb.ipv4_of(part), via=(part, emb))
                rest = subtract(rest, [emb.zone])
        rest = subtract(rest, [r for _, r in REFUSED_V6] + list(NOT_UNICAST_V6))
        for public in subtract(rest, NOT_GLOBAL_V6):
            yield Judgement(public, _public_reason(public.describe()), True)


def _judge_v4(iv: Interval, via: tuple[Interval, Embedding] | None) -> Iterator[Judgement]:
    def where(part: Interval) -> str:
        if via is None:
            return part.describe()
        return f"{via[0].describe()} ({via[1].name} form of {part.describe()})"

    for bad in intersect([iv], NOT_UNICAST_V4):
        yield Judgement(bad, f"{where(bad)} is multicast, broadcast or unspecified: not a unicast scan target", False)
    for public in subtract(subtract([iv], NOT_UNICAST_V4), NOT_GLOBAL_V4):
        yield Judgement(public, _public_reason(where(public)), True)


def _public_reason(where: str) -> str:
    return (
        f"{where} contains public (globally routable) addresses; scan only networks you own, "
        "and pass --allow-public to confirm"
    )
