"""The fast path must find exactly what running every pattern would find, only sooner."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.lint import Linter, builtin_rules
from assistant.lint.fastpath import WordRegex, caseless_safe, required_sets

RULES = builtin_rules()
EXAMPLES = [e for r in RULES for e in (*r.must_flag, *r.must_not_flag)]
WORDS = sorted({w for e in EXAMPLES for w in re.findall(r"[\w']+|[.,!?]", e)})
SOURCES = [src for r in RULES for src, _ in r.expressions()]

texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join)


def test_required_literals_occur_in_every_match() -> None:
    for source in SOURCES:
        regex = re.compile(source, re.IGNORECASE)
        sets = required_sets(source)
        for example in EXAMPLES:
            for m in regex.finditer(example):
                for requirement in sets:
                    assert any(lit in m.group(0).lower() for lit in requirement), (
                        source,
                        m.group(0),
                    )


@settings(max_examples=80, deadline=None)
@given(texts)
def test_word_regex_finds_the_same_spans_as_the_plain_pattern(text: str) -> None:
    lowered = text.lower()
    for source in SOURCES:
        if caseless_safe(source):
            expected = [m.span() for m in re.finditer(source, lowered)]
            assert [m.span() for m in WordRegex(source).finditer(lowered)] == expected, source


def _brute_force(linter: Linter, text: str) -> set[tuple[str, int, int]]:
    found = set()
    for pattern in linter._patterns:
        for start, end in pattern.spans(text, text.lower()):
            found.add((pattern.rule.id, start, end))
    return found


@settings(max_examples=80, deadline=None)
@given(texts)
def test_prefilter_never_skips_a_pattern_that_would_match(text: str) -> None:
    linter = Linter()
    candidates = set(linter._prefilter.candidates(text.lower()))
    for index, pattern in enumerate(linter._patterns):
        if index not in candidates:
            assert not list(pattern.spans(text, text.lower())), (pattern.rule.id, text)


def test_examples_lint_the_same_with_and_without_the_prefilter() -> None:
    linter = Linter()
    for example in EXAMPLES:
        fast = {
            (f.rule, f.start, f.end) for f in linter.lint(example).findings if f.layer == "pattern"
        }
        assert fast <= _brute_force(linter, example)
