"""Screening a whole inventory: identify each distinct value once, decide each distinct combination of evidence
once, and join the verdicts back to the rows column-wise (Arrow, DuckDB), so cost grows with distinct values,
not rows.

Per batch (pyarrow; no Python loop over rows):
1. each screened column is trimmed and dictionary-encoded; a MAC counts by its IEEE block (the 24- or 36-bit
   prefix of the block it falls in), an FCC ID upper-cased;
2. each distinct value the run has not seen is read once by the Matcher into its evidence (a tuple of
   Signals that never quote the cell), and evidence is interned: every value gets a small evidence id;
3. the rows' evidence ids (one per column, plus the product-line words their model and description name) are
   combined into one combination id per row by successive dictionary encodings of packed integers;
4. each distinct combination is decided once per run (scoring.combine) and every row takes its verdict by id;
   the added columns are dictionary arrays over the run's table of distinct verdicts, so a verdict's long
   texts exist once however many rows share them;
5. decision keys are SHA-256 digests (DuckDB `sha256`) of each row's normalized brand, model and description,
   computed for the distinct texts only; reviewer decisions apply to the rows whose key they name.
Memory is bounded by the batch size and the caches, not by the file.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from trueorigin.errors import InputError
from trueorigin.names import name_key
from trueorigin.screen.columns import ColumnMap, Field, detect_columns
from trueorigin.screen.decisions import DecisionStore
from trueorigin.screen.matcher import Matcher
from trueorigin.screen.normalize import MAX_FIELD_CHARS, compact, mac_colon, tokens
from trueorigin.screen.overlap import prefetch
from trueorigin.screen.readers import BadRow, Batch, Format, TableSource, open_table
from trueorigin.screen.verdict import RowValues, ScreenResult, Signal

_SEPARATOR = "\x1f"
_SCREENED: tuple[Field, ...] = ("brand", "model", "description", "mac", "fcc_id")
SAMPLE_ROWS = 200
MAX_VALUES = 1_000_000  # distinct values remembered per column before the memo is dropped
MAX_COMBINATIONS = 1_000_000  # distinct combinations of evidence remembered
MAX_OUI_CACHE = 500_000
_FAILED = 0  # evidence id of a value that could not be read


@dataclass(frozen=True, slots=True)
class _Column:
    indices: pa.Array  # each row's index into values
    values: list[str]  # distinct values, trimmed and bounded


@dataclass
class ScreenedBatch:
    table: pa.Table  # input columns followed by the added columns (see writers.ADDED_COLUMNS)
    row_numbers: list[int]
    added: pa.Table  # only the added columns


@dataclass
class Summary:
    rows: int = 0
    covered: Counter[str] = field(default_factory=Counter)
    vendors: Counter[str] = field(default_factory=Counter)  # vendor of rows covered yes/review
    decided: int = 0
    distinct: int = 0  # distinct values identified (all screened columns)
    combinations: int = 0  # distinct combinations of evidence decided
    seconds: float = 0.0


class Screening:
    """One screening run over one inventory; iterate `batches()` once."""

    def __init__(
        self,
        path: Path,
        matcher: Matcher,
        mapping: dict[str, Field | None] | None = None,
        fmt: Format | None = None,
        encoding: str | None = None,
        decisions: DecisionStore | None = None,
        batch_rows: int | None = None,
        explain: bool = True,
    ) -> None:
        kwargs = {"batch_rows": batch_rows} if batch_rows else {}
        self.source: TableSource = open_table(path, fmt, encoding, **kwargs)
        self.matcher = matcher
        self.decisions = decisions
        self.summary = Summary()
        self.explain = explain
        # value -> evidence id, per column; evidence (signal tuples) interned across columns
        self._value_ids: dict[str, dict[str, int]] = {name: {} for name in (*_SCREENED, "model lines", "text lines")}
        self._evidence: list[tuple[Signal, ...]] = [()]  # id 0: could not be read (see _FAILED)
        self._evidence_ids: dict[tuple[Signal, ...], int] = {}
        self._lines: list[frozenset[str]] = [frozenset()]
        self._line_ids: dict[frozenset[str], int] = {frozenset(): 0}
        self._combinations: dict[tuple[int, ...], int] = {}  # evidence ids -> verdict id
        self._normal: dict[str, dict[str, str]] = {"brand": {}, "model": {}, "description": {}}
        self._verdicts = _VerdictTable()
        self._oui_cache: dict[str, str] = {}
        self._primed: set[str] = set()  # brand and description values whose words were fuzzy-matched already
        self._duck = duckdb.connect()
        self._batches = prefetch(self.source.batches())
        first = next(self._batches, None)
        self._first = first
        sample = {}
        if first is not None:
            head = first.table.slice(0, SAMPLE_ROWS)
            sample = {name: head.column(name).to_pylist() for name in self.source.columns}
        self.columns: ColumnMap = detect_columns(self.source.columns, sample, mapping or {})
        if first is None and not self.source.bad_rows.count:
            raise InputError(f"{path}: has a header but no data rows")

    @property
    def bad_rows(self) -> list[BadRow]:
        return self.source.bad_rows.rows

    def batches(self) -> Iterator[ScreenedBatch]:
        started = time.perf_counter()
        try:
            if self._first is not None:
                yield self._screen(self._first)
                self._first = None
            for batch in self._batches:
                yield self._screen(batch)
        finally:
            self.summary.seconds += time.perf_counter() - started

    # ------------------------------------------------------------------ one batch

    def _screen(self, batch: Batch) -> ScreenedBatch:
        table = batch.table
        rows = table.num_rows
        if len(self._verdicts.kept) > MAX_COMBINATIONS:  # bounded memory: start a new table between batches
            self._verdicts = _VerdictTable()
            self._combinations.clear()
        cells: dict[Field, _Column | None] = {n: self._column(table, n) for n in _SCREENED if n != "mac"}
        self._prime_fuzzy(cells["brand"], cells["description"])
        components: list[pa.Array] = []
        for name in _SCREENED:
            if name == "mac":
                components.append(self._mac_evidence(table, rows))
            else:
                components.append(self._evidence_column(name, cells[name], rows, batch))
        if self.matcher.line_words:
            components.append(self._per_row("model lines", cells["model"], rows, self._line_id, 0))
            components.append(self._per_row("text lines", cells["description"], rows, self._line_id, 0))
        combination, distinct = _combine(components)
        verdict_ids = pa.array([self._decide(ids) for ids in distinct], pa.int32())
        row_verdicts = pc.take(verdict_ids, combination)
        keys, digests = self._keys(table, cells)
        if digests is not None:
            row_verdicts = self._apply_decisions(row_verdicts, digests)
        row_verdicts = self._apply_decisions(row_verdicts, keys)
        added = self._verdicts.table(row_verdicts, self.explain)
        added = self._row_brands(added, row_verdicts, cells["brand"])
        added = added.append_column("screen_key", keys)
        self._count(added)
        self.summary.rows += rows
        out = table
        for name in added.column_names:
            out = out.append_column(f"+{name}", added.column(name))  # the writer names the output columns
        return ScreenedBatch(out, batch.row_numbers, added)

    def _column(self, table: pa.Table, name: Field) -> _Column | None:
        """A screened column as distinct values (trimmed, bounded) and each row's index into them: the
        per-value work below touches distinct values only."""
        column_name = self.columns.get(name)
        if column_name is None:
            return None
        encoded = pc.dictionary_encode(table.column(column_name).combine_chunks())
        values = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(encoded.dictionary), 0, MAX_FIELD_CHARS)
        if name == "fcc_id":
            values = pc.utf8_upper(values)
        return _Column(encoded.indices, values.to_pylist())

    def _mac_evidence(self, table: pa.Table, rows: int) -> pa.Array:
        column_name = self.columns.get("mac")
        if column_name is None:
            return self._evidence_column("mac", None, rows, None)
        blocks = self._oui_labels(pc.utf8_trim_whitespace(table.column(column_name).combine_chunks()))
        encoded = pc.dictionary_encode(blocks)
        return self._evidence_column("mac", _Column(encoded.indices, encoded.dictionary.to_pylist()), rows, None)

    def _evidence_column(self, name: str, column: _Column | None, rows: int, batch: Batch | None) -> pa.Array:
        """Each row's evidence id for one column: distinct values read once (per run), then joined by index."""
        if column is None:
            return pa.nulls(rows, pa.int32()).fill_null(self._intern(()))
        memo = self._value_ids[name]
        if len(memo) > MAX_VALUES:
            memo.clear()  # bounded memory: later values are read again (the Matcher's caches stay warm)
        reader = {
            "brand": self.matcher.brand_signals,
            "model": self.matcher.model_signals,
            "description": self.matcher.text_signals,
            "mac": self.matcher.oui_signals,
            "fcc_id": self.matcher.fcc_signals,
        }[name]
        ids: list[int] = []
        first_rows: dict[int, int] | None = None
        for position, value in enumerate(column.values):
            known = memo.get(value)
            if known is None:
                try:
                    known = self._intern(reader(value))
                except Exception as exc:  # one unreadable value must not stop the run: the row is reviewed
                    if first_rows is None and batch is not None:
                        first_rows = _first_rows(column.indices, batch.row_numbers)
                    row = first_rows.get(position) if first_rows else None
                    self.source.bad_rows.add(BadRow(row, f"could not be screened: {type(exc).__name__}: {exc}"))
                    known = _FAILED
                memo[value] = known
                self.summary.distinct += 1
            ids.append(known)
        return pc.take(pa.array(ids, pa.int32()), column.indices)

    def _per_row(
        self, name: str, column: _Column | None, rows: int, form: Callable[[str], int], missing: int
    ) -> pa.Array:
        """Each row's `form` of its value, computed once per distinct value (memo `name`)."""
        if column is None:
            return pa.nulls(rows, pa.int32()).fill_null(missing)
        memo = self._value_ids[name]
        if len(memo) > MAX_VALUES:
            memo.clear()
        ids: list[int] = []
        for value in column.values:
            known = memo.get(value)
            if known is None:
                known = memo[value] = form(value)
            ids.append(known)
        return pc.take(pa.array(ids, pa.int32()), column.indices)

    def _line_id(self, value: str) -> int:
        """Id of the product-line words `value` names (see Matcher.named_lines)."""
        words = self.matcher.named_lines(value)
        known = self._line_ids.get(words)
        if known is None:
            known = self._line_ids[words] = len(self._lines)
            self._lines.append(words)
        return known

    def _intern(self, signals: tuple[Signal, ...]) -> int:
        found = self._evidence_ids.get(signals)
        if found is None:
            found = self._evidence_ids[signals] = len(self._evidence)
            self._evidence.append(signals)
        return found

    def _decide(self, ids: tuple[int, ...]) -> int:
        """The verdict id of one combination of evidence ids (decided once per run)."""
        found = self._combinations.get(ids)
        if found is not None:
            return found
        if len(self._combinations) >= MAX_COMBINATIONS:
            self._combinations.clear()
        if _FAILED in ids[: len(_SCREENED)]:
            verdict = ScreenResult("review", "", "", "", 0.0, "", "could not be screened: see the bad rows", "")
        else:
            parts = tuple(self._evidence[i] for i in ids[: len(_SCREENED)])
            named = frozenset().union(*(self._lines[i] for i in ids[len(_SCREENED) :]))
            verdict = self.matcher.verdict(parts, named)
        found = self._combinations[ids] = self._verdicts.add(verdict)
        self.summary.combinations += 1
        return found

    # ------------------------------------------------------------------ keys and decisions

    def _keys(self, table: pa.Table, cells: dict[Field, _Column | None]) -> tuple[pa.Array, pa.Array | None]:
        """(each row's decision key, the digests of rows that have their own key or None). The key is
        "key:<key column>" when the row has one, else "h:" + digest of its normalized brand, model and
        description (verdict.decision_key, computed column-wise)."""
        rows = table.num_rows
        key_column = self.columns.get("key")
        own = has_key = None
        if key_column is not None:
            own = pc.utf8_trim_whitespace(table.column(key_column).combine_chunks())
            has_key = pc.greater(pc.utf8_length(own), 0)
            # Rows with their own key need no digest, unless a decision names a digest ("h:" keys apply to
            # every row with that brand, model and description, as decision_key computes them without a key).
            digests_decided = self.decisions is not None and any(k.startswith("h:") for k in self.decisions.decisions)
            if pc.all(has_key).as_py() and not digests_decided:
                return pc.binary_join_element_wise("key:", own, ""), None
        parts = [
            self._normalized("brand", cells["brand"], rows, name_key),
            self._normalized("model", cells["model"], rows, compact),
            self._normalized("description", cells["description"], rows, name_key),
        ]
        self._duck.register("key_texts", pa.table({"t": pc.binary_join_element_wise(*parts, _SEPARATOR)}))
        hashed = _arrow(self._duck.sql("SELECT 'h:' || left(sha256(t), 16) AS k FROM key_texts")).column("k")
        self._duck.unregister("key_texts")
        hashed = hashed.combine_chunks().cast(pa.string())
        if own is None or has_key is None:
            return hashed, None
        return pc.if_else(has_key, pc.binary_join_element_wise("key:", own, ""), hashed), hashed

    def _normalized(self, name: str, column: _Column | None, rows: int, form: Callable[[str], str]) -> pa.Array:
        if column is None:
            return pa.nulls(rows, pa.string()).fill_null("")
        memo = self._normal[name]
        if len(memo) > MAX_VALUES:
            memo.clear()
        normal: list[str] = []
        for value in column.values:
            found = memo.get(value)
            if found is None:
                found = memo[value] = form(value)
            normal.append(found)
        return pc.take(pa.array(normal, pa.string()), column.indices)

    def _apply_decisions(self, row_verdicts: pa.Array, keys: pa.Array) -> pa.Array:
        """Rows whose key has a reviewer decision take the decided verdict (few rows: done per row)."""
        if self.decisions is None or not self.decisions.decisions:
            return row_verdicts
        decided = pa.array(list(self.decisions.decisions), pa.string())
        hits = pc.is_in(pc.cast(keys, pa.string()), value_set=decided)
        positions = pc.indices_nonzero(hits).to_pylist()
        if not positions:
            return row_verdicts
        out = row_verdicts.to_numpy(zero_copy_only=False).copy()
        row_keys = pc.take(pc.cast(keys, pa.string()), pa.array(positions)).to_pylist()
        applied: dict[tuple[int, str], int] = {}
        for position, key in zip(positions, row_keys, strict=True):
            pair = (int(out[position]), key)
            if pair not in applied:
                machine = replace(self._verdicts.kept[pair[0]], key=key)
                decided = replace(self.decisions.apply(machine), brand_from_row=machine.brand_from_row)
                applied[pair] = self._verdicts.add(decided)
            out[position] = applied[pair]
        return pa.array(out, pa.int32())

    def _row_brands(self, added: pa.Table, row_verdicts: pa.Array, brands: _Column | None) -> pa.Table:
        """The brand column of verdicts that show the row's own brand cell (unknown brands, other companies)."""
        from_row = pc.take(self._verdicts.from_row(), row_verdicts)
        if brands is None or not pc.any(from_row).as_py():
            return added
        own = pc.take(pa.array(brands.values, pa.string()), brands.indices)
        shown = pc.if_else(from_row, own, pc.cast(added.column("brand"), pa.string()))
        shown = pc.dictionary_encode(shown).cast(pa.dictionary(pa.int32(), pa.string()))
        return added.set_column(added.column_names.index("brand"), "brand", shown)

    # ------------------------------------------------------------------ fuzzy names, MAC blocks

    def _prime_fuzzy(self, *columns: _Column | None) -> None:
        """Look up this batch's new words (brand and description) against all names at once with
        rapidfuzz's cdist, instead of one extractOne per word later."""
        words: set[str] = set()
        for column in columns:
            if column is None:
                continue
            for value in column.values:
                if value and value not in self._primed:
                    self._primed.add(value)
                    words.update(w for w in tokens(value) if w.isalpha() and not self.matcher.names.is_name(w))
        if len(self._primed) > MAX_VALUES:
            self._primed.clear()
        if words:
            self.matcher.prime_fuzzy(sorted(words))

    def _oui_labels(self, macs: pa.Array) -> pa.Array:
        """Each row's MAC address replaced by the prefix of the IEEE block it falls in ("" when none is known
        or the value is not a MAC address).

        Rows then share evidence per block instead of per MAC. A /24 (MA-L) assigned to a company holds no
        smaller blocks (MA-M and MA-S are carved from the registry's own MA-L blocks), so one lookup per 24-bit
        prefix settles most rows; only prefixes without an MA-L record are looked up again with 36 bits. The
        (costly) check that a value is a MAC address runs only on rows whose prefix names a known block."""
        # The first 8 characters hold the first 6 hex digits in every notation, and the second character is
        # always the second hex digit: locally administered addresses (often random) are dropped before
        # the distinct prefixes are looked up.
        local = pc.is_in(pc.utf8_slice_codeunits(macs, 1, 2), value_set=_LOCAL_SECOND_DIGITS)
        encoded = pc.dictionary_encode(pc.if_else(local, "", pc.utf8_slice_codeunits(macs, 0, 8)))
        labels: list[str] = []
        finer: list[bool] = []
        for head in encoded.dictionary.to_pylist():
            label, settled = self._oui_label(_hex_digits(head)[:6], 24)
            labels.append(label)
            finer.append(not settled)
        known = pa.array([bool(label) or more for label, more in zip(labels, finer, strict=True)], pa.bool_())
        candidates = pc.take(known, encoded.indices)
        if not pc.any(candidates).as_py():
            return pa.nulls(len(macs), pa.string()).fill_null("")
        valid = pc.replace_with_mask(
            pa.nulls(len(macs), pa.bool_()).fill_null(False),
            candidates,
            pc.match_substring_regex(pc.filter(macs, candidates), _MAC_SHAPE),
        )
        label24 = pc.if_else(valid, pc.take(pa.array(labels, pa.string()), encoded.indices), "")
        if not any(finer):
            return label24
        needs = pc.and_(valid, pc.take(pa.array(finer, pa.bool_()), encoded.indices))
        encoded = pc.dictionary_encode(pc.if_else(needs, pc.utf8_slice_codeunits(macs, 0, 14), ""))
        labels = [
            self._oui_label(_hex_digits(head)[:9], 36)[0] if head else "" for head in encoded.dictionary.to_pylist()
        ]
        label36 = pc.take(pa.array(labels, pa.string()), encoded.indices)
        return pc.if_else(needs, label36, label24)

    def _oui_label(self, prefix: str, bits: int) -> tuple[str, bool]:
        """(block prefix or "", settled) for a 6- or 9-hex-digit prefix; settled means no finer lookup helps."""
        if len(prefix) < 6 or not _HEX_DIGITS.issuperset(prefix):
            return "", True
        # Locally administered addresses (second bit of the first octet) are never IEEE-assigned.
        if int(prefix[1], 16) & 0x2:
            return "", True
        cache_key = f"{bits}:{prefix}"
        if cache_key not in self._oui_cache:
            record = self.matcher.kb.oui(mac_colon(prefix.ljust(12, "0")[:12]))
            label = ""
            settled = bits > 24
            if record is not None:
                block = "".join(ch for ch in str(getattr(record, "prefix", "") or "") if ch in _HEX_DIGITS)
                label = block.upper()[:9] or prefix
                settled = settled or int(getattr(record, "bits", 24) or 24) <= 24
            if len(self._oui_cache) >= MAX_OUI_CACHE:
                self._oui_cache.clear()
            self._oui_cache[cache_key] = f"{int(settled)}{label}"
        cached = self._oui_cache[cache_key]
        return cached[1:], cached[0] == "1"

    def _count(self, added: pa.Table) -> None:
        covered = pc.cast(added.column("covered"), pa.string())  # short values: cheap to decode
        for item in pc.value_counts(covered.combine_chunks()).to_pylist():
            self.summary.covered[str(item["values"])] += int(item["counts"])
        flagged = pc.not_equal(covered, "no")
        vendors = pc.filter(pc.cast(added.column("vendor"), pa.string()), flagged).combine_chunks()
        for item in pc.value_counts(vendors).to_pylist():
            self.summary.vendors[str(item["values"]) or "(unknown)"] += int(item["counts"])
        matched = added.column("matched").combine_chunks()  # long values: test the distinct ones only
        decided = pc.take(pc.starts_with(matched.dictionary, "decision "), matched.indices)
        self.summary.decided += pc.sum(decided).as_py() or 0


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
# Second hex digit of a locally administered address (bit 0x02 of the first octet set).
_LOCAL_SECOND_DIGITS = pa.array(list("2367abefABEF"), pa.string())


def _hex_digits(text: str) -> str:
    """The text without MAC separators, upper case (other characters stay, and fail the hex checks)."""
    return text.replace(":", "").replace("-", "").replace(".", "").replace(" ", "").upper()


# A MAC address in a common notation (normalize.mac_hex without back-references, which RE2 lacks):
# aa:bb:cc:dd:ee:ff, aa-bb-..., "aa bb ...", aabbccddeeff, aabb.ccdd.eeff.
_HEX2 = "[0-9A-Fa-f]{2}"
_MAC_SHAPE = (
    "^(?:"
    + "|".join(
        [
            *(f"{_HEX2}(?:{sep}{_HEX2}){{5}}" for sep in (":", "-", " ", r"\.")),
            "[0-9A-Fa-f]{12}",
            r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}",
        ]
    )
    + ")$"
)


def _combine(components: list[pa.Array]) -> tuple[pa.Array, list[tuple[int, ...]]]:
    """(each row's combination index, the distinct combinations of component ids): C++ work per row, Python
    work per distinct combination only. Each component is dictionary-encoded (its distinct ids are few), the
    rows' positions are packed as digits of one int64 in mixed radix while it fits, and the packed values are
    dictionary-encoded once; components beyond 63 bits are folded in by a further round."""
    columns = [pc.dictionary_encode(component) for component in components]
    values = [column.dictionary.to_pylist() for column in columns]
    index: pa.Array | None = None
    combinations: list[tuple[int, ...]] = [()]
    position = 0
    while position < len(columns):
        radices: list[int] = [len(combinations)] if index is not None else []
        parts: list[pa.Array] = [index.cast(pa.int64())] if index is not None else []
        width = radices[0] if radices else 1
        start = position
        while position < len(columns) and (width * max(len(values[position]), 1) < 1 << 62 or not parts):
            radices.append(max(len(values[position]), 1))
            parts.append(columns[position].indices.cast(pa.int64()))
            width *= radices[-1]
            position += 1
        packed = parts[0]
        for part, radix in zip(parts[1:], radices[1:], strict=True):
            packed = pc.add(pc.multiply(packed, radix), part)
        encoded = pc.dictionary_encode(packed)
        folded: list[tuple[int, ...]] = []
        for value in encoded.dictionary.to_pylist():
            digits: list[int] = []
            for radix in reversed(radices):
                value, digit = divmod(value, radix)
                digits.append(digit)
            digits.reverse()
            prefix = combinations[digits[0]] if index is not None else ()
            own = digits[1:] if index is not None else digits
            folded.append((*prefix, *(values[start + i][d] for i, d in enumerate(own))))
        combinations = folded
        index = encoded.indices
    assert index is not None
    return index, combinations


def _arrow(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    """A query's result as an Arrow table (DuckDB 2 names it to_arrow_table, 1.x arrow)."""
    fetch = getattr(relation, "to_arrow_table", None) or getattr(relation, "arrow")  # noqa: B009
    table: pa.Table = fetch()
    return table


def row_values_at(table: pa.Table, position: int, columns: ColumnMap) -> RowValues:
    """The screened fields of one row of a batch (for `screen decide --row`)."""
    values: dict[str, str] = {}
    for name in ("brand", "model", "description", "mac", "fcc_id", "serial", "key"):
        column = columns.get(name)
        text = str(table.column(column)[position].as_py() or "").strip() if column else ""
        values[name] = text[:MAX_FIELD_CHARS]
    return RowValues(**values)


def _first_rows(indices: pa.Array, row_numbers: list[int]) -> dict[int, int]:
    first: dict[int, int] = {}
    for position, index in enumerate(indices.to_pylist()):
        first.setdefault(index, row_numbers[position])
    return first


class _VerdictTable:
    """Every distinct verdict of the run (far fewer than distinct rows: rows with the same evidence share one),
    as Python lists plus Arrow arrays built incrementally. A batch's added columns are dictionary arrays over
    them, so a verdict's long texts (sources, explanation) exist once however many rows share them."""

    _TEXT = ("covered", "vendor", "brand", "matched", "sources", "explanation")

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}  # id() of a verdict object -> its row here
        self.kept: list[ScreenResult] = []  # keeps those objects (and so their ids) alive
        self.arrays: dict[str, pa.Array] = {}
        self.built = 0

    def add(self, verdict: ScreenResult) -> int:
        found = self.ids.get(id(verdict))
        if found is not None:
            return found
        self.ids[id(verdict)] = len(self.kept)
        self.kept.append(verdict)
        return len(self.kept) - 1

    def _build(self) -> None:
        if self.built < len(self.kept):
            new = self.kept[self.built :]
            chunks: dict[str, pa.Array] = {
                name: pa.array([str(getattr(v, name)) for v in new], pa.string()) for name in self._TEXT
            }
            chunks["confidence"] = pa.array([v.confidence for v in new], pa.float64())
            chunks["from_row"] = pa.array([v.brand_from_row for v in new], pa.bool_())
            for name, chunk in chunks.items():
                old = self.arrays.get(name)
                self.arrays[name] = chunk if old is None else pa.concat_arrays([old, chunk])
            self.built = len(self.kept)

    def from_row(self) -> pa.Array:
        self._build()
        return self.arrays["from_row"]

    def table(self, row_ids: pa.Array, explain: bool) -> pa.Table:
        self._build()
        order = ["covered", "vendor", "brand", "matched", "confidence", "sources"]
        if explain:
            order.append("explanation")
        columns: dict[str, pa.Array] = {}
        for name in order:
            if name == "confidence":
                columns[name] = pc.take(self.arrays[name], row_ids)
            else:
                columns[name] = pa.DictionaryArray.from_arrays(row_ids, self.arrays[name])
        return pa.table(columns)


def describe_row(values: RowValues) -> str:
    """Short human form of a row for the decisions file."""
    return " | ".join(v for v in (values.brand, values.model, " ".join(tokens(values.description)[:20])) if v)


__all__ = ["ScreenedBatch", "Screening", "Summary", "describe_row", "row_values_at"]
