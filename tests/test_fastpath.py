"""The fast path must find exactly what running every pattern would find, only sooner."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import assistant
from assistant import LintSettings, Settings
from assistant.lint import Linter, builtin_rules
from assistant.lint.fastpath import (
    Scanner,
    WordRegex,
    caseless_safe,
    required_sets,
    scanner_available,
)

from conftest import EXAMPLES as EMAILS
from conftest import run_cli

RULES = builtin_rules()
EXAMPLES = [e for r in RULES for e in (*r.must_flag, *r.must_not_flag)]
WORDS = sorted({w for e in EXAMPLES for w in re.findall(r"[\w']+|[.,!?]", e)})
SOURCES = [src for r in RULES for src, _ in r.expressions()]

texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join)
# Besides the rules' own words: quotes and history markers (context), and characters on which
# Hyperscan and Python could disagree (accents, curly apostrophes, the \x1c-\x1f separators).
ODD = ['"', "'", "> ", "wrote:", "\n", "café", "naïvely", "’", "İ", "\x1c", "\x0b", "—"]
mixed = st.lists(st.sampled_from(WORDS + ODD), min_size=1, max_size=40).map(" ".join)

if not scanner_available() and os.environ.get("ASSISTANT_REQUIRE_FAST"):
    pytest.fail("the scanner tests need the [fast] extra (hyperscan)", pytrace=False)
needs_scanner = pytest.mark.skipif(
    not scanner_available(), reason="the [fast] extra (hyperscan) is not installed"
)
ACCELERATED = Linter(Settings(lint=LintSettings(accelerate=True)))
PURE = Linter(Settings(lint=LintSettings(accelerate=False)))


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


@needs_scanner
@settings(max_examples=150, deadline=None)
@given(mixed)
def test_the_scanner_and_the_pure_python_path_give_the_same_report(text: str) -> None:
    assert ACCELERATED.lint(text) == PURE.lint(text)


@needs_scanner
def test_rule_examples_and_offline_drafts_lint_the_same_on_both_paths() -> None:
    helper = assistant.Assistant()
    drafts = [helper.draft(helper.read_file(p)).reply for p in sorted(EMAILS.iterdir())]
    quoted = "> You must have dropped it.\nOn Mon, Ann wrote:\nnot our fault"
    for text in [*EXAMPLES, *drafts, quoted, *(f"{e} \u2014 caf\u00e9" for e in EXAMPLES[:40])]:
        assert ACCELERATED.lint(text) == PURE.lint(text), text


@needs_scanner
@settings(max_examples=80, deadline=None)
@given(texts)
def test_the_scanner_never_skips_a_pattern_that_would_match(text: str) -> None:
    scanned = Scanner([p.source for p in ACCELERATED._patterns], {}).scan(text.lower())
    assert scanned is not None  # the rules' words are plain ASCII
    candidates = set(scanned[0])
    for index, pattern in enumerate(ACCELERATED._patterns):
        if index not in candidates:
            assert not list(pattern.spans(text, text.lower())), (pattern.rule.id, text)


@needs_scanner
def test_patterns_the_scanner_cannot_take_are_left_to_python() -> None:
    # A backreference to a group that does not exist: Hyperscan refuses it, Python must decide.
    scanner = Scanner(
        ["x(?P=nope)", "refund"], {"unknown": ["a(?P=nope)"], "ownership": ["we will", "i will"]}
    )
    assert scanner.scan("nothing here") == ([0], frozenset({"unknown"}))
    assert scanner.scan("we will refund you") == ([0, 1], frozenset({"unknown", "ownership"}))
    assert scanner.scan("i will refund you") == ([0, 1], frozenset({"unknown", "ownership"}))
    assert scanner.scan("caf\u00e9") is None  # beyond ASCII: the Aho-Corasick path decides


@needs_scanner
def test_case_sensitive_patterns_see_the_text_as_written() -> None:
    scanner = Scanner([r"\b[A-Z]{3,}\b", "refund"], {}, cased={0})
    assert scanner.scan("we will refund you", "We will refund you") == ([1], frozenset())
    assert scanner.scan("we will refund you", "We WILL refund you") == ([0, 1], frozenset())
    # Lowered to ASCII but not ASCII as written (the Kelvin sign): Python decides.
    assert scanner.scan("5 k", "5 \u212a") is None


@needs_scanner
def test_gates_are_absent_only_when_nothing_can_match() -> None:
    # A lookahead, which Hyperscan takes only in prefilter mode: a gate, never an exact answer.
    scanner = Scanner([], {}, {"keep": [r"\bkeep it\b(?=[^.]*\brefund)"]})
    assert scanner.scan("no refund here") == ([], frozenset())
    assert scanner.scan("keep it, we will refund you") == ([], frozenset({"keep"}))


def _next_process() -> None:
    """What a new process starts with: no database compiled or loaded in memory yet."""
    from assistant.lint import fastpath

    fastpath._database.cache_clear()


@needs_scanner
def test_the_compiled_database_is_cached_and_a_broken_cache_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    sources = ["refund", "not our fault"]
    _next_process()
    first = Scanner(sources, {"ownership": ["we will"]})
    (cached,) = (tmp_path / "complaint-assistant" / "hyperscan").iterdir()
    cached.write_bytes(b"not a database")
    _next_process()
    again = Scanner(sources, {"ownership": ["we will"]})
    text = "it is not our fault, but we will refund you"
    assert again.scan(text) == first.scan(text) == ([0, 1], frozenset({"ownership"}))
    assert cached.read_bytes() != b"not a database"  # rewritten for the next process


@needs_scanner
def test_a_cpu_hyperscan_cannot_run_on_keeps_the_pure_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.lint import fastpath

    def refuse(*_: object, **__: object) -> None:
        raise fastpath.hyperscan.error("this CPU lacks SSSE3")

    monkeypatch.setattr(fastpath, "Scanner", refuse)
    linter = Linter()
    text = "Our records show it was delivered, so there is nothing we can do."
    assert linter.lint(text) == PURE.lint(text)
    assert {f.rule for f in linter.lint(text).findings} >= {
        "doubt-our-records",
        "stonewall-nothing-we-can-do",
    }


@needs_scanner
def test_a_cached_database_this_cpu_refuses_is_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.lint import fastpath

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _next_process()
    Scanner(["refund"], {})  # leaves the compiled database in the cache
    _next_process()
    real = fastpath.hyperscan.Scratch
    refusals = []

    def foreign_once(database: object) -> object:
        if not refusals:  # as a database compiled on another CPU is refused
            refusals.append(database)
            raise fastpath.hyperscan.error("database was compiled for a different platform")
        return real(database)

    monkeypatch.setattr(fastpath.hyperscan, "Scratch", foreign_once)
    assert Scanner(["refund"], {}).scan("we will refund you") == ([0], frozenset())
    _next_process()  # the database compiled under the patch must not outlive this test
    assert refusals  # the cached copy was tried, refused, and compiled again


def test_the_cli_lints_the_same_with_the_scanner_turned_off(tmp_path: Path) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text("[lint]\naccelerate = false\n")
    reply = (
        b"Hi Ann,\n\nOur records show it was delivered, so there is nothing we can do. "
        b'You wrote "it never came", but per our policy refunds take 30 days. SORRY!!!\n\nSam'
    )
    default = run_cli("lint", "--format", "json", "-", stdin=reply)
    pure = run_cli("--config", str(config), "lint", "--format", "json", "-", stdin=reply)
    assert default.code == pure.code == 1
    assert default.out == pure.out
    assert "doubt-our-records" in pure.out and "stonewall-nothing-we-can-do" in pure.out
