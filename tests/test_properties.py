"""Properties that hold for any text: intake and lint never crash, spans are exact, lint is stable."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import assistant
from assistant import InputError
from assistant.intake import parse
from assistant.lint import Linter, builtin_rules
from assistant.models import Coverage, Finding

PHRASES = [e for r in builtin_rules() for e in r.must_flag[:2]] + [
    "> quoted line\n",
    "On Mon, 1 Jan 2024, A wrote:\n",
    '"you must have dropped it"',
    "<b>html</b>",
    "Subject: x\n",
    "From: a@b.c\n\n",
    "’",
    "\u0130",
    "\x00",
    "\r\n",
    "!!!",
    "[Customer Name]",
]
mixed = st.lists(st.one_of(st.sampled_from(PHRASES), st.text(max_size=40)), max_size=15).map(
    "".join
)
LINTER = Linter()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mixed, st.text(), st.binary(max_size=400)))
def test_intake_only_ever_raises_input_error(data: str | bytes) -> None:
    try:
        email = parse(data)
    except InputError:
        return
    assert email.body.strip()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mixed, st.text()))
def test_lint_spans_are_exact_and_lint_is_idempotent(text: str) -> None:
    report = LINTER.lint(text)
    for f in report.findings:
        assert 0 <= f.start <= f.end <= len(text)
        assert text[f.start : f.end] == f.text
        assert f.line >= 1 and f.column >= 1
    assert LINTER.lint(text) == report


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed)
def test_the_whole_offline_pipeline_never_crashes(text: str) -> None:
    try:
        result = assistant.draft(text)
    except InputError:
        return
    assert result.lint.ok


spans = st.tuples(st.integers(0, 30), st.integers(1, 8)).map(lambda p: (p[0], p[0] + p[1]))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["blame", "defensive"]), spans), max_size=12),
    st.sampled_from(["blame", "defensive", "clarity"]),
    spans,
)
def test_a_span_is_covered_when_a_finding_of_its_category_overlaps_it(
    found: list[tuple[str, tuple[int, int]]], category: str, span: tuple[int, int]
) -> None:
    findings = [
        Finding(rule="r", category=c, severity="warning", start=s, end=e, text="", message="m")  # type: ignore[arg-type]
        for c, (s, e) in found
    ]
    start, end = span
    overlaps = any(c == category and s < end and start < e for c, (s, e) in found)
    assert Coverage(findings).covers(category, start, end) == overlaps
