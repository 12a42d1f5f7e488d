"""The literal analysis the linter and the classifier share: which patterns can match a text,
decided from literals every match must contain. It may only ever skip patterns that cannot match."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.lint.rules import compiled_rules
from assistant.textmatch import Prefilter, WordRegex, caseless_safe, required_sets

PATTERNS = [p for c in compiled_rules() if c.rule.kind != "structure" for p in c.patterns]
SOURCES = [p.source for p in PATTERNS]
EXAMPLES = [e for c in compiled_rules() for e in (*c.rule.must_flag, *c.rule.must_not_flag)]
WORDS = sorted({w for e in EXAMPLES for w in re.findall(r"[\w']+|[.,!?]", e)})
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join)
PREFILTER = Prefilter(SOURCES)


def _matching(text: str) -> set[int]:
    lowered = text.lower()
    return {i for i, p in enumerate(PATTERNS) if any(s != e for s, e in p.spans(text, lowered))}


def test_required_literals_occur_in_every_match() -> None:
    for source in SOURCES:
        regex = re.compile(source, re.IGNORECASE)
        for example in EXAMPLES:
            for m in regex.finditer(example):
                for requirement in required_sets(source):
                    assert any(lit in m.group(0).lower() for lit in requirement), (source, m[0])


def test_every_pattern_that_matches_a_rule_example_is_a_candidate() -> None:
    matched_somewhere = 0
    for example in EXAMPLES:
        matching = _matching(example)
        matched_somewhere += bool(matching)
        assert matching <= set(PREFILTER.candidates(example.lower())), example
    assert matched_somewhere > len(EXAMPLES) / 3  # the check above is not vacuous


def test_the_prefilter_skips_most_patterns_on_a_clean_reply() -> None:
    clean = "Hi Ann, I'm so sorry the lamp arrived broken. I've sent a new one today. Sam"
    assert len(PREFILTER.candidates(clean.lower())) < len(SOURCES) / 4


@settings(max_examples=80, deadline=None)
@given(texts)
def test_the_prefilter_never_skips_a_pattern_that_would_match(text: str) -> None:
    assert _matching(text) <= set(PREFILTER.candidates(text.lower()))


@settings(max_examples=80, deadline=None)
@given(texts)
def test_word_regex_finds_the_same_spans_as_the_plain_pattern(text: str) -> None:
    lowered = text.lower()
    for source in SOURCES:
        if caseless_safe(source):
            expected = [m.span() for m in re.finditer(source, lowered)]
            assert [m.span() for m in WordRegex(source).finditer(lowered)] == expected, source


def test_caseless_safe_refuses_patterns_with_capitals() -> None:
    assert caseless_safe(r"\bour records show\b")
    assert not caseless_safe(r"\bSORRY\b") and not caseless_safe(r"[A-Z]{3,}")
