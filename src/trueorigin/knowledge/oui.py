"""MAC addresses, OUI prefixes and the IEEE registry import.

The shipped table `data/oui.tsv` is the output of `trueorigin kb import-oui /usr/share/ieee-data` (Debian's
`ieee-data` package): every MA-L (/24), MA-M (/28), MA-S (/36) and IAB (/36) assignment whose organization
string is mapped to a knowledge-base entity or brand in `data/oui-organizations.yaml`. Organization strings
are compared case- and punctuation-insensitively, never by substring, so "Shanghai Dahua Scale Factory"
stays out (it is listed under `excluded` with the reason).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from trueorigin.errors import DataError, InputError
from trueorigin.knowledge.names import normalize
from trueorigin.knowledge.types import OuiRecord
from trueorigin.model import normalize_mac

REGISTRY_FILES = {"oui.csv": "MA-L", "mam.csv": "MA-M", "oui36.csv": "MA-S", "iab.csv": "IAB"}
PREFIX_BITS = {6: 24, 7: 28, 9: 36}
TSV_COLUMNS = ("prefix", "bits", "registry", "organization", "entity", "brand")
MAX_REGISTRY_BYTES = 64 * 1024 * 1024  # the 2022 registry is ~4 MB; refuse anything absurd
_HEX = re.compile(r"^[0-9A-F]+$")
_OUI_SEPARATED = re.compile(r"^[0-9a-f]{1,2}([:\-])[0-9a-f]{1,2}\1[0-9a-f]{1,2}$", re.IGNORECASE)
_OUI_BARE = re.compile(r"^[0-9a-f]{6}$", re.IGNORECASE)
# Words that, found in an unmapped organization string, deserve a human look during import.
WATCH_WORDS = (
    "hikvision", "haikang", "ezviz", "hikrobot", "hikmicro", "microimage", "dahua", "huacheng", "lechange",
    "imou", "huaray", "huawei", "hisilicon", "honor", "zte", "zhongxing", "nubia", "hytera", "sepura",
    "teltronic", "norsat", "xfusion", "prama", "amcrest", "lorex",
)  # fmt: skip


def mac_hex(text: str) -> str | None:
    """Upper-case hex digits of a MAC address (any notation `trueorigin.model.normalize_mac` accepts, 12
    digits) or of an OUI (6 digits: aa:bb:cc, aa-bb-cc, or bare with at least one decimal digit, so a word
    such as "BADCAB" is not taken for an OUI), else None. A leading "MAC:" is ignored."""
    value = text.strip()
    if value.lower().startswith("mac") and ":" in value[:5]:
        value = value.split(":", 1)[1].strip()
    mac = normalize_mac(value)
    if mac is not None:
        return mac.replace(":", "").upper()
    if found := _OUI_SEPARATED.match(value):
        return "".join(part.zfill(2) for part in value.split(found.group(1))).upper()
    if _OUI_BARE.match(value) and any(c.isdigit() for c in value):
        return value.upper()
    return None


@dataclass(frozen=True, slots=True)
class OuiTable:
    """Longest-prefix lookup over /36, /28 and /24 assignments."""

    by_prefix: dict[str, OuiRecord]

    def lookup(self, text: str) -> OuiRecord | None:
        digits = mac_hex(text)
        if digits is None:
            return None
        for length in (9, 7, 6):
            if len(digits) >= length:
                record = self.by_prefix.get(digits[:length])
                if record is not None:
                    return record
        return None


def read_oui_tsv(text: str) -> tuple[dict[str, str], list[OuiRecord]]:
    """Parse the shipped table: '# key: value' header lines, a column line, then one assignment a line."""
    header: dict[str, str] = {}
    records: list[OuiRecord] = []
    columns_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                header[key.strip()] = value.strip()
            continue
        cells = line.split("\t")
        if not columns_seen:
            if tuple(cells) != TSV_COLUMNS:
                raise DataError(f"line {number}: expected the column line {' '.join(TSV_COLUMNS)}")
            columns_seen = True
            continue
        if len(cells) != len(TSV_COLUMNS):
            raise DataError(f"line {number}: expected {len(TSV_COLUMNS)} tab-separated columns")
        prefix, bits, registry, organization, entity, brand = cells
        if not _HEX.match(prefix) or PREFIX_BITS.get(len(prefix)) != int(bits or 0):
            raise DataError(f"line {number}: bad prefix {prefix!r} for {bits} bits")
        records.append(
            OuiRecord(
                prefix=prefix,
                bits=int(bits),
                registry=registry,
                organization=organization,
                entity=entity or None,
                brand=brand or None,
                registry_date=header.get("registry-date", ""),
            )
        )
    return header, records


@dataclass(frozen=True, slots=True)
class RegistryRow:
    registry: str
    prefix: str
    organization: str


@dataclass
class ImportResult:
    records: list[OuiRecord]
    registry_date: str
    files: list[str]
    rows_read: int
    counts: Counter[str] = field(default_factory=Counter)  # entity or brand -> assignments
    unmapped_suspicious: list[str] = field(default_factory=list)  # organizations to review
    unused_mappings: list[str] = field(default_factory=list)  # mapped organizations absent from the registry


def read_registry_file(path: Path, registry: str | None = None) -> list[RegistryRow]:
    """Read one IEEE registry CSV (Registry,Assignment,Organization Name,Organization Address)."""
    try:
        if path.stat().st_size > MAX_REGISTRY_BYTES:
            raise InputError(f"{path}: larger than {MAX_REGISTRY_BYTES // (1024 * 1024)} MiB, not an IEEE registry")
        if path.name.endswith(".gz"):  # the shipped snapshot is compressed; read at most the size limit, plus one
            with gzip.open(path, "rb") as stream:
                raw = stream.read(MAX_REGISTRY_BYTES + 1)
            if len(raw) > MAX_REGISTRY_BYTES:
                raise InputError(f"{path}: inflates past {MAX_REGISTRY_BYTES // (1024 * 1024)} MiB, not a registry")
            text = raw.decode("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: not a gzip file: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    reader = csv.reader(io.StringIO(text))
    head = next(reader, None)
    if head is None or [h.strip() for h in head[:3]] != ["Registry", "Assignment", "Organization Name"]:
        raise InputError(
            f"{path}: not an IEEE registry CSV (first line must start with 'Registry,Assignment,Organization Name')"
        )
    rows: list[RegistryRow] = []
    for number, cells in enumerate(reader, start=2):
        if not cells:
            continue
        if len(cells) < 3:
            raise InputError(f"{path}:{number}: expected at least 3 columns, got {len(cells)}")
        kind, prefix, organization = cells[0].strip(), cells[1].strip().upper(), cells[2].strip()
        if kind not in ("MA-L", "MA-M", "MA-S", "IAB") or (registry and kind != registry):
            raise InputError(f"{path}:{number}: unexpected registry {kind!r}")
        expected = 6 if kind == "MA-L" else 7 if kind == "MA-M" else 9
        if len(prefix) != expected or not _HEX.match(prefix):
            raise InputError(f"{path}:{number}: assignment {prefix!r} is not {expected} hex digits for {kind}")
        rows.append(RegistryRow(kind, prefix, organization))
    return rows


MAX_REGISTRY_AGE_DAYS = 365  # an older snapshot misses assignments made since: `kb stats` warns


def registry_age_warning(registry_date: str, today: dt.date | None = None) -> str | None:
    """A warning when the OUI registry snapshot is more than a year old (or its date is unknown), else None."""
    try:
        day = dt.date.fromisoformat(registry_date)
    except ValueError:
        return f"the OUI registry snapshot has no valid date ({registry_date!r}): refresh it with `kb import-oui`"
    age = ((today or dt.date.today()) - day).days
    if age <= MAX_REGISTRY_AGE_DAYS:
        return None
    return (
        f"the OUI registry snapshot is {age} days old (registry date {registry_date}); assignments made since are "
        "missing: download the IEEE MA-L, MA-M, MA-S and IAB CSV files and run `trueorigin kb import-oui DIR`"
    )


SNAPSHOT_FILE = "SNAPSHOT"  # the shipped snapshot's date (YYYY-MM-DD) and provenance, first line = the date


def registry_date_of(directory: Path) -> str | None:
    """The registry date: the first line of a `SNAPSHOT` file, or Debian ieee-data's `.lastupdate` (Unix
    seconds of its download)."""
    snapshot = directory / SNAPSHOT_FILE
    try:
        first = snapshot.read_text(encoding="utf-8").splitlines()[0].strip()
        dt.date.fromisoformat(first)
        return first
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        pass
    stamp = directory / ".lastupdate"
    try:
        seconds = int(stamp.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date().isoformat()


def import_registry(
    path: Path,
    mapping: dict[str, tuple[str | None, str | None]],
    excluded: Iterable[str],
    registry_date: str | None = None,
) -> ImportResult:
    """Select the assignments of mapped organizations from an IEEE registry directory (or one CSV file).

    `mapping` is normalized organization -> (entity id, brand id). Raises InputError for a missing or
    malformed registry, or when the registry date cannot be told.
    """
    files: list[tuple[Path, str | None]]
    if path.is_dir():
        files = []
        for name, registry in REGISTRY_FILES.items():  # plain CSV as IEEE publishes it, or the shipped .csv.gz
            files.extend((found, registry) for found in (path / name, path / f"{name}.gz") if found.is_file())
        if not files:
            raise InputError(f"{path}: no IEEE registry files ({', '.join(REGISTRY_FILES)}) in this directory")
        date = registry_date or registry_date_of(path)
    elif path.is_file():
        files = [(path, None)]
        date = registry_date or registry_date_of(path.parent)
    else:
        raise InputError(f"{path}: no such file or directory")
    if date is None:
        raise InputError(f"{path}: cannot tell the registry date (no .lastupdate); pass --registry-date YYYY-MM-DD")
    try:
        dt.date.fromisoformat(date)
    except ValueError as exc:
        raise InputError(f"registry date {date!r} is not YYYY-MM-DD") from exc
    excluded_keys = {normalize(name) for name in excluded}
    result = ImportResult(records=[], registry_date=date, files=[str(f) for f, _ in files], rows_read=0)
    used: set[str] = set()
    suspicious: set[str] = set()
    seen: set[str] = set()
    for file, kind in files:
        for row in read_registry_file(file, kind):
            result.rows_read += 1
            key = normalize(row.organization)
            target = mapping.get(key)
            if target is None:
                words = set(key.split())
                if key not in excluded_keys and any(w in words for w in WATCH_WORDS):
                    suspicious.add(row.organization)
                continue
            if row.prefix in seen:
                continue
            seen.add(row.prefix)
            used.add(key)
            entity, brand = target
            result.records.append(
                OuiRecord(
                    prefix=row.prefix,
                    bits=PREFIX_BITS[len(row.prefix)],
                    registry=row.registry,
                    organization=row.organization,
                    entity=entity,
                    brand=brand,
                    registry_date=date,
                )
            )
            result.counts[entity or f"brand:{brand}"] += 1
    result.records.sort(key=lambda r: (r.entity or "~", r.brand or "", r.organization.casefold(), r.prefix))
    result.unmapped_suspicious = sorted(suspicious)
    result.unused_mappings = sorted(k for k in mapping if k not in used)
    return result


def write_oui_tsv(result: ImportResult, source: str, mapping_note: str) -> str:
    """The shipped table, byte-for-byte reproducible from the same registry and mapping."""
    out = io.StringIO()
    out.write("# trueorigin OUI table: IEEE assignments of covered entities, their subsidiaries and relabel brands\n")
    out.write(f"# generated-by: trueorigin kb import-oui {source}\n")
    out.write(
        "# registry: IEEE Registration Authority MA-L (oui.csv), MA-M (mam.csv), MA-S (oui36.csv), IAB (iab.csv)\n"
    )
    out.write(f"# registry-date: {result.registry_date}\n")
    out.write(f"# mapping: {mapping_note}\n")
    out.write(f"# assignments: {len(result.records)}\n")
    out.write("\t".join(TSV_COLUMNS) + "\n")
    for r in result.records:
        cells = (r.prefix, str(r.bits), r.registry, r.organization, r.entity or "", r.brand or "")
        out.write("\t".join(c.replace("\t", " ") for c in cells) + "\n")
    return out.getvalue()
