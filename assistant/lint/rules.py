"""Rules are data: TOML files under lint/rules/, one family a file. This module loads them and
compiles each rule kind into regular expressions; adding a rule never touches this code.

Kinds:
  existence     any of `patterns` is a finding
  substitution  `swap` pairs of [pattern, better phrasing]; the phrasing becomes the suggestion
  sequence      `tokens` in order inside one sentence, at most `max_gap` words apart
  conditional   `first` and `second` together in one sentence, in either order
  structure     a check written in Python (structure.py), registered under the rule's id
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..models import FindingCategory, Severity
from .structure import CHECKS

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Gaps never cross a sentence end, so a sequence cannot pair words from two sentences.
_WORD_GAP = r"(?:[^\w.!?\n]+[\w'’-]+){{0,{n}}}[^\w.!?\n]+"
_SAME_SENTENCE = r"[^.!?\n]*?"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    kind: Literal["existence", "substitution", "sequence", "conditional", "structure"]
    category: FindingCategory
    severity: Severity
    message: str
    suggestion: str | None = None
    patterns: list[str] = Field(default_factory=list)
    swap: list[tuple[str, str]] = Field(default_factory=list)
    tokens: list[str] = Field(default_factory=list)
    max_gap: int = 3
    first: str | None = None
    second: str | None = None
    exceptions: list[str] = Field(default_factory=list)
    """Antipatterns: a hit overlapped by one of these (in the same sentence) is not a finding."""
    case_sensitive: bool = False
    must_flag: list[str] = Field(min_length=1)
    must_not_flag: list[str] = Field(min_length=1)
    source: str | None = None
    """Which guideline the rule serves."""

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if not _ID.match(self.id):
            raise ValueError(f"rule id {self.id!r} must be kebab-case")
        needed = {
            "existence": bool(self.patterns),
            "substitution": bool(self.swap),
            "sequence": len(self.tokens) >= 2,
            "conditional": bool(self.first and self.second),
            "structure": self.id in CHECKS,
        }[self.kind]
        if not needed:
            raise ValueError(f"rule {self.id}: a {self.kind} rule lacks its patterns")
        return self

    def expressions(self) -> list[tuple[str, str | None]]:
        """(regex source, suggestion) pairs that implement this rule."""
        if self.kind == "existence":
            return [(p, self.suggestion) for p in self.patterns]
        if self.kind == "substitution":
            return [(p, better) for p, better in self.swap]
        if self.kind == "structure":
            return []
        if self.kind == "sequence":
            gap = _WORD_GAP.format(n=self.max_gap)
            return [(gap.join(f"(?:{t})" for t in self.tokens), self.suggestion)]
        first, second = f"(?:{self.first})", f"(?:{self.second})"
        return [
            (f"{first}{_SAME_SENTENCE}{second}|{second}{_SAME_SENTENCE}{first}", self.suggestion)
        ]


class CompiledRule:
    __slots__ = ("exceptions", "regexes", "rule")

    def __init__(self, rule: Rule) -> None:
        flags = 0 if rule.case_sensitive else re.IGNORECASE
        self.rule = rule
        self.regexes = [(re.compile(src, flags), sug) for src, sug in rule.expressions()]
        self.exceptions = [re.compile(src, flags) for src in rule.exceptions]


class RuleFileError(ValueError):
    pass


def load_rule_file(name: str, text: str) -> list[Rule]:
    data = tomllib.loads(text)
    rules = []
    for entry in data.get("rule", []):
        try:
            rules.append(Rule.model_validate(entry))
        except ValueError as exc:
            raise RuleFileError(f"{name}: {exc}") from exc
    return rules


@cache
def builtin_rules() -> tuple[Rule, ...]:
    folder = files("assistant.lint").joinpath("rules")
    rules: list[Rule] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            rules.extend(load_rule_file(entry.name, entry.read_text(encoding="utf-8")))
    ids = [r.id for r in rules]
    duplicated = {i for i in ids if ids.count(i) > 1}
    if duplicated:
        raise RuleFileError(f"duplicate rule ids: {', '.join(sorted(duplicated))}")
    return tuple(rules)


@cache
def compiled_rules() -> tuple[CompiledRule, ...]:
    return tuple(CompiledRule(r) for r in builtin_rules())
