"""A screened row as the observations `trueorigin import` makes of an asset-export row (the asset-record path
of passive/imports.py): a `mac` observation when the row has a MAC address, and one `asset-record` holding
manufacturer, model and serial. The audit pipeline's `identify` turns these into an Identification.

Screening and identification share the name index (trueorigin.names) and the certainty table
(knowledge.types.CERTAINTY); they still combine evidence by their own rules (docs/screening.md, "Screening
and `trueorigin import`", lists where the two verdicts differ on the same row). `compare` measures that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from trueorigin.model import Observation
from trueorigin.screen.matcher import Matcher
from trueorigin.screen.normalize import mac_colon, mac_hex
from trueorigin.screen.verdict import RowValues

TRANSPORT = "inventory"


def row_observations(values: RowValues, host: str) -> list[Observation]:
    """The observations of one row, as read_asset_csv makes them (host: any label, e.g. "row-12")."""
    out: list[Observation] = []
    mac = mac_hex(values.mac)
    if mac is not None:
        out.append(Observation(host=host, protocol="mac", data=mac_colon(mac).encode(), transport=TRANSPORT))
    facts = {
        key: value.strip()
        for key, value in (("manufacturer", values.brand), ("model", values.model), ("serial", values.serial))
        if value.strip()
    }
    if facts:
        data = json.dumps(facts, ensure_ascii=False, sort_keys=True).encode()
        out.append(Observation(host=host, protocol="asset-record", data=data, transport=TRANSPORT))
    return out


@dataclass(frozen=True, slots=True)
class Comparison:
    """One row through both paths: (covered, vendor) from `screen` and from the asset-record path."""

    row: int
    values: RowValues
    screen: tuple[str, str]
    identify: tuple[str, str]

    @property
    def agree(self) -> bool:
        return self.screen == self.identify


def compare(rows: Iterable[tuple[int, RowValues]], matcher: Matcher) -> list[Comparison]:
    """Each row's verdict through `screen` and through asset records -> identify (the same knowledge base)."""
    from trueorigin.audit import identify

    out: list[Comparison] = []
    for number, values in rows:
        screened = matcher.screen(values)
        observations = row_observations(values, f"row-{number}")
        identified = identify(f"row-{number}", observations, matcher.kb) if observations else None  # type: ignore[arg-type]
        ident = (identified.covered, identified.vendor or "") if identified else ("no", "")
        out.append(Comparison(number, values, (screened.covered, screened.vendor), ident))
    return out
