"""The LLM judge ([lint] judge = true) against the fake OpenAI-compatible server: its sentences
become warnings with layer "llm", placed where they stand in the reply."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import assistant
from assistant import Settings

from conftest import EXAMPLES
from fake_openai import GOOD_DRAFT, FakeOpenAI

EMAIL = (EXAMPLES / "01-lost-parcel.txt").read_text()
SENTENCE = "I've sent a replacement today at no cost, and I'll email you the tracking number this afternoon."


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _assistant(fake: FakeOpenAI, judge: bool) -> assistant.Assistant:
    return assistant.Assistant(
        Settings.model_validate(
            {
                "backend": "openai",
                "lint": {"judge": judge},
                "llm": {"base_url": fake.base_url, "model": "m"},
            }
        )
    )


def test_the_judges_sentences_are_warnings_in_place(fake: FakeOpenAI) -> None:
    assert SENTENCE in GOOD_DRAFT["reply"]
    fake.judgement = {
        "findings": [
            {"sentence": SENTENCE, "label": "defensive", "reason": "says when, fine really"},
            {"sentence": "A sentence the reply does not hold.", "label": "blame", "reason": "x"},
        ]
    }
    result = _assistant(fake, judge=True).draft(EMAIL)
    (finding,) = [f for f in result.lint.findings if f.layer == "llm"]
    assert (finding.rule, finding.category, finding.severity) == (
        "llm-defensive",
        "defensive",
        "warning",
    )
    assert result.reply[finding.start : finding.end] == SENTENCE
    assert len(fake.requests) == 2  # the draft, then the judge
    judge_prompt = fake.requests[1].body["messages"]
    assert "<reply>" in judge_prompt[1]["content"] and "tablecloth" in judge_prompt[1]["content"]
    assert result.usage is not None and result.usage.total_tokens == 300  # both calls counted
    assert result.lint.ok  # a second opinion, never a block


def test_without_the_setting_the_judge_is_not_asked(fake: FakeOpenAI) -> None:
    result = _assistant(fake, judge=False).draft(EMAIL)
    assert len(fake.requests) == 1
    assert not [f for f in result.lint.findings if f.layer == "llm"]


def test_the_offline_backend_has_no_judge() -> None:
    helper = assistant.Assistant(Settings.model_validate({"lint": {"judge": True}}))
    result = helper.draft(EMAIL)
    assert not [f for f in result.lint.findings if f.layer == "llm"]


def test_a_judge_with_no_usable_answer_costs_a_note_not_the_draft(fake: FakeOpenAI) -> None:
    fake.judgement = {"findings": "every sentence, all of them"}
    result = _assistant(fake, judge=True).draft(EMAIL)
    assert result.reply == GOOD_DRAFT["reply"]
    assert not [f for f in result.lint.findings if f.layer == "llm"]
    assert any("judge gave no usable answer" in n for n in result.notes)
