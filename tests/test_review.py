"""The review step and the audit log: approve, edit, dismiss, reject, history; nothing lost."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import assistant
from assistant import ApprovalError, AuditLog, Settings
from assistant.review.store import MIGRATIONS

from conftest import EXAMPLES, ROOT, run_cli

BAD = "Our records show it was delivered, so there is nothing we can do."


@pytest.fixture
def helper(tmp_path: Path) -> assistant.Assistant:
    return assistant.Assistant(Settings(audit_db=tmp_path / "audit.sqlite3", agent="dana"))


def _result(
    helper: assistant.Assistant, name: str = "04-broken-kettle.txt"
) -> assistant.DraftResult:
    return helper.draft(helper.read_file(EXAMPLES / name))


def test_database_is_wal_with_recorded_migrations(helper: assistant.Assistant) -> None:
    log = helper.audit
    assert log.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert log.migrations == [m.__name__ for m in MIGRATIONS]
    # Opening again applies nothing twice.
    assert AuditLog(log.path).migrations == log.migrations


def test_approving_a_clean_draft_stores_everything(helper: assistant.Assistant) -> None:
    result = _result(helper)
    record = helper.approve(result, confirmed=result.commitments)
    stored = helper.audit.get(record.id)
    assert stored.decision == "approved" and stored.agent == "dana"
    assert stored.email_raw == result.email.raw and stored.complaint == result.email.body
    assert stored.classification == result.classification
    assert stored.first_draft == stored.final_reply == result.reply
    assert stored.backend == "offline" and stored.prompt_version == result.prompt_version
    assert stored.meta_goal == result.meta_goal


def test_an_edited_reply_is_linted_and_refused_without_override(
    helper: assistant.Assistant,
) -> None:
    result = _result(helper)
    with pytest.raises(
        ApprovalError, match=r"error finding\(s\) remain \(doubt-our-records, stonewall"
    ):
        helper.approve(result, reply=BAD)
    pending = helper.history(decision="pending")
    assert len(pending) == 1 and pending[0].final_reply == BAD  # nothing lost: saved as pending
    record = helper.approve(
        result, reply=BAD, override_reason="customer asked for the carrier's scan"
    )
    assert (
        record.decision == "approved"
        and record.override_reason == "customer asked for the carrier's scan"
    )
    assert [e.text for e in record.edits] == [BAD]
    assert {f.rule for f in record.findings} >= {"doubt-our-records"}


def test_a_number_the_profile_lacks_warns_the_agent_and_blocks_a_draft(
    helper: assistant.Assistant,
) -> None:
    result = _result(helper)
    reply = result.reply + "\n\nOr call our baggage desk on 1-888-907-0345 any time."
    # The agent's own reply: they may know the number, so it is theirs to check.
    own = helper.lint(reply, email=result.email)
    assert [f.severity for f in own.findings if f.rule == "unlisted-phone"] == ["warning"]
    # The same words in a draft under review may be a model handed an email's number: blocked.
    with pytest.raises(ApprovalError, match="unlisted-phone"):
        helper.approve(result, reply=reply, confirmed=result.commitments)
    assert helper.history(decision="pending")[0].final_reply == reply


def test_dismissed_findings_keep_their_reasons(helper: assistant.Assistant) -> None:
    result = _result(helper)
    review = helper.review(result)
    review.edit("Our return policy is 30 days, but I've refunded you today anyway and I'm sorry.")
    (finding,) = review.report.errors()
    review.dismiss(finding, "she asked what the policy is")
    review.edit(review.reply + " Thank you for your patience.")  # the dismissal survives an edit
    record = review.approve(confirmed=review.commitments)
    assert [(d.finding.rule, d.reason) for d in record.dismissed] == [
        ("defensive-policy", "she asked what the policy is")
    ]
    assert helper.audit.get(record.id).dismissed == record.dismissed


def test_apply_suggestion_and_regenerate_are_edits(helper: assistant.Assistant) -> None:
    review = helper.review(_result(helper))
    review.edit("Sorry for any inconvenience this may have caused. I've sent a new kettle today.")
    finding = next(f for f in review.report.findings if f.rule == "non-apology-any-inconvenience")
    review.apply_suggestion(finding)
    assert review.reply.startswith("I'm sorry for the trouble this caused you.")
    review.regenerate()
    assert [e.note for e in review.record.edits] == [
        "edited",
        "suggestion non-apology-any-inconvenience",
        "regenerated",
    ]
    assert review.reply == review.record.first_draft


def test_reject_needs_a_reason(helper: assistant.Assistant) -> None:
    result = _result(helper)
    with pytest.raises(assistant.InputError, match="reason"):
        helper.reject(result, "  ")
    record = helper.reject(result, "customer already called and it is sorted")
    assert helper.audit.get(record.id).decision == "rejected"


def test_history_filters(helper: assistant.Assistant) -> None:
    for name, agent in [("04-broken-kettle.txt", "ann"), ("13-late-delivery.txt", "bo")]:
        result = _result(helper, name)
        helper.approve(result, agent=agent, confirmed=result.commitments)
    helper.reject(_result(helper, "13-late-delivery.txt"), "duplicate", agent="bo")
    assert {r.agent for r in helper.history(agent="bo")} == {"bo"}
    assert [
        r.classification.category.value for r in helper.history(category="damaged_or_defective")
    ] == ["damaged_or_defective"]
    assert len(helper.history(decision="rejected")) == 1
    assert helper.history(since=assistant.review.store._now()) == []
    assert len(helper.history(limit=2)) == 2


def test_markers_are_removed_from_the_sent_reply(helper: assistant.Assistant) -> None:
    reply = "Our return policy is 30 days, and I've waived it for you today. <!-- lint-ignore defensive-policy -->"
    record = helper.approve(
        _result(helper), reply=reply, confirmed=["I've waived it for you today"]
    )
    assert record.final_reply == "Our return policy is 30 days, and I've waived it for you today."


# The command line, scripted ---------------------------------------------------------------------


def _env(tmp_path: Path) -> dict[str, str]:
    return {"ASSISTANT_AUDIT_DB": str(tmp_path / "audit.sqlite3"), "ASSISTANT_AGENT": "cli-agent"}


def test_cli_approve_pipes_only_the_reply(tmp_path: Path) -> None:
    r = run_cli(
        "draft",
        "--approve",
        "--confirm-commitments",
        str(EXAMPLES / "04-broken-kettle.txt"),
        env=_env(tmp_path),
    )
    assert r.code == 0, r.err
    assert r.out.startswith("Hi Tom,") and "category" not in r.out
    assert "approved: record" in r.err
    (record,) = assistant.AuditLog(tmp_path / "audit.sqlite3").query()
    assert record.agent == "cli-agent" and record.final_reply == r.out.rstrip("\n")


def test_cli_reply_file_is_linted_and_override_recorded(tmp_path: Path) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_text(BAD)
    r = run_cli(
        "draft",
        "--reply-file",
        str(reply),
        str(EXAMPLES / "04-broken-kettle.txt"),
        env=_env(tmp_path),
    )
    assert r.code == 1 and "Approval refused" in r.err and "doubt-our-records" in r.err
    assert r.out == ""
    out = tmp_path / "approved.txt"
    r = run_cli(
        "draft",
        "--reply-file",
        str(reply),
        "--override-reason",
        "lead approved",
        "--agent",
        "lead",
        "--out",
        str(out),
        str(EXAMPLES / "04-broken-kettle.txt"),
        env=_env(tmp_path),
    )
    assert r.code == 0 and out.read_text() == BAD + "\n"
    records = assistant.AuditLog(tmp_path / "audit.sqlite3").query()
    assert {r.decision for r in records} == {"pending", "approved"}
    assert next(r for r in records if r.decision == "approved").override_reason == "lead approved"


def test_cli_history_show_and_export(tmp_path: Path) -> None:
    env = _env(tmp_path)
    for name in ("04-broken-kettle.txt", "13-late-delivery.txt"):
        assert (
            run_cli(
                "draft", "--approve", "--confirm-commitments", str(EXAMPLES / name), env=env
            ).code
            == 0
        )
    listing = run_cli("history", env=env)
    assert (
        listing.code == 0
        and "shipping_delay" in listing.out
        and "damaged_or_defective" in listing.out
    )
    record_id = listing.out.split()[0]
    shown = run_cli("history", "show", record_id[:6], env=env)
    assert shown.code == 0 and "final reply" in shown.out
    only = json.loads(
        run_cli("history", "--category", "shipping_delay", "--format", "json", env=env).out
    )
    assert [r["classification"]["category"] for r in only["records"]] == ["shipping_delay"]
    lines = run_cli("history", "export", "--format", "jsonl", env=env).out.splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["decision"] == "approved"
    rows = list(
        csv.DictReader(io.StringIO(run_cli("history", "export", "--format", "csv", env=env).out))
    )
    assert len(rows) == 2 and rows[0]["agent"] == "cli-agent"
    missing = run_cli("history", "show", "nope", env=env)
    assert missing.code == 2 and "No record nope" in missing.err
    bad_date = run_cli("history", "--since", "yesterday", env=env)
    assert bad_date.code == 2


# A kill in the middle of writing loses nothing already recorded -------------------------------

WRITER = """
import sys, assistant
from assistant import Settings
helper = assistant.Assistant(Settings(audit_db=sys.argv[1], agent="writer"))
result = helper.draft(open(sys.argv[2]).read())
while True:
    record = helper.approve(result, confirmed=result.commitments)
    print(record.id, flush=True)
"""


def test_kill_mid_write_leaves_a_consistent_database(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(EXAMPLES / "13-late-delivery.txt")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    acknowledged = [proc.stdout.readline().strip() for _ in range(40)]
    time.sleep(0.05)  # let it be in the middle of another write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    log = AuditLog(db)
    assert log.integrity() == "ok"
    stored = {r.id: r for r in log.query(limit=None)}
    for record_id in acknowledged:
        assert stored[record_id].decision == "approved"  # every acknowledged decision survived
    # Whatever was in flight is either whole or absent: every row parses, no half-written record.
    raw = sqlite3.connect(db).execute("SELECT COUNT(*) FROM records").fetchone()[0]
    assert raw == len(stored) >= len(acknowledged)


def test_files_holding_customer_data_are_this_users_only(tmp_path: Path) -> None:
    env = {
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
        "ASSISTANT_AUDIT_DB": str(tmp_path / "a.sqlite3"),
    }
    r = run_cli(
        "draft",
        "--approve",
        "--confirm-commitments",
        str(EXAMPLES / "04-broken-kettle.txt"),
        env=env,
    )
    assert r.code == 0, r.err
    for path in tmp_path.glob("a.sqlite3*"):
        assert path.stat().st_mode & 0o077 == 0, path
