"""Protocol modules, one per protocol family, discovered automatically.

Contract of a module `trueorigin.probes.<name>` (see docs/ARCHITECTURE.md):

- `PARSERS: dict[str, Callable[[bytes, str | None], Parsed]]` maps observation protocol names
  (`"http"`, `"snmp-sysdescr"`, ...) to pure parse functions `parse(data, request) -> Parsed`.
  Parsers never raise and never do I/O; bad bytes give `Parsed.unparseable(...)`.
- optional `async def probe(target: Target, ctx: ProbeContext) -> list[Observation]`: the only place
  that does network I/O for this protocol, with `ctx.timeout` and `ctx.max_bytes` bounds.
- optional `TCP_PORTS` / `UDP_PORTS`: ports where the protocol is likely (nmap's `ports`).
- optional `NEEDS_CREDENTIALS = True` when `probe` only runs with user-supplied credentials.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache
from types import ModuleType

from trueorigin.model import Observation, Parsed

ParseFn = Callable[[bytes, "str | None"], Parsed]

_NOT_PROTOCOL_MODULES = {"base", "message", "httpauth", "deviceinfo"}  # helpers, not protocols


@cache
def modules() -> tuple[ModuleType, ...]:
    """Every protocol module in this package, in name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in _NOT_PROTOCOL_MODULES:
            continue
        found.append(importlib.import_module(f"{__name__}.{info.name}"))
    return tuple(found)


@cache
def parsers() -> dict[str, ParseFn]:
    table: dict[str, ParseFn] = {}
    for module in modules():
        for protocol, fn in getattr(module, "PARSERS", {}).items():
            if protocol in table:
                raise RuntimeError(f"protocol {protocol!r} is parsed by two modules")
            table[protocol] = fn
    return table


def known_protocols() -> list[str]:
    return sorted(parsers())


def parse(observation: Observation) -> Parsed:
    """Parse one observation with its protocol's parser; never raises."""
    fn = parsers().get(observation.protocol)
    if fn is None:
        return Parsed.unparseable(observation.protocol, f"unknown protocol {observation.protocol!r}")
    try:
        return fn(observation.data, observation.request)
    except Exception as exc:  # a parser bug must not stop an audit; report it as unparseable
        return Parsed.unparseable(observation.protocol, f"parser error: {type(exc).__name__}: {exc}")
