"""The word lists of data/text-rules.yaml, loaded strictly (unknown keys, empty lists and non-words fail)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from trueorigin.names.text import name_key


class TextRules(BaseModel):
    """How free text is read. See the comments in data/text-rules.yaml for what each list means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    compat_before: tuple[tuple[str, ...], ...] = Field(min_length=1)
    compat_after: frozenset[str] = Field(min_length=1)
    connectors: frozenset[str] = Field(min_length=1)
    product_nouns: frozenset[str] = Field(min_length=1)
    cjk_compat_prefixes: tuple[str, ...] = Field(min_length=1)
    cjk_followers: tuple[str, ...] = Field(min_length=1)
    legal_forms: frozenset[str] = Field(min_length=1)
    ordinary_word_names: frozenset[str] = Field(min_length=1)

    @field_validator("compat_before")
    @classmethod
    def _phrases_are_words(cls, value: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        for phrase in value:
            if not phrase or any(name_key(word) != word for word in phrase):
                raise ValueError(f"compat_before: {phrase!r} must be lower-case single words")
        return value

    @field_validator("compat_after", "product_nouns", "legal_forms", "ordinary_word_names")
    @classmethod
    def _single_words(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(word for word in value if name_key(word) != word or " " in word)
        if bad:
            raise ValueError(f"not lower-case single words: {bad}")
        return value


def parse_rules(text: str) -> TextRules:
    """TextRules from YAML text (raises pydantic.ValidationError or yaml.YAMLError)."""
    return TextRules.model_validate(yaml.safe_load(text))


@cache
def text_rules() -> TextRules:
    """The packaged rules (data/text-rules.yaml), loaded once."""
    source = resources.files("trueorigin.names").joinpath("data/text-rules.yaml")
    return parse_rules(source.read_text(encoding="utf-8"))
