"""Device identity across scans: the same device is the same MAC, else the same serial, else the same address.

An address match only counts when nothing contradicts it: a device at the same IP with a different MAC or
serial is a *different* device (that is exactly what "replaced" looks like), so it must not be merged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from trueorigin.model import normalize_mac

__all__ = ["IdentityKey", "find_same_device", "normalize_mac", "normalize_serial"]


def normalize_serial(serial: str | None) -> str | None:
    if serial is None:
        return None
    cleaned = serial.strip()
    return cleaned or None


@dataclass(frozen=True, slots=True)
class IdentityKey:
    mac: str | None
    serial: str | None
    address: str

    @staticmethod
    def of(address: str, mac: str | None, serial: str | None) -> IdentityKey:
        return IdentityKey(normalize_mac(mac), normalize_serial(serial), address)


def compatible(known: IdentityKey, seen: IdentityKey) -> bool:
    """False when a hardware identifier known on both sides differs."""
    if known.mac and seen.mac and known.mac != seen.mac:
        return False
    return not (known.serial and seen.serial and known.serial != seen.serial)


T = TypeVar("T")


def find_same_device(seen: IdentityKey, candidates: Sequence[T], key: Callable[[T], IdentityKey]) -> T | None:
    """The candidate that is the same device as `seen`: by MAC, then serial, then address.

    Later candidates win ties (callers pass them oldest first, so the most recently seen device is chosen).
    """
    ordered = list(reversed(candidates))
    if seen.mac:
        for cand in ordered:
            if key(cand).mac == seen.mac:
                return cand
    if seen.serial:
        for cand in ordered:
            k = key(cand)
            if k.serial == seen.serial and compatible(k, seen):
                return cand
    for cand in ordered:
        k = key(cand)
        if k.address == seen.address and compatible(k, seen):
            return cand
    return None
