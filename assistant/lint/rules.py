"""Rules are data: TOML files under lint/rules/, one family a file. This module loads them and
compiles each rule kind into regular expressions; adding a rule never touches this code.

Kinds:
  existence     any of `patterns` is a finding
  substitution  `swap` pairs of [pattern, better phrasing]; the phrasing becomes the suggestion
  sequence      `tokens` in order inside one sentence, at most `max_gap` words apart
  conditional   `first` and `second` together in one sentence, in either order (lowercase)
  structure     a check written in Python (structure.py), registered under the rule's id
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import RuleFileError
from ..models import FindingCategory, Severity
from ..textmatch import WordRegex, caseless_safe, matches_at, sentence_marks, spelling_variants
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
    requires: str | None = None
    """A cheap pattern that must occur in the text before this rule's patterns run at all (for
    rules with no literal word to look for, such as shouting)."""
    must_flag: list[str] = Field(min_length=1)
    must_not_flag: list[str] = Field(min_length=1)
    gate: bool = False
    """Part of the approval gate (links, numbers, money, card details, our prompt): read through
    look-alike and hidden characters, and no quotation, history or lint-ignore marker exempts
    text from it; a model tricked into a payload cannot hide it in a quote."""
    own_words_severity: Severity | None = None
    """The severity in a reply the agent wrote (not a draft under review): an agent may give a
    number or link the profile lacks, and should check it; a model may have been handed it."""
    email: str | None = None
    """The customer's email the examples answer (the situation checks need one)."""
    business: str | None = None
    """The kind of company the examples are written for, if not the default."""
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


class CompiledPattern:
    """One expression of a rule, ready to run on the original or the lowered text."""

    __slots__ = ("_requires", "lowered", "regex", "rule", "second", "source", "suggestion")

    def __init__(self, rule: Rule, source: str, suggestion: str | None) -> None:
        source = spelling_variants(source)
        self.rule = rule
        self.source = source
        self.suggestion = suggestion
        flags = 0 if rule.case_sensitive else re.IGNORECASE
        self._requires = re.compile(rule.requires) if rule.requires else None
        self.second: WordRegex | None = None
        if rule.kind == "conditional":
            # Two fast searches, the second only inside the sentence where the first hit.
            assert rule.first and rule.second
            first, second = spelling_variants(rule.first), spelling_variants(rule.second)
            self.regex = re.compile(first, flags)
            self.lowered: WordRegex | None = WordRegex(first)
            self.second = WordRegex(second)
            if not (caseless_safe(first) and caseless_safe(second)) or rule.case_sensitive:
                raise RuleFileError(
                    f"rule {rule.id}: a conditional rule must be written in lowercase"
                )
            return
        self.regex = re.compile(source, flags)
        # Lowered text without IGNORECASE, for patterns that mean the same there.
        self.lowered = (
            WordRegex(source) if not rule.case_sensitive and caseless_safe(source) else None
        )

    def spans(
        self, normal: str, lowered: str | None, starts: list[int] | None = None
    ) -> Iterator[tuple[int, int]]:
        """Where this expression matches. `lowered` is None when lowering changed the length;
        `starts`, when known, is every place a match may begin."""
        if self._requires is not None and not _holds(self._requires, normal):
            return
        if self.second is not None:
            yield from self._conditional(normal, lowered, starts)
            return
        matches: Iterable[re.Match[str]]
        if self.lowered is not None and lowered is not None:
            matches = (
                self.lowered.finditer(lowered)
                if starts is None
                else matches_at(self.lowered.anchored, lowered, starts)
            )
        else:
            matches = (
                self.regex.finditer(normal)
                if starts is None
                else matches_at(self.regex, normal, starts)
            )
        for m in matches:
            yield m.span()

    def _conditional(
        self, normal: str, lowered: str | None, starts: list[int] | None
    ) -> Iterator[tuple[int, int]]:
        assert self.second is not None and self.lowered is not None
        subject = lowered if lowered is not None else normal.lower()
        if lowered is None:
            starts = None
        breaks: list[int] | None = None
        # Every first match in one sentence shares the sentence's first second match: searched
        # once a sentence, and a sentence with none is passed over whole, or a long sentence
        # would be searched again, or walked, for each of its words.
        bounds = (0, -1)
        second: re.Match[str] | None = None
        pos = 0
        while (first := self._first(subject, starts, pos)) is not None:
            pos = first.end() if first.end() > first.start() else first.start() + 1
            if not (bounds[0] <= first.start() and first.end() <= bounds[1]):
                if breaks is None:
                    breaks = sentence_marks(subject)
                bounds = sentence_bounds(breaks, len(subject), first.start(), first.end())
                second = self.second.search(subject, *bounds)
            if second is None:
                pos = max(pos, bounds[1])
                continue
            yield min(first.start(), second.start()), max(first.end(), second.end())

    def _first(self, subject: str, starts: list[int] | None, pos: int) -> re.Match[str] | None:
        """The first part's next match at or after `pos`, tried only at `starts` when known."""
        assert self.lowered is not None
        if starts is None:
            return self.lowered.search(subject, pos)
        match = self.lowered.anchored.match
        for i in range(bisect.bisect_left(starts, pos), len(starts)):
            if (m := match(subject, starts[i])) is not None:
                return m
        return None


@lru_cache(maxsize=32)
def _holds(requirement: re.Pattern[str], text: str) -> bool:
    """Whether `text` meets a rule's requirement: asked once a text, not once a pattern."""
    return requirement.search(text) is not None


def sentence_bounds(breaks: list[int], length: int, start: int, end: int) -> tuple[int, int]:
    """The stretch around [start, end) with no sentence punctuation or line break, from the
    sorted positions of those characters in the text."""
    i = bisect.bisect_left(breaks, start)
    begin = breaks[i - 1] + 1 if i else 0
    j = bisect.bisect_left(breaks, end)
    return begin, breaks[j] if j < len(breaks) else length


class CompiledRule:
    __slots__ = ("exceptions", "patterns", "rule")

    def __init__(self, rule: Rule) -> None:
        flags = 0 if rule.case_sensitive else re.IGNORECASE
        self.rule = rule
        self.patterns = [CompiledPattern(rule, src, sug) for src, sug in rule.expressions()]
        self.exceptions = [re.compile(spelling_variants(src), flags) for src in rule.exceptions]


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
