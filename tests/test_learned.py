"""The shipped learned models load from the package and give the expected labels on sentences the
project wrote (assistant/lint/tone.toml, and the complaints below). They are not retrained here."""

from __future__ import annotations

import pytest

import assistant
from assistant.learned import complaint_model, tone_model
from assistant.lint.context import Context
from assistant.lint.tone import MAX_SENTENCE_CHARS, families, tone_hits

FAMILIES = {f.id: f for f in families()}
CASES = [
    (fid, kind, text)
    for fid, f in FAMILIES.items()
    for kind in ("must_flag", "must_not_flag")
    for text in getattr(f, kind)
]


@pytest.mark.parametrize(("family", "kind", "text"), CASES)
def test_each_family_example(family: str, kind: str, text: str) -> None:
    findings = {f.rule for f in assistant.lint(text).findings if f.layer == "model"} | {
        f.category for f in assistant.lint(text).findings
    }
    category = FAMILIES[family].category
    if kind == "must_flag":
        assert category in findings, (family, text)
    else:
        assert family not in findings, (family, text)


def test_model_findings_are_sentence_spans_with_a_better_phrasing() -> None:
    reply = "Hi Ann,\n\nApologies for any disruption this may have caused. I've sent a new one today.\n\nSam"
    (finding,) = [f for f in assistant.lint(reply).findings if f.layer == "model"]
    assert finding.rule == "model-non-apology" and finding.category == "non-apology"
    assert (
        reply[finding.start : finding.end]
        == finding.text
        == ("Apologies for any disruption this may have caused.")
    )
    assert finding.suggestion and "tone model" in finding.message


def test_the_email_beside_a_reply_is_read() -> None:
    m = tone_model()
    sentence = "Have you tried the recovery steps on our help page?"
    alone = m.score([sentence])[0][m.labels.index("blaming")]
    beside = m.score([sentence], "I tried the recovery steps on your help page three times.")
    assert beside[0][m.labels.index("blaming")] != alone  # the context features change the score


def test_a_run_with_no_full_stop_is_judged_by_its_beginning() -> None:
    # A pasted blob is one "sentence" as long as the input: the model reads only its start, so a
    # 2 MB reply costs it no more than a long sentence; the finding still spans the whole run.
    phrase = "apologies for any disruption this may have caused, "
    run = phrase * (MAX_SENTENCE_CHARS // len(phrase) + 2)
    (hit,) = [h for h in tone_hits(Context(run), None, set()) if h.family.id == "model-non-apology"]
    assert (hit.start, hit.end) == (0, len(run.rstrip()))
    longer = tone_hits(Context(run * 50), None, set())
    assert [h.probability for h in longer if h.family.id == hit.family.id] == [hit.probability]


def test_email_words_the_sentence_does_not_share_change_nothing() -> None:
    m = tone_model()
    sentence = "Have you tried the recovery steps on our help page?"
    email = "I tried the recovery steps on your help page three times. " * 2
    padded = email + "Thanks. " * 20_000  # words the sentence does not share change nothing
    assert m.score([sentence], email).tolist() != m.score([sentence]).tolist()
    assert m.score([sentence], padded).tolist() == m.score([sentence], email).tolist()


def test_quoted_customer_words_are_not_judged() -> None:
    reply = "> Apologies for any disruption this may have caused.\n\nI'm sorry, I've refunded you today."
    assert not [f for f in assistant.lint(reply).findings if f.layer == "model"]


def test_the_tone_model_can_be_turned_off() -> None:
    text = "Apologies for any disruption this may have caused."
    off = assistant.Assistant(assistant.Settings(lint=assistant.LintSettings(model=False)))
    assert not [f for f in off.lint(text).findings if f.layer == "model"]
    assert [f for f in assistant.lint(text).findings if f.layer == "model"]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (
            "My suitcase never came off the carousel and nobody can tell me where it is.",
            "lost_or_missing",
        ),
        ("I was charged twice for the same order this month.", "billing_error"),
        (
            "I can't log in to my account, the password reset email never comes.",
            "account_or_access",
        ),
    ],
)
def test_the_complaint_model_reads_plain_complaints(text: str, category: str) -> None:
    probabilities = complaint_model().predict(text)["category"]
    assert max(probabilities, key=probabilities.__getitem__) == category
