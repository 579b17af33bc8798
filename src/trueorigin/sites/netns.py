"""Enter a lab network namespace from one thread (lab and test use only).

A sensor keeps its broker connection in the host's namespace and runs its scanner inside its site's lab
namespace, so nothing it probes can leave the lab. Linux network namespaces belong to threads: after
`setns` only the calling thread (and threads it starts) open sockets inside the namespace.
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

from trueorigin.errors import InputError

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")  # where `ip netns add` puts its handles
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,48}$")


def enter_network_namespace(name: str) -> None:
    """Move the calling thread into the named namespace (`ip netns add NAME`); needs root."""
    if not _NAME.match(name):
        raise InputError(f"bad network namespace name {name[:60]!r}")
    path = NETNS_DIR / name
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise InputError(f"no network namespace {name!r} ({exc.strerror})") from None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise InputError(f"cannot enter network namespace {name!r}: {os.strerror(error)}")
    finally:
        os.close(fd)
