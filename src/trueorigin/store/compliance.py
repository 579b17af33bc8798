"""Contract and supplier data for FAR 52.204-25(d) reports, and the dates that start and stop its deadlines.

Kept apart from store/api.py: two small tables and one class that wraps a `Store`.

- `contract_data`: contract number, order numbers, supplier (name, UEI, CAGE), item description and mitigation,
  attached to a site (every finding there inherits it) or to one finding (overrides the site, field by field);
- `far_reports`: per finding, the day the covered equipment was identified (default: the day the finding was
  opened) and the days the initial (d)(2)(i) and further (d)(2)(ii) reports were sent.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from trueorigin.errors import InputError
from trueorigin.store.api import Store
from trueorigin.store.models import Base, FindingRow, SiteRow

# SAM.gov unique entity identifier: 12 characters, letters and digits; CAGE code: 5 characters.
UEI = re.compile(r"^[A-Z0-9]{12}$")
CAGE = re.compile(r"^[A-Z0-9]{5}$")
TEXT_LIMIT = 4000


class ContractDataRow(Base):
    """Contract and supplier data attached to a site or to a finding (exactly one of the two)."""

    __tablename__ = "contract_data"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True, unique=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), nullable=True, unique=True)
    contract_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    order_numbers: Mapped[str | None] = mapped_column(String(400), nullable=True)
    supplier_name: Mapped[str | None] = mapped_column(String(400), nullable=True)
    supplier_uei: Mapped[str | None] = mapped_column(String(12), nullable=True)
    supplier_cage: Mapped[str | None] = mapped_column(String(5), nullable=True)
    item_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    mitigation: Mapped[str | None] = mapped_column(Text, nullable=True)
    further_mitigation: Mapped[str | None] = mapped_column(Text, nullable=True)
    prevention: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(200))


class FarReportRow(Base):
    """The dates that drive the FAR 52.204-25(d) deadlines of one finding."""

    __tablename__ = "far_reports"
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), primary_key=True)
    identified_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    initial_sent_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    further_sent_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(200))


@dataclass(frozen=True, slots=True)
class ContractData:
    """What a FAR 52.204-25(d) report needs beyond what the scan saw. Empty fields are None."""

    contract_number: str | None = None
    order_numbers: str | None = None
    supplier_name: str | None = None
    supplier_uei: str | None = None
    supplier_cage: str | None = None
    item_description: str | None = None
    mitigation: str | None = None
    further_mitigation: str | None = None
    prevention: str | None = None

    def merged_over(self, base: ContractData) -> ContractData:
        """These values where set, else `base`'s (a finding's data over its site's)."""
        values = {f.name: getattr(self, f.name) or getattr(base, f.name) for f in fields(self)}
        return ContractData(**values)

    def to_json(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


CONTRACT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ContractData))


@dataclass(frozen=True, slots=True)
class FarDates:
    identified_on: dt.date | None = None  # None: the day the finding was opened
    initial_sent_on: dt.date | None = None
    further_sent_on: dt.date | None = None


def _clean(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > TEXT_LIMIT:
        raise InputError(f"{name} is longer than {TEXT_LIMIT} characters")
    if name == "supplier_uei":
        value = value.upper()
        if not UEI.match(value):
            raise InputError(f"the supplier UEI must be 12 letters or digits (SAM.gov), not {value!r}")
    if name == "supplier_cage":
        value = value.upper()
        if not CAGE.match(value):
            raise InputError(f"the CAGE code must be 5 letters or digits, not {value!r}")
    limits = {"contract_number": 100, "order_numbers": 400, "supplier_name": 400}
    if name in limits and len(value) > limits[name]:
        raise InputError(f"{name} is longer than {limits[name]} characters")
    return value


def _row_data(row: ContractDataRow | None) -> ContractData:
    if row is None:
        return ContractData()
    return ContractData(**{name: getattr(row, name) for name in CONTRACT_FIELDS})


class ComplianceStore:
    """Contract data and FAR report dates, in the same database as `store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine, expire_on_commit=False)

    @staticmethod
    def _site_id(session: Session, site: str) -> int:
        site_id = session.scalar(select(SiteRow.id).where(SiteRow.name == site))
        if site_id is None:
            raise InputError(f"no site {site!r} in the store")
        return site_id

    @staticmethod
    def _require_findings(session: Session, finding_ids: Iterable[int]) -> list[int]:
        wanted = list(dict.fromkeys(finding_ids))
        found = set(session.scalars(select(FindingRow.id).where(FindingRow.id.in_(wanted))))
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise InputError(f"no finding {', '.join(missing)}")
        return wanted

    def set_contract(
        self,
        values: Mapping[str, str | None],
        *,
        site: str | None = None,
        finding_ids: Iterable[int] = (),
        actor: str = "trueorigin",
        clear: Iterable[str] = (),
    ) -> int:
        """Set the given fields (None: leave as is; names in `clear`: empty them) on a site or on findings.

        Returns the number of records written. All in one transaction.
        """
        unknown = [k for k in (*values, *clear) if k not in CONTRACT_FIELDS]
        if unknown:
            raise InputError(f"unknown contract field(s): {', '.join(unknown)}")
        finding_list = list(finding_ids)
        if (site is None) == (not finding_list):
            raise InputError("give either a site or finding ids, not both and not neither")
        cleaned = {k: _clean(k, v) for k, v in values.items() if v is not None}
        with self._session() as session, session.begin():
            if site is not None:
                keys: list[tuple[str, int]] = [("site_id", self._site_id(session, site))]
            else:
                keys = [("finding_id", i) for i in self._require_findings(session, finding_list)]
            for column, key in keys:
                row = session.scalar(select(ContractDataRow).where(getattr(ContractDataRow, column) == key))
                if row is None:
                    row = ContractDataRow(updated_at=time.time(), updated_by=actor, **{column: key})
                    session.add(row)
                for name, value in cleaned.items():
                    setattr(row, name, value)
                for name in clear:
                    setattr(row, name, None)
                row.updated_at, row.updated_by = time.time(), actor[:200]
        return len(keys)

    def site_contract(self, site: str) -> ContractData:
        with self._session() as session:
            site_id = self._site_id(session, site)
            return _row_data(session.scalar(select(ContractDataRow).where(ContractDataRow.site_id == site_id)))

    def contracts(self, finding_ids: Iterable[int] | None = None) -> dict[int, ContractData]:
        """Each finding's contract data: its own fields over its site's."""
        with self._session() as session:
            from trueorigin.store.models import DeviceRow

            query = select(FindingRow.id, DeviceRow.site_id).join(DeviceRow, DeviceRow.id == FindingRow.device_id)
            if finding_ids is not None:
                query = query.where(FindingRow.id.in_(list(finding_ids)))
            pairs = list(session.execute(query))
            rows = list(session.scalars(select(ContractDataRow)))
        by_site = {r.site_id: _row_data(r) for r in rows if r.site_id is not None}
        by_finding = {r.finding_id: _row_data(r) for r in rows if r.finding_id is not None}
        out: dict[int, ContractData] = {}
        for finding_id, site_id in pairs:
            own = by_finding.get(finding_id, ContractData())
            out[finding_id] = own.merged_over(by_site.get(site_id, ContractData()))
        return out

    def set_far_dates(
        self,
        finding_ids: Iterable[int],
        *,
        identified_on: dt.date | None = None,
        initial_sent_on: dt.date | None = None,
        further_sent_on: dt.date | None = None,
        actor: str = "trueorigin",
    ) -> None:
        """Record the identification day and the days the (d)(2)(i) and (d)(2)(ii) reports were sent."""
        if initial_sent_on and identified_on and initial_sent_on < identified_on:
            raise InputError("the initial report cannot be sent before the equipment was identified")
        with self._session() as session, session.begin():
            for finding_id in self._require_findings(session, finding_ids):
                row = session.get(FarReportRow, finding_id)
                if row is None:
                    row = FarReportRow(finding_id=finding_id, updated_at=time.time(), updated_by=actor)
                    session.add(row)
                if identified_on is not None:
                    row.identified_on = identified_on
                if initial_sent_on is not None:
                    row.initial_sent_on = initial_sent_on
                if further_sent_on is not None:
                    if row.initial_sent_on is None:
                        raise InputError(f"finding {finding_id}: record the initial report before the further one")
                    row.further_sent_on = further_sent_on
                row.updated_at, row.updated_by = time.time(), actor[:200]

    def far_dates(self, finding_ids: Iterable[int] | None = None) -> dict[int, FarDates]:
        with self._session() as session:
            query = select(FarReportRow)
            if finding_ids is not None:
                query = query.where(FarReportRow.finding_id.in_(list(finding_ids)))
            return {
                r.finding_id: FarDates(r.identified_on, r.initial_sent_on, r.further_sent_on)
                for r in session.scalars(query)
            }


def contract_from_json(document: Mapping[str, Any]) -> ContractData:
    """ContractData from a JSON/dict (e.g. a REST body); unknown keys are refused."""
    unknown = [k for k in document if k not in CONTRACT_FIELDS]
    if unknown:
        raise InputError(f"unknown contract field(s): {', '.join(unknown)}")
    values = {k: _clean(k, None if v is None else str(v)) for k, v in document.items()}
    return replace(ContractData(), **values)
