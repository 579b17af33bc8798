"""The fingerprint data version: a digest of the rule files, recorded with every scan and shown in reports.

Its own module (no rule loading, no field vocabulary) so readers such as the report can name the version
without importing the parsers."""

from __future__ import annotations

import hashlib
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


def data_version(directory: Path = DATA_DIR) -> str:
    """A short digest of the rule files, so identifications can say which data produced them."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
