"""FAR 52.204-25(d): what to report for each covered finding, and the two business-day deadlines.

    from trueorigin.report.far import far_status
    for s in far_status(store):                     # the dashboard calls this too
        print(s.finding_id, s.state, s.next_due, s.overdue)

The clause (text, deadlines, fields) comes from the knowledge base (`compliance.yaml`). Business days are Monday
to Friday except the legal public holidays of 5 U.S.C. 6103 (observed on the Friday before a Saturday holiday and
the Monday after a Sunday one), as the report states.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from trueorigin.knowledge.compliance import ReportingClause
from trueorigin.model import Identification
from trueorigin.store.api import FindingFilter, FindingRecord, Store
from trueorigin.store.compliance import ComplianceStore, ContractData, FarDates

FAR_CLAUSE_ID = "far-52.204-25-d"
# Which identifications a FAR 52.204-25(d) report is for: covered equipment (a "review" needs a decision first).
FAR_COVERAGE = "yes"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (Mon=0) of the month; n=-1 for the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def federal_holidays(year: int) -> frozenset[dt.date]:
    """Legal public holidays of 5 U.S.C. 6103(a), as observed (Inauguration Day is not counted)."""
    days = {
        _observed(dt.date(year, 1, 1)),  # New Year's Day
        _nth_weekday(year, 1, 0, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _observed(dt.date(year, 7, 4)),  # Independence Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _observed(dt.date(year, 11, 11)),  # Veterans Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving Day
        _observed(dt.date(year, 12, 25)),  # Christmas Day
    }
    if year >= 2021:
        days.add(_observed(dt.date(year, 6, 19)))  # Juneteenth National Independence Day (added 2021)
    # New Year's Day of next year on a Saturday is observed on Dec 31 of this year.
    if dt.date(year + 1, 1, 1).weekday() == 5:
        days.add(dt.date(year, 12, 31))
    return frozenset(days)


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def add_business_days(start: dt.date, count: int) -> dt.date:
    """The `count`-th business day after `start` ("within one business day" of Friday = the next Monday)."""
    day = start
    remaining = count
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days after `start` up to and including `end` (negative when `end` is before `start`)."""
    if end < start:
        return -business_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_business_day(start + dt.timedelta(days=n)))


@dataclass(frozen=True, slots=True)
class Deadline:
    id: str  # "initial" or "further"
    paragraph: str  # "(d)(2)(i)"
    due: dt.date
    sent_on: dt.date | None
    projected: bool  # due date counted from a report not sent yet (the further deadline before the initial report)

    def overdue(self, today: dt.date) -> bool:
        return (self.sent_on is None and today > self.due) or (self.sent_on is not None and self.sent_on > self.due)

    def late(self) -> bool:
        return self.sent_on is not None and self.sent_on > self.due

    def to_json(self, today: dt.date) -> dict[str, Any]:
        return {
            "id": self.id,
            "paragraph": self.paragraph,
            "due": self.due.isoformat(),
            "sent_on": self.sent_on.isoformat() if self.sent_on else None,
            "projected": self.projected,
            "overdue": self.overdue(today),
        }


@dataclass(frozen=True, slots=True)
class FarStatus:
    """One covered finding's FAR 52.204-25(d) reporting state."""

    finding_id: int
    identified_on: dt.date
    deadlines: tuple[Deadline, ...]
    contract: ContractData
    missing: tuple[str, ...]  # labels of required fields with no value yet
    today: dt.date
    finding: FindingRecord | None = field(default=None, compare=False)

    @property
    def next_deadline(self) -> Deadline | None:
        """The first deadline whose report is not sent yet (None when every report is sent)."""
        return next((d for d in self.deadlines if d.sent_on is None), None)

    @property
    def next_due(self) -> dt.date | None:
        upcoming = self.next_deadline
        return upcoming.due if upcoming else None

    @property
    def overdue(self) -> bool:
        return any(d.overdue(self.today) and d.sent_on is None for d in self.deadlines)

    @property
    def state(self) -> str:
        upcoming = self.next_deadline
        if upcoming is None:
            late = [d.id for d in self.deadlines if d.late()]
            return "reported" + (f" (late: {', '.join(late)})" if late else "")
        return f"{upcoming.id} report {'overdue' if upcoming.overdue(self.today) else 'due'} {upcoming.due.isoformat()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "identified_on": self.identified_on.isoformat(),
            "state": self.state,
            "overdue": self.overdue,
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "deadlines": [d.to_json(self.today) for d in self.deadlines],
            "contract": self.contract.to_json(),
            "missing": list(self.missing),
        }


def far_clause(kb: Any = None) -> ReportingClause:
    """The FAR 52.204-25(d) clause from the knowledge base (loaded when not given)."""
    if kb is None:
        from trueorigin.knowledge import load

        kb = load()
    clause = kb.raw.compliance.reporting_clause(FAR_CLAUSE_ID)
    if clause is None:
        raise LookupError(f"the knowledge base does not describe {FAR_CLAUSE_ID}")
    return clause  # type: ignore[no-any-return]


def item_description(ident: Identification) -> str:
    """What the equipment is, in the report's words, when the user gave no description of their own."""
    made = f"{ident.kind or 'network device'} made by {ident.vendor or 'an unidentified maker'}"
    if ident.brand and ident.vendor and ident.brand.casefold() != ident.vendor.casefold():
        made += f", sold under the brand {ident.brand}"
    return made + (f", model {ident.model}" if ident.model else "")


def _field_value(field_id: str, finding: FindingRecord, contract: ContractData) -> str | None:
    ident = finding.identification
    derived = {
        "brand": ident.brand or ident.vendor,
        "model_number": ident.model,
        "item_description": contract.item_description or item_description(ident),
    }
    if field_id in derived:
        return derived[field_id]
    return getattr(contract, field_id, None)


def compute_status(
    clause: ReportingClause,
    finding: FindingRecord,
    dates: FarDates,
    contract: ContractData,
    today: dt.date,
) -> FarStatus:
    identified = dates.identified_on or dt.datetime.fromtimestamp(finding.created_at, dt.UTC).date()
    sent = {"initial": dates.initial_sent_on, "further": dates.further_sent_on}
    deadlines: list[Deadline] = []
    for rule in clause.deadlines:
        projected = False
        if rule.starts_from == "identification":
            start = identified
        else:
            previous = next(d for d in deadlines if d.id == rule.starts_from)
            # (d)(2)(ii) counts from *submitting* the (d)(2)(i) report; until then, from its due date.
            start = previous.sent_on or previous.due
            projected = previous.sent_on is None
        deadlines.append(
            Deadline(
                id=rule.id,
                paragraph=rule.paragraph,
                due=add_business_days(start, rule.business_days),
                sent_on=sent.get(rule.id),
                projected=projected,
            )
        )
    missing = tuple(f.label for f in clause.fields if f.required and not _field_value(f.id, finding, contract))
    return FarStatus(
        finding_id=finding.id,
        identified_on=identified,
        deadlines=tuple(deadlines),
        contract=contract,
        missing=missing,
        today=today,
        finding=finding,
    )


def far_status(
    store: Store,
    finding_ids: Iterable[int] | None = None,
    today: dt.date | None = None,
    kb: Any = None,
    scan_id: str | None = None,
) -> list[FarStatus]:
    """FAR 52.204-25(d) state of every covered finding (or of the given ones), oldest identification first."""
    day = today or dt.date.today()
    clause = far_clause(kb)
    wanted = set(finding_ids) if finding_ids is not None else None
    findings = [
        f
        for f in store.findings(FindingFilter(covered=FAR_COVERAGE, scan_id=scan_id), today=day)
        if wanted is None or f.id in wanted
    ]
    if wanted is not None:
        missing = wanted - {f.id for f in findings}
        if missing:
            from trueorigin.errors import InputError

            raise InputError(f"no covered finding {', '.join(str(i) for i in sorted(missing))}")
    compliance = ComplianceStore(store)
    ids = [f.id for f in findings]
    dates = compliance.far_dates(ids)
    contracts = compliance.contracts(ids)
    out = [
        compute_status(clause, f, dates.get(f.id, FarDates()), contracts.get(f.id, ContractData()), day)
        for f in findings
    ]
    out.sort(key=lambda s: (s.identified_on, s.finding_id))
    return out
