"""Commitments: every action a reply claims as done or promises is found, shown, and confirmed by
the agent before the reply can be approved; the confirmations are in the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import assistant
from assistant import ApprovalError, Settings, find_commitments
from assistant.web import create_app

from conftest import EXAMPLES, run_cli

REPLY = """Hi Ana,

I'm so sorry your bag was ripped. I've refunded you in full, and a replacement leaves today.
I've rebooked you on the 18:40. I'll call you tomorrow to check everything reached you.
Would you like me to send a label? I can't promise a date for the repair.
> Please refund me
Warm regards,
Sam"""


def test_each_action_is_found_with_its_kind_tense_and_time() -> None:
    found = [(c.action, c.done, c.when, c.text) for c in find_commitments(REPLY)]
    assert found == [
        ("refund", True, None, "I've refunded you in full"),
        ("replace", False, "today", "a replacement leaves today"),
        ("rebook", True, "on the 18:40", "I've rebooked you on the 18:40"),
        ("callback", False, "tomorrow", "I'll call you tomorrow to check everything reached you"),
    ]


def test_offsets_point_at_the_words_in_the_reply() -> None:
    for c in find_commitments(REPLY):
        assert REPLY[c.start : c.end] == c.text


@pytest.mark.parametrize(
    "sentence",
    [
        "Would you like me to refund it?",  # an offer asked, not made
        "I can't refund a gift card.",  # negated
        "> I want you to refund me.",  # the customer quoted
        "I'm so sorry for the trouble.",  # no action
        "I'd like to refund you, if that suits.",  # hypothetical
    ],
)
def test_what_commits_to_nothing_is_not_listed(sentence: str) -> None:
    assert find_commitments(sentence) == []


def test_offline_drafts_promise_rather_than_claim_done() -> None:
    # Nobody has refunded or sent anything yet when the draft is written.
    for name in sorted(p.name for p in EXAMPLES.iterdir()):
        result = assistant.draft((EXAMPLES / name).read_bytes())
        assert result.commitments, name
        assert not any(c.done for c in result.commitments), (name, result.commitments)


@pytest.fixture
def helper(tmp_path: Path) -> assistant.Assistant:
    return assistant.Assistant(Settings(audit_db=tmp_path / "audit.sqlite3", agent="dana"))


def test_approval_waits_for_every_commitment(helper: assistant.Assistant) -> None:
    result = helper.draft((EXAMPLES / "04-broken-kettle.txt").read_bytes())
    first, *rest = result.commitments
    assert rest, "the kettle draft makes more than one commitment"
    with pytest.raises(ApprovalError, match="not confirmed") as refused:
        helper.approve(result, confirmed=[first])
    assert rest[0].text in str(refused.value)
    assert helper.history(decision="pending")  # nothing lost
    record = helper.approve(result, confirmed=result.commitments)
    stored = helper.audit.get(record.id)
    assert [c.commitment for c in stored.confirmed] == result.commitments
    assert {c.status for c in stored.confirmed} == {"will_do"}


def test_an_edited_reply_is_read_again(helper: assistant.Assistant) -> None:
    result = helper.draft((EXAMPLES / "04-broken-kettle.txt").read_bytes())
    edited = "Hi Tom,\n\nI'm so sorry. I've refunded you in full today.\n\nWarm regards,\nSam"
    with pytest.raises(ApprovalError, match="I've refunded you in full today"):
        helper.approve(result, reply=edited, confirmed=result.commitments)
    record = helper.approve(result, reply=edited, confirmed=["I've refunded you in full today"])
    assert [(c.commitment.action, c.status) for c in record.confirmed] == [("refund", "done")]


def test_an_override_reason_approves_and_is_recorded(helper: assistant.Assistant) -> None:
    result = helper.draft((EXAMPLES / "04-broken-kettle.txt").read_bytes())
    record = helper.approve(result, override_reason="lead approved the refund by phone")
    assert record.override_reason == "lead approved the refund by phone"
    assert record.confirmed == []


def test_cli_refuses_unconfirmed_commitments_and_names_them(tmp_path: Path) -> None:
    env = {"ASSISTANT_AUDIT_DB": str(tmp_path / "audit.sqlite3"), "ASSISTANT_AGENT": "cli"}
    kettle = str(EXAMPLES / "04-broken-kettle.txt")
    refused = run_cli("draft", "--approve", kettle, env=env)
    assert refused.code == 1
    assert "not confirmed" in refused.err and "I'll" in refused.err
    assert refused.out == ""  # no reply leaves unconfirmed
    approved = run_cli("draft", "--approve", "--confirm-commitments", kettle, env=env)
    assert approved.code == 0 and approved.out.startswith("Hi Tom,")
    shown = run_cli("history", "--format", "json", env=env)
    records = json.loads(shown.out)["records"]
    done = next(r for r in records if r["decision"] == "approved")
    assert done["confirmed"] and all(c["status"] == "will_do" for c in done["confirmed"])


def test_web_approval_needs_the_confirmations(helper: assistant.Assistant) -> None:
    client = TestClient(create_app(helper), base_url="http://127.0.0.1:8000")
    text = (EXAMPLES / "04-broken-kettle.txt").read_text()
    drafted = client.post("/api/draft", json={"email": text}).json()
    reply = drafted["result"]["reply"]
    promised = [c["text"] for c in drafted["result"]["commitments"]]
    listed = client.post("/api/commitments", json={"text": reply}).json()
    assert [c["text"] for c in listed] == promised
    body = {"record_id": drafted["record_id"], "reply": reply}
    refused = client.post("/api/approve", json=body)
    assert refused.status_code == 409 and "not confirmed" in refused.json()["error"]
    approved = client.post("/api/approve", json={**body, "confirmed": promised})
    assert approved.status_code == 200
    assert len(approved.json()["confirmed"]) == len(promised)
