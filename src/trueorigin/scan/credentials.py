"""User-supplied credentials for credentialed probes (`--credentials FILE`).

The file lists, per target set, a login the user owns; trueorigin never guesses one, never tries
defaults, never logs a password, never stores one in results or observations. Formats:

- YAML or JSON: a list of mappings, or a mapping with a ``credentials`` list. Each entry has
  ``targets`` (a list or a string of addresses/CIDRs/ranges) or ``cidr``, and ``username`` plus
  ``password``, and/or ``snmp_community``.
- CSV with a header row: ``targets`` (or ``cidr``), ``username``, ``password``, optional ``snmp_community``;
  several targets in one cell are separated by spaces or ``;``.

The first entry whose targets contain a host wins for each credential kind, in file order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from trueorigin.errors import InputError, SafetyError
from trueorigin.limits import read_bounded
from trueorigin.probes.base import Credential
from trueorigin.scan.targets import TargetSet, parse_targets

MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class CredentialEntry:
    targets: TargetSet
    credential: Credential | None
    snmp_community: str | None

    def __repr__(self) -> str:  # the community is a secret too
        community = "'***'" if self.snmp_community else None
        return f"CredentialEntry(credential={self.credential!r}, snmp_community={community})"


@dataclass(frozen=True, slots=True)
class CredentialBook:
    entries: tuple[CredentialEntry, ...] = ()
    warnings: tuple[str, ...] = ()  # for the user, never quoting a secret (e.g. the file is world-readable)

    def for_host(self, address: str) -> tuple[Credential, ...]:
        return tuple(e.credential for e in self.entries if e.credential is not None and address in e.targets)

    def snmp_communities(self, address: str) -> tuple[str, ...]:
        return tuple(e.snmp_community for e in self.entries if e.snmp_community and address in e.targets)

    def secrets(self) -> set[str]:
        """Every password/community, so callers can check that none leaked into outputs."""
        found: set[str] = set()
        for e in self.entries:
            if e.credential is not None:
                found.add(e.credential.password)
            if e.snmp_community:
                found.add(e.snmp_community)
        return found


def _target_specs(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [t for t in value.replace(";", " ").replace(",", " ").split() if t]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return list(value)
    raise InputError(f"{where}: 'targets' must be a string or a list of strings")


def _entry(raw: Any, where: str) -> CredentialEntry:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: each credential must be a mapping")
    spec_value = raw.get("targets", raw.get("cidr"))
    if spec_value in (None, "", []):
        raise InputError(f"{where}: missing 'targets' (or 'cidr')")
    specs = _target_specs(spec_value, where)
    # credentials may name public hosts the user owns; the scan's own target check still applies.
    # No name resolution and no echo: a CSV row whose cells shifted puts a password here, and it must not
    # become a DNS query or an error message.
    try:
        targets = parse_targets(specs, allow_public=True, max_hosts=None, resolve=False)
    except (InputError, SafetyError):
        raise InputError(
            f"{where}: 'targets' must be addresses, CIDRs or ranges "
            "(value withheld: a shifted column may hold a secret)"
        ) from None
    username, password = raw.get("username"), raw.get("password")
    community = raw.get("snmp_community") or None
    credential: Credential | None = None
    if username or password:
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            raise InputError(f"{where}: 'username' and 'password' must both be non-empty strings")
        credential = Credential(username=username, password=password)
    if community is not None and not isinstance(community, str):
        raise InputError(f"{where}: 'snmp_community' must be a string")
    if credential is None and community is None:
        raise InputError(f"{where}: needs username/password or snmp_community")
    return CredentialEntry(targets=targets, credential=credential, snmp_community=community)


def _rows_from_csv(text: str) -> list[dict[str, Any]]:
    try:
        # strict: an unterminated quote is an error, not a cell that swallows the rest of the file
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        if not reader.fieldnames or not ({"targets", "cidr"} & {f.strip().lower() for f in reader.fieldnames}):
            raise InputError("credentials CSV needs a header row with 'targets' (or 'cidr'), 'username', 'password'")
        rows: list[dict[str, Any]] = []
        for number, row in enumerate(reader, start=2):
            if None in row:
                raise InputError(
                    f"credentials CSV line {number} has more cells than the header (an unquoted comma?); "
                    "values withheld"
                )
            rows.append({(k or "").strip().lower(): _cell(v) for k, v in row.items()})
    except csv.Error:
        raise InputError("credentials file is not valid CSV (line details withheld)") from None
    return rows


def _cell(value: Any) -> str:
    return (value or "").strip()


def parse_credentials(text: str, fmt: str) -> CredentialBook:
    """Parse credential text in `fmt` ("yaml", "json" or "csv"). Errors never quote the secrets."""
    data: Any
    if fmt == "csv":
        data = _rows_from_csv(text)
    elif fmt in ("yaml", "json"):
        try:
            data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError):
            # the parser's message may quote a line of the file, which may hold a password
            raise InputError(f"credentials file is not valid {fmt.upper()} (line details withheld)") from None
        if isinstance(data, dict):
            data = data.get("credentials")
        if not isinstance(data, list):
            raise InputError("credentials file must be a list of entries (or a mapping with a 'credentials' list)")
    else:
        raise InputError(f"unknown credentials format {fmt!r}")
    return CredentialBook(tuple(_entry(raw, f"credential #{i + 1}") for i, raw in enumerate(data)))


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return read_bounded(handle, MAX_CREDENTIAL_FILE_BYTES, f"credentials file {path}")
    except OSError as exc:
        raise InputError(f"cannot read credentials file {path}: {exc.strerror}") from exc


def _exposure_warning(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) and mode & 0o044:
        return (
            f"credentials file {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"restrict it: chmod 600 {path}"
        )
    return None


def load_credentials(path: Path) -> CredentialBook:
    data = _read(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"credentials file {path} is not UTF-8 text") from None
    suffix = path.suffix.lower()
    fmt = {".csv": "csv", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(suffix)
    if fmt is None:
        fmt = "json" if text.lstrip().startswith(("[", "{")) else "yaml"
    book = parse_credentials(text, fmt)
    warning = _exposure_warning(path)
    return replace(book, warnings=(warning,)) if warning else book


def credentials_check(path: Path, salt: bytes) -> str:
    """A salted, slow hash of the file's bytes: lets `--resume` tell the same file from another, and
    is stored instead of anything that could give a password back."""
    return hashlib.scrypt(_read(path), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()
