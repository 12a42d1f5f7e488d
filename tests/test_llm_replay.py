"""The openai backend replayed from cassettes recorded against the real llama.cpp server
(tests/test_llm_live.py with RECORD_CASSETTES=1). No network: record mode "none"."""

from __future__ import annotations

import assistant
from assistant import Signal

from conftest import (
    CASSETTES,
    EXAMPLES,
    LIVE_MODEL,
    RECORDED_KEY,
    ROOT,
    business_settings,
    cassette,
    live_settings,
)

# Any port: requests match on method and path, and nothing real listens here.
BASE_URL = "http://127.0.0.1:9/v1"


def _assistant(**llm: object) -> assistant.Assistant:
    return assistant.Assistant(live_settings(BASE_URL, **llm))


def test_cassettes_hold_no_secrets_and_readable_bodies() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert files, "no cassettes recorded"
    for path in files:
        text = path.read_text()
        assert RECORDED_KEY not in text
        assert "authorization" not in text.lower()
        assert "chat.completion" in text  # decoded JSON, not compressed bytes


def test_replayed_classification_steps_down_to_json_object_and_merges_signals() -> None:
    helper = _assistant()
    with cassette("classify-chargeback", "none") as tape:
        c = helper.classify((EXAMPLES / "03-cancel-after-dispatch.eml").read_bytes())
    assert tape.play_count == len(tape) == 2  # json_schema refused (500), then json_object
    assert helper.backend.client.mode == "json_object"
    assert c.backend == "openai"
    assert Signal.chargeback_threat in c.escalation_signals and c.urgency == "high"


def test_replayed_draft_counts_every_token_and_revision() -> None:
    helper = _assistant(max_revisions=1)
    with cassette("draft-kettle", "none") as tape:
        result = helper.draft((EXAMPLES / "04-broken-kettle.txt").read_text())
        requests = [r for r in tape.requests]
    assert tape.all_played
    answered = [r for r in tape.responses if r["status"]["code"] == 200]
    import json

    recorded_tokens = sum(
        json.loads(r["body"]["string"])["usage"]["total_tokens"] for r in answered
    )
    assert result.usage is not None and result.usage.total_tokens == recorded_tokens
    # One call classifies and drafts; every answered call after it is a revision.
    assert result.revisions == len(answered) - 1
    assert result.classification.backend == "openai"
    assert result.model == LIVE_MODEL and len(requests) == len(tape)


def test_replayed_judge_call_follows_the_draft() -> None:
    settings = live_settings(BASE_URL, max_revisions=0).model_copy(
        update={"lint": assistant.LintSettings(judge=True)}
    )
    helper = assistant.Assistant(settings)
    with cassette("judge-kettle", "none") as tape:
        result = helper.draft((EXAMPLES / "04-broken-kettle.txt").read_text())
    assert tape.all_played
    bodies = [r.body.decode() if isinstance(r.body, bytes) else str(r.body) for r in tape.requests]
    assert "<reply>" in bodies[-1]  # the judge is the last call, and it reads the reply
    for f in result.lint.findings:
        if f.layer == "llm":
            assert result.reply[f.start : f.end] == f.text


def _sent(tape) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(
        r.body.decode() if isinstance(r.body, bytes) else str(r.body) for r in tape.requests
    )


def test_replayed_airline_draft_gives_the_model_the_business_situation_and_knowledge() -> None:
    helper = assistant.Assistant(business_settings(BASE_URL, "airline"))
    with cassette("draft-airline", "none") as tape:
        result = helper.draft((ROOT / "examples/airline/emails/01-cancelled-leg.txt").read_bytes())
    assert tape.all_played
    sent = _sent(tape)
    assert "Skyline Air, an airline" in sent and "rebook, refund, compensate" in sent
    assert "Never claim an action as already done" in sent
    assert "the company cancelled or changed it" in sent and "it is happening now" in sent
    assert "<company_knowledge>" in sent and "Cancelled flight, rebooking and care" in sent
    assert "Cancelled flight, rebooking and care" in {s.title for s in result.sources}
    assert result.commitments == assistant.find_commitments(result.reply)


def test_replayed_software_draft_cites_the_article_it_was_given() -> None:
    helper = assistant.Assistant(business_settings(BASE_URL, "software"))
    with cassette("draft-software", "none") as tape:
        result = helper.draft((ROOT / "examples/software/emails/05-how-to-cancel.txt").read_bytes())
    assert tape.all_played
    sent = _sent(tape)
    assert "Lumen Notes, a software company" in sent and "(we send no parcels)" in sent
    assert "https://lumen-notes.example/help/cancel" in sent
    assert "their direct questions" in sent and "how do I cancel my subscription?" in sent
    assert "Cancel your subscription" in {s.title for s in result.sources}
