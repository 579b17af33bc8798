"""What a test needs from the machine. Locally a missing tool or server skips the test; under CI (CI=true) it
fails the run, so a broken install can never turn into a green run of skips."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip locally, fail under CI."""
    if under_ci():
        pytest.fail(f"CI must provide this: {reason}", pytrace=False)
    pytest.skip(reason)


def require_tool(*names: str, install: str) -> str:
    """The path of the first of `names` found on PATH; otherwise skip (fail under CI) saying how to install it."""
    for name in names:
        path = shutil.which(name)
        if path is not None:
            return path
    missing(f"{' or '.join(names)} not found ({install})")


def require(condition: bool, reason: str) -> None:
    """A precondition that is not a single program (root for namespaces, a data package, a Python extra)."""
    if not condition:
        missing(reason)
