"""Identification accuracy on every real device answer the project holds: precision and recall per vendor and
per protocol, for the covered vendors and overall.

    .venv/bin/python bench/accuracy.py            # table
    .venv/bin/python bench/accuracy.py --json     # machine-readable
    .venv/bin/python bench/accuracy.py --misses   # list every miss and false alarm

Corpora (each item: a real answer and the maker that truly made the device):
- `recog`: tests/data/accuracy/recog.yaml, examples of rapid7/recog's fingerprint files, labelled with the maker
  recog names. trueorigin uses none of recog's patterns; an example equal to one of trueorigin's own rule
  examples is "seen", every other one is held out. Examples labelled only with an operating-system vendor
  (Microsoft, Linux distributions ...) or with a relabel brand whose maker depends on the product line
  (Honeywell, Annke ...) say nothing certain about who made the device and are left out (counted).
- `telecom`: tests/data/accuracy/telecom.yaml, answers of Huawei/ZTE and other gear collected for this work
  (HiLink API answers, SNMP sysDescr + sysObjectID of one device), each with its source; an item may list
  further answers of the same device (`also`). Held out unless a value is one of the rules' own examples.
- `rules`: every sourced example of every fingerprint rule (seen by construction).
- `models`: every example model number of the knowledge base, resolved by `kb.model` (seen by construction).

Each answer is rebuilt as the observation a probe would record (an HTTP response with that Server header, an
SNMP sysDescr, a SIP answer ...) and identified by the same engine as scans and captures (`identify_host`).
A device counts as covered when its true maker is a covered entity (directly or as a subsidiary).
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trueorigin.fingerprints import load_rules
from trueorigin.identify import identify_host
from trueorigin.knowledge import KnowledgeBase, load
from trueorigin.model import Observation

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "accuracy"
# Labels that name an operating system's maker, not the device's.
OS_ONLY = frozenset(
    {"microsoft", "linux", "suse", "red hat", "redhat", "canonical", "ubuntu", "debian", "freebsd", "openbsd",
     "netbsd", "wind river", "wind river systems", "sun", "oracle", "apple", "gnu", "unix", "centos", "sco",
     "ibm", "hewlett-packard", "the openbsd project", "busybox"}
)  # fmt: skip
TOP = ("hikvision", "dahua", "huawei", "zte", "hytera")


@dataclass(frozen=True, slots=True)
class Item:
    corpus: str
    answer: str  # the field family the real answer fills (http.header.server, snmp.sysdescr ...)
    value: str
    maker: str  # as the source names it
    held_out: bool
    source: str
    also: tuple[tuple[str, str], ...] = ()  # further answers of the same device: (answer, value)


def observation(answer: str, value: str) -> Observation | None:
    """The observation a probe records for this answer (None: no probe records such an answer)."""
    host = "198.18.0.1"
    crlf = "\r\n"
    if answer == "snmp.sysdescr":
        return Observation(host=host, protocol="snmp-sysdescr", data=value.encode())
    if answer == "snmp.enterprise":
        return Observation(host=host, protocol="snmp-sysobjectid", data=f"1.3.6.1.4.1.{value}".encode())
    if answer == "dhcp.vendor_class":
        return Observation(host=host, protocol="dhcp-vendor-class", data=value.encode())
    if answer == "sip.header.server":
        text = f"SIP/2.0 200 OK{crlf}CSeq: 1 OPTIONS{crlf}Server: {value}{crlf}Content-Length: 0{crlf}{crlf}"
        return Observation(host=host, protocol="banner", data=text.encode(), port=5060)
    if answer == "sip.header.user-agent":
        text = f"SIP/2.0 200 OK{crlf}CSeq: 1 OPTIONS{crlf}User-Agent: {value}{crlf}Content-Length: 0{crlf}{crlf}"
        return Observation(host=host, protocol="banner", data=text.encode(), port=5060)
    if answer == "ftp.banner":
        return Observation(host=host, protocol="banner", data=f"220 {value}{crlf}".encode(), port=21)
    if answer in ("telnet.banner", "banner.text"):
        return Observation(host=host, protocol="banner", data=f"{value}{crlf}".encode(), port=23)
    if answer == "ssh.software":
        return Observation(host=host, protocol="banner", data=f"SSH-2.0-{value}{crlf}".encode(), port=22)
    if answer == "http.header.server":
        text = f"HTTP/1.1 200 OK{crlf}Server: {value}{crlf}Content-Length: 0{crlf}{crlf}"
        return Observation(host=host, protocol="http", data=text.encode(), port=80, request="GET /")
    if answer == "http.title":
        body = f"<html><head><title>{html.escape(value)}</title></head><body></body></html>"
        text = f"HTTP/1.1 200 OK{crlf}Content-Type: text/html{crlf}Content-Length: {len(body)}{crlf}{crlf}{body}"
        return Observation(host=host, protocol="http", data=text.encode(), port=80, request="GET /")
    if answer == "http.header.www-authenticate":
        text = f"HTTP/1.1 401 Unauthorized{crlf}WWW-Authenticate: {value}{crlf}Content-Length: 0{crlf}{crlf}"
        return Observation(host=host, protocol="http", data=text.encode(), port=80, request="GET /")
    if answer == "http.realm":
        return observation("http.header.www-authenticate", f'Basic realm="{value}"')
    if answer == "http.body":  # an XML/HTML body as a device-info path answers it
        payload = value.encode()
        head = f"HTTP/1.1 200 OK{crlf}Content-Type: text/xml{crlf}Content-Length: {len(payload)}{crlf}{crlf}"
        return Observation(
            host=host, protocol="http", data=head.encode() + payload, port=80, request="GET /api/device/information"
        )
    if answer == "rtsp.header.server":
        text = f"RTSP/1.0 200 OK{crlf}CSeq: 1{crlf}Server: {value}{crlf}{crlf}"
        return Observation(host=host, protocol="rtsp", data=text.encode(), port=554, request="OPTIONS")
    return None


def truth(kb: KnowledgeBase, maker: str) -> str | None:
    """The KB entity id of the true maker, "other" for a maker the KB does not know, None when unknown."""
    if maker.casefold() in OS_ONLY:
        return None
    resolution = kb.resolve(maker)
    if resolution.kind == "entity" and resolution.entity and resolution.match in ("exact", "alias", "contains"):
        return resolution.entity
    brand = kb.brand(maker) if resolution.kind == "brand" else None
    if brand is not None:
        # A label: its owner when the owner is a KB entity (HiLook -> Hikvision). Otherwise who made the device
        # depends on the product line and the year (a Honeywell printer is not a Honeywell camera): unknown.
        return brand.owner if brand.owner and kb.entity(brand.owner) else None
    return "other"


def top_vendor(kb: KnowledgeBase, entity_id: str | None) -> str | None:
    """The covered group an entity belongs to (hikvision for EZVIZ ...), or the entity itself."""
    seen = 0
    current = entity_id
    while current is not None and current not in TOP and seen < 8:
        entity = kb.entity(current)
        current = entity.parent if entity else None
        seen += 1
    return current if current in TOP else entity_id


def _rule_examples(seen_values: set[str]) -> Iterable[Item]:
    field_answer = {
        "http.header.server": "http.header.server",
        "http.title": "http.title",
        "http.realm": "http.realm",
        "snmp.sysdescr": "snmp.sysdescr",
        "snmp.enterprise": "snmp.enterprise",
        "banner.text": "banner.text",
        "banner.first_line": "banner.text",
        "ssh.software": "ssh.software",
        "rtsp.header.server": "rtsp.header.server",
        "sip.header.server": "sip.header.server",
        "dhcp.vendor_class": "dhcp.vendor_class",
    }
    for rule in load_rules():
        answer = field_answer.get(rule.field)
        for example in rule.examples:
            vendor = example.expect.get("vendor", rule.vendor)
            if answer is None or example.value is None or not vendor:
                continue
            seen_values.add(example.value)
            yield Item("rules", answer, example.value, vendor, False, rule.id)


def items(kb: KnowledgeBase) -> tuple[list[Item], int]:
    seen: set[str] = set()
    out = list(_rule_examples(seen))
    skipped = 0
    for corpus in ("recog", "telecom"):
        path = DATA / f"{corpus}.yaml"
        if not path.exists():
            continue
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if truth(kb, str(entry["maker"])) is None:
                skipped += 1
                continue
            value = str(entry["value"])
            source = str(entry.get("recog") or entry.get("source") or "")
            also = tuple((str(a["answer"]), str(a["value"])) for a in entry.get("also", []))
            held_out = value not in seen and all(v not in seen for _, v in also)
            out.append(Item(corpus, str(entry["answer"]), value, str(entry["maker"]), held_out, source, also))
    return out, skipped


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    n: int = 0

    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def to_json(self) -> dict[str, object]:
        return {"n": self.n, "tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision(),
                "recall": self.recall()}  # fmt: skip


def evaluate(kb: KnowledgeBase, selection: str) -> dict[str, Any]:
    all_items, skipped = items(kb)
    chosen = [i for i in all_items if selection == "all" or (selection == "held-out") == i.held_out]
    covered = Tally()
    per_vendor: dict[str, Tally] = defaultdict(Tally)
    per_answer: dict[str, Tally] = defaultdict(Tally)
    named = Tally()  # any maker named correctly (covered or not), where the KB knows the maker
    misses: list[dict[str, str]] = []
    corpora: Counter[str] = Counter()
    for item in chosen:
        obs = observation(item.answer, item.value)
        if obs is None:
            continue
        corpora[item.corpus] += 1
        true_id = truth(kb, item.maker)
        true_top = top_vendor(kb, true_id) if true_id not in (None, "other") else "other"
        true_covered = true_id not in (None, "other") and kb.coverage(str(true_id))[0] != "no"
        others = [o for o in (observation(a, v) for a, v in item.also) if o is not None]
        ident = identify_host(obs.host, [obs, *others], kb)
        predicted_id = _entity_id(kb, ident.vendor)
        predicted_top = top_vendor(kb, predicted_id) if predicted_id else None
        predicted_covered = ident.covered != "no"
        for tally in (covered, per_answer[item.answer]):
            tally.n += 1
            tally.tp += true_covered and predicted_covered
            tally.fp += (not true_covered) and predicted_covered
            tally.fn += true_covered and not predicted_covered
        for vendor in TOP:
            tally = per_vendor[vendor]
            is_true, is_predicted = true_top == vendor, predicted_top == vendor
            tally.n += is_true
            tally.tp += is_true and is_predicted
            tally.fp += is_predicted and not is_true
            tally.fn += is_true and not is_predicted
        if true_id != "other":
            named.n += 1
            named.tp += predicted_top == true_top or predicted_id == true_id
            named.fp += predicted_id is not None and predicted_top != true_top and predicted_id != true_id
            named.fn += predicted_id is None
        if true_covered != predicted_covered or (predicted_top in TOP and predicted_top != true_top):
            misses.append(
                {"corpus": item.corpus, "answer": item.answer, "value": item.value[:120], "maker": item.maker,
                 "identified": f"{ident.vendor} ({ident.covered}, {ident.confidence:.2f})", "source": item.source}
            )  # fmt: skip
    return {
        "selection": selection,
        "answers": dict(corpora),
        "skipped_os_only_labels": skipped,
        "covered": covered.to_json(),
        "per_vendor": {k: v.to_json() for k, v in per_vendor.items()},
        "per_answer": {k: v.to_json() for k, v in sorted(per_answer.items())},
        "maker_named": named.to_json(),
        "models": _models(kb),
        "misses": misses,
    }


def _models(kb: KnowledgeBase) -> dict[str, object]:
    total = found = 0
    for pattern in kb.models:
        for example in pattern.examples:
            total += 1
            hit = kb.model(example.model)
            found += hit is not None and top_vendor(kb, hit.entity) == top_vendor(kb, pattern.entity)
    return {"examples": total, "resolved_to_their_maker": found}


def _entity_id(kb: KnowledgeBase, name: str | None) -> str | None:
    if not name:
        return None
    for entity in kb.entities.values():
        if entity.name == name:
            return entity.id
    return None


def _fmt(value: object) -> str:
    return "  -  " if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    kb = load()
    results = [evaluate(kb, selection) for selection in ("all", "held-out")]
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        return 0
    for result in results:
        print(f"== {result['selection']} answers: {result['answers']} (left out, labels naming no device maker: "
              f"{result['skipped_os_only_labels']})")  # fmt: skip
        rows = [("covered (any covered maker)", result["covered"])]
        rows += [(f"vendor {k}", v) for k, v in result["per_vendor"].items()]
        rows += [(f"answer {k}", v) for k, v in result["per_answer"].items()]
        rows.append(("maker named (KB-known makers)", result["maker_named"]))
        print(f"{'':40} {'n':>6} {'tp':>5} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}")
        for label, t in rows:  # t: a Tally's JSON
            print(f"{label:40} {t['n']:>6} {t['tp']:>5} {t['fp']:>4} {t['fn']:>4} {_fmt(t['precision']):>9} "
                  f"{_fmt(t['recall']):>7}")  # fmt: skip
        print(f"model examples resolved to their maker: {result['models']}")
        if args.misses:
            for miss in result["misses"]:
                print("  MISS", json.dumps(miss, ensure_ascii=False))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
