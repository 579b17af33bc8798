"""One name index for every source: who a name, an alias, a misspelling or a Chinese name points to.

Used by the knowledge base (`KnowledgeBase.names`, `kb explain`, brand lookup) and by screening (brand cells and
descriptions); identification can use `find` for a device naming its maker in free-text fields. It knows
nothing of vendors or coverage: targets are opaque "<kind>:<id>" strings, and the knowledge base fills the
index.

API (all pure apart from caches):

    index = NameIndex()                              # word lists from data/text-rules.yaml
    index.add("entity:hikvision", ["Hikvision", "海康威视", "Hangzhou Hikvision Digital Technology"])
    index.add("brand:lts", ["LTS"])
    index.add("distinct:shanghai dahua scale factory", ["Shanghai Dahua Scale Factory"])  # hides its words

    index.lookup("HIKVISION USA Inc.")  -> NameHit(target="entity:hikvision", alias="Hikvision", how="contains")
    index.targets_of("lts")             -> ["brand:lts"]
    index.exact("Hikvision ")           -> [NameTarget(kind="entity", id="hikvision", alias="Hikvision")]
    index.find("Wall mount for Hikvision dome cameras")
        -> [Mention(target=NameTarget("entity", "hikvision", "Hikvision"), start=3, end=4,
                    compat_cue="mount for", how="exact")]
    index.find("兼容海康威视录像机")[0].compat_cue -> "兼容"
    index.find("Hikvison 4MP dome")[0].how         -> "fuzzy 94%"
    index.compat_cue(tokens, start, end)           # the cue governing a span of tokens, if any
    index.prime_fuzzy(words)                       # batch misspelling lookup (rapidfuzz cdist), same answers

    index_records(entities, brands, distinct)      # an index of knowledge-base-shaped records

Text forms (trueorigin.names.text): `tokens` (word tokens; a Han run is one token), `name_key` (tokens joined),
`normalize` (whole-value key), `fold`, `is_cjk`, `has_cjk`, `clip`.
"""

from trueorigin.names.index import (
    CJK_HOW,
    FUZZY_MIN_RATIO,
    MIN_FUZZY_LENGTH,
    Mention,
    NameHit,
    NameIndex,
    NameTarget,
    index_records,
    plausible_misspelling,
)
from trueorigin.names.rules import TextRules, parse_rules, text_rules
from trueorigin.names.text import clip, fold, has_cjk, is_cjk, name_key, normalize, tokens

__all__ = [
    "CJK_HOW",
    "FUZZY_MIN_RATIO",
    "MIN_FUZZY_LENGTH",
    "Mention",
    "NameHit",
    "NameIndex",
    "NameTarget",
    "TextRules",
    "clip",
    "fold",
    "has_cjk",
    "index_records",
    "is_cjk",
    "name_key",
    "normalize",
    "parse_rules",
    "plausible_misspelling",
    "text_rules",
    "tokens",
]
