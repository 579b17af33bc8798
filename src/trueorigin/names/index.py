"""The one name index: every name and alias of every entity and brand, for whole values and free text.

Targets are strings "<kind>:<id>" chosen by the caller (the knowledge base uses "entity:<id>", "brand:<id>" and
"distinct:<name>" for names known to belong to *other* companies). Two ways to ask:

- `lookup(value)` resolves a whole value (a brand column, a manufacturer field, `kb explain` input):
  1. exact: the normalized value equals a normalized alias;
  2. contains: the value contains an alias as whole words ("Hikvision USA Inc." -> hikvision), or, for
     Chinese aliases, as a substring (海康威视数字技术 -> hikvision). Legal-form words are ignored;
  3. fuzzy: one word is within a small edit distance (with transpositions) of a one-word alias: 1 edit for
     words of 5-8 letters, 2 for longer ones. A tie between different targets matches nothing.
- `find(text)` lists the names mentioned in free text (descriptions, titles, banners), each with where it
  stands, how it was found and the compatibility cue that governs it, if any:
  * whole words only, longest first (up to 4 words): "Dahuang Foods", "Lorexa", "ZTEC", "Hikari" name nobody;
  * names of other companies (`distinct`) hide their words: "Shanghai Dahua Scale Factory" is not Dahua;
  * Chinese names inside a run of Han characters; a two-character one only at the end of the run or before a
    company/product word (大华 in 大华银行, a bank, is not Dahua);
  * misspellings of single-word names of 5+ letters (rapidfuzz ratio >= 86, same first letter, not the name
    plus letters: "Hikvison" yes, "Hikari"/"Lorexa" no);
  * compatibility cues ("compatible with", "mount for", "Huawei-free", 兼容) are reported on the mention;
  * in free text, names that are also ordinary words ("honor", "axis", "storm") count only when written as
    the data writes them ("Honor", "Axis", "STORM").

The word lists live in data/text-rules.yaml (see rules.py). Caches make `find` cheap on repeated words; the
index is not meant to be shared between threads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from trueorigin.names.rules import TextRules, text_rules
from trueorigin.names.text import has_cjk, is_cjk, name_key, normalize, tokens

MIN_FUZZY_LENGTH = 5  # short names (ZTE, Axis, LTS) are matched exactly or not at all
LONG_WORD = 9  # whole-value lookup allows 2 edits from this length on
FUZZY_MIN_RATIO = 86.0  # free text: rapidfuzz ratio (0..100) for a misspelled single-word name
MAX_NGRAM = 4
MAX_FUZZY_CACHE = 500_000
# How a Chinese alias found inside a run counts (see `find`).
CJK_HOW = ("chinese name", "chinese short name", "chinese short name at end")


@dataclass(frozen=True, slots=True)
class NameHit:
    """A whole-value lookup result."""

    target: str  # "entity:<id>", "brand:<id>" or "distinct:<name>"
    alias: str  # the alias (as written in the data) that matched
    how: str  # exact, contains, fuzzy


@dataclass(frozen=True, slots=True)
class NameTarget:
    """Who a name in free text points to."""

    kind: str  # entity, brand (distinct names are never returned: they hide their words instead)
    id: str
    alias: str  # the alias as written in the data

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class Mention:
    """A name found in free text."""

    target: NameTarget
    start: int  # token index (see trueorigin.names.text.tokens)
    end: int
    compat_cue: str | None  # the cue making it a compatibility mention, e.g. "compatible with", "兼容"
    how: str  # exact, "fuzzy 91%", or one of CJK_HOW

    @property
    def fuzzy_ratio(self) -> float:
        """1.0, or the misspelling's similarity (0.86..1.0) when found fuzzily."""
        if self.how.startswith("fuzzy"):
            try:
                return float(self.how.split()[1].rstrip("%")) / 100.0
            except (IndexError, ValueError):
                return 0.85
        return 1.0


def _split(target: str) -> tuple[str, str]:
    kind, _, ident = target.partition(":")
    return (kind, ident) if ident else ("entity", kind)


class NameIndex:
    """Aliases -> targets, for `lookup` (whole values) and `find` (free text). See the module docstring."""

    def __init__(self, rules: TextRules | None = None) -> None:
        self.rules = rules or text_rules()
        # whole values
        self._exact: dict[str, list[tuple[str, str]]] = {}
        self._words: list[tuple[tuple[str, ...], str, str]] = []  # alias words, alias, target
        self._cjk: list[tuple[str, str, str]] = []  # normalized alias, alias, target
        self._single: dict[str, list[tuple[str, str]]] = {}  # one-word alias -> (alias, target)
        # free text
        self._text: dict[str, list[NameTarget]] = {}  # name_key -> targets
        self._text_cjk: list[tuple[str, NameTarget]] = []  # Han-only aliases, longest first
        self._fuzzy_words: list[str] = []
        self._fuzzy_seen: set[str] = set()
        self._distinct: set[str] = set()  # name_key of names known to be other companies
        self._fuzzy_cache: dict[str, tuple[str, float] | None] = {}
        self._cjk_sorted = True

    # ------------------------------------------------------------------------------------------ building

    def add(self, target: str, names: Iterable[str]) -> None:
        """Register `names` (name, legal names, aliases, id...) for `target` ("kind:id")."""
        kind, ident = _split(target)
        for alias in names:
            if not alias:
                continue
            self._add_whole(target, alias)
            self._add_text(kind, ident, alias)

    def _add_whole(self, target: str, alias: str) -> None:
        key = normalize(alias)
        if not key:
            return
        bucket = self._exact.setdefault(key, [])
        if (alias, target) not in bucket:
            bucket.append((alias, target))
        if has_cjk(key):
            if len(key) >= 2:
                self._cjk.append((key, alias, target))
            return
        words = tuple(key.split())
        significant = tuple(w for w in words if w not in self.rules.legal_forms) or words
        self._words.append((words, alias, target))
        if significant != words:
            self._words.append((significant, alias, target))
        if len(words) == 1:
            self._single.setdefault(words[0], []).append((alias, target))

    def _add_text(self, kind: str, ident: str, alias: str) -> None:
        key = name_key(alias)
        if kind == "distinct":
            if key:
                self._distinct.add(key)
            return
        if not key or set(key.split()) <= self.rules.legal_forms:
            return  # "LTD", "Co., Ltd." name no one
        if " " not in key and "+" in alias:
            return  # "Face++" is not the word "face"
        bucket = self._text.setdefault(key, [])
        if all((t.kind, t.id) != (kind, ident) for t in bucket):
            bucket.append(NameTarget(kind, ident, alias))
        compact = key.replace(" ", "")
        if is_cjk(compact) and len(compact) >= 2:
            self._text_cjk.append((compact, NameTarget(kind, ident, alias)))
            self._cjk_sorted = False
        elif " " not in key and len(key) >= MIN_FUZZY_LENGTH and key not in self._fuzzy_seen:
            self._fuzzy_seen.add(key)
            self._fuzzy_words.append(key)
        self._fuzzy_cache.clear()

    # ------------------------------------------------------------------------------------ whole values

    def targets_of(self, name: str) -> list[str]:
        """Targets whose alias equals `name` (normalized), in the order they were added."""
        return list(dict.fromkeys(target for _, target in self._exact.get(normalize(name), [])))

    def lookup(self, query: str, fuzzy: bool = True) -> NameHit | None:
        """The target a whole value names: exact, then contains, then (if `fuzzy`) one misspelled word."""
        key = normalize(query)
        if not key:
            return None
        exact = self._exact.get(key)
        if exact:
            alias, target = exact[0]
            return NameHit(target, alias, "exact")
        hit = self._contains(key)
        if hit is not None or not fuzzy:
            return hit
        return self._fuzzy_whole(key)

    def _contains(self, key: str) -> NameHit | None:
        best: tuple[int, str, str] | None = None  # (length of matched alias, alias, target)
        words = key.split()
        for alias_words, alias, target in self._words:
            n = len(alias_words)
            length = sum(len(w) for w in alias_words)
            if best is not None and length <= best[0]:
                continue
            if any(tuple(words[i : i + n]) == alias_words for i in range(len(words) - n + 1)):
                best = (length, alias, target)
        for alias_key, alias, target in self._cjk:
            length = len(alias_key) * 3  # a Chinese character carries about a word's worth of name
            if (best is None or length > best[0]) and alias_key in key:
                best = (length, alias, target)
        return NameHit(best[2], best[1], "contains") if best else None

    def _fuzzy_whole(self, key: str) -> NameHit | None:
        found: dict[str, tuple[int, str]] = {}  # target -> (distance, alias)
        for word in key.split():
            if len(word) < MIN_FUZZY_LENGTH or word in self.rules.legal_forms or has_cjk(word):
                continue
            for alias_word, entries in self._single.items():
                if len(alias_word) < MIN_FUZZY_LENGTH or abs(len(alias_word) - len(word)) > 2:
                    continue
                allowed = 2 if min(len(word), len(alias_word)) >= LONG_WORD else 1
                distance = OSA.distance(word, alias_word, score_cutoff=allowed)
                if distance > allowed:
                    continue
                for alias, target in entries:
                    if target not in found or distance < found[target][0]:
                        found[target] = (distance, alias)
        if not found:
            return None
        best = min(d for d, _ in found.values())
        winners = [(t, a) for t, (d, a) in found.items() if d == best]
        if len(winners) != 1:
            return None
        target, alias = winners[0]
        return NameHit(target, alias, "fuzzy")

    # --------------------------------------------------------------------------------------- free text

    def is_name(self, word_key: str) -> bool:
        """`word_key` (a name_key) is a name of an entity or brand."""
        return word_key in self._text

    def is_distinct(self, value: str) -> bool:
        """`value` is the name of a company known to be different from any in the index."""
        return name_key(value) in self._distinct

    def exact(self, value: str) -> list[NameTarget]:
        """Targets the whole value names exactly (name_key equality), entities before brands."""
        return list(self._text.get(name_key(value), ()))

    def find(self, text: str, fuzzy: bool = True, free_text: bool = True) -> list[Mention]:
        """Names mentioned in `text`, in text order (see the module docstring). With `free_text`, names that are
        ordinary words count only when written as the data writes them."""
        words = tokens(text)
        mentions: list[Mention] = []
        used: set[int] = set()
        for size in range(min(MAX_NGRAM, len(words)), 0, -1):
            for start in range(0, len(words) - size + 1):
                span = range(start, start + size)
                if used.intersection(span):
                    continue
                key = " ".join(words[start : start + size])
                if key in self._distinct:
                    used.update(span)  # a known other company: its words name nobody we look for
                    continue
                targets = self._text.get(key)
                if not targets:
                    continue
                used.update(span)
                cue = self.compat_cue(words, start, start + size)
                for target in targets:
                    if free_text and not self.written_as_name(target.alias, text):
                        continue
                    mentions.append(Mention(target, start, start + size, cue, "exact"))
        for index, word in enumerate(words):
            if index in used:
                continue
            if is_cjk(word):
                mentions.extend(self._cjk_mentions(word, index))
                continue
            if not fuzzy:
                continue
            hit = self.fuzzy_word(word)
            if hit is None:
                continue
            alias_key, ratio = hit
            cue = self.compat_cue(words, index, index + 1)
            for target in self._text.get(alias_key, []):
                mentions.append(Mention(target, index, index + 1, cue, f"fuzzy {ratio:.0f}%"))
        mentions.sort(key=lambda m: m.start)
        return mentions

    def _cjk_mentions(self, run: str, index: int) -> list[Mention]:
        if not self._cjk_sorted:
            self._text_cjk.sort(key=lambda item: -len(item[0]))  # 浙江大华 wins over 大华 in the same run
            self._cjk_sorted = True
        found: list[Mention] = []
        taken: list[tuple[int, int]] = []
        for alias, target in self._text_cjk:
            position = run.find(alias)
            while position >= 0:
                span = (position, position + len(alias))
                if not any(a < span[1] and span[0] < b for a, b in taken):
                    taken.append(span)
                    before, after = run[:position], run[span[1] :]
                    cue = next((p for p in self.rules.cjk_compat_prefixes if before.endswith(p)), None)
                    how = self._cjk_strength(alias, after)
                    if how is not None:
                        found.append(Mention(target, index, index + 1, cue, how))
                position = run.find(alias, position + 1)
        return found

    def _cjk_strength(self, alias: str, after: str) -> str | None:
        """How a Chinese alias found in a run counts, or None when it is probably part of another word."""
        if len(alias) >= 3:
            return CJK_HOW[0]
        if not after:
            return CJK_HOW[2]
        if after.startswith(self.rules.cjk_followers):
            return CJK_HOW[1]
        return None

    def compat_cue(self, words: Sequence[str], start: int, end: int) -> str | None:
        """The compatibility cue governing words[start:end] (tokens), if any."""
        rules = self.rules
        if end < len(words) and words[end] in rules.compat_after:
            return words[end]
        position = start
        skipped = 0
        while position > 0 and skipped <= 4:
            for cue in rules.compat_before:
                size = len(cue)
                if position - size >= 0 and tuple(words[position - size : position]) == cue:
                    return " ".join(cue)
            previous = words[position - 1]
            if previous in rules.connectors or previous in rules.product_nouns or self.is_name(previous):
                position -= 1
                skipped += 1
                continue
            return None
        return None

    def written_as_name(self, alias: str, text: str) -> bool:
        """Whether an ordinary-word name appears in `text` spelled exactly as `alias` (other names: always)."""
        if name_key(alias) not in self.rules.ordinary_word_names:
            return True
        return re.search(rf"(?<![^\W_]){re.escape(alias)}(?![^\W_])", text) is not None

    # ------------------------------------------------------------------------------------ misspellings

    def fuzzy_word(self, word: str) -> tuple[str, float] | None:
        """(alias key, ratio) of the single-word name `word` (a token) misspells, or None."""
        if len(word) < MIN_FUZZY_LENGTH or not word.isalpha():
            return None
        if word not in self._fuzzy_cache:
            hit = process.extractOne(word, self._fuzzy_words, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_RATIO)
            found = (str(hit[0]), float(hit[1])) if hit else None
            self._remember(word, found if found and plausible_misspelling(word, found[0]) else None)
        return self._fuzzy_cache[word]

    def prime_fuzzy(self, words: Iterable[str]) -> None:
        """Resolve many candidate words at once (rapidfuzz cdist on all cores) so later `find` calls hit the
        cache. The same answers as one `fuzzy_word` call per word."""
        todo = sorted({w for w in words if w not in self._fuzzy_cache and len(w) >= MIN_FUZZY_LENGTH and w.isalpha()})
        if not todo:
            return
        if not self._fuzzy_words:
            for word in todo:
                self._remember(word, None)
            return
        try:
            scores = process.cdist(todo, self._fuzzy_words, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_RATIO, workers=-1)
        except ImportError:  # cdist returns a numpy matrix; without numpy, words are looked up one by one
            return
        for row, word in enumerate(todo):
            best_col = int(scores[row].argmax())
            best = float(scores[row][best_col])
            hit = (self._fuzzy_words[best_col], best) if best >= FUZZY_MIN_RATIO else None
            self._remember(word, hit if hit and plausible_misspelling(word, hit[0]) else None)

    def _remember(self, word: str, hit: tuple[str, float] | None) -> None:
        if len(self._fuzzy_cache) >= MAX_FUZZY_CACHE:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[word] = hit


def plausible_misspelling(word: str, alias: str) -> bool:
    """A near spelling is a typo only if it starts like the name and is not the name plus letters:
    "Hikvison" is Hikvision misspelled, but "Lorexa" and "Hikari" are other words."""
    if word[:1] != alias[:1]:
        return False
    return not (word.startswith(alias) or alias.startswith(word))


def index_records(entities: Iterable[object], brands: Iterable[object], distinct: Iterable[object]) -> NameIndex:
    """An index of knowledge-base-shaped records (anything with .id/.name/.aliases/.legal_names; distinct
    names with .name), targets as the knowledge base writes them."""
    index = NameIndex()
    for entity in entities:
        names = (
            getattr(entity, "name", ""),
            getattr(entity, "id", ""),
            *getattr(entity, "legal_names", ()),
            *getattr(entity, "aliases", ()),
        )
        index.add(f"entity:{getattr(entity, 'id', '')}", names)
    for brand in brands:
        index.add(
            f"brand:{getattr(brand, 'id', '')}",
            (getattr(brand, "name", ""), getattr(brand, "id", ""), *getattr(brand, "aliases", ())),
        )
    for item in distinct:
        name = str(getattr(item, "name", ""))
        index.add(f"distinct:{normalize(name)}", (name,))
    return index
