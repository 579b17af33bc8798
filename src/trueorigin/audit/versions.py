"""Which tool and data decided a verdict: recorded with every scan, shown in every report."""

from __future__ import annotations

from dataclasses import dataclass

from trueorigin import __version__, fingerprints
from trueorigin.knowledge import KnowledgeBase


@dataclass(frozen=True, slots=True)
class DataVersions:
    tool: str  # trueorigin's own version
    knowledge: str  # knowledge-base version: its declared version + a digest of its data files
    fingerprints: str  # digest of the fingerprint rule files

    def to_json(self) -> dict[str, str]:
        return {"tool": self.tool, "knowledge": self.knowledge, "fingerprints": self.fingerprints}


def current_versions(kb: KnowledgeBase) -> DataVersions:
    return DataVersions(tool=__version__, knowledge=kb.version, fingerprints=fingerprints.data_version())
