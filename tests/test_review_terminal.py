"""The interactive review, driven through a pseudo-terminal as an agent would use it."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pexpect
import pytest

from assistant import AuditLog

from conftest import EXAMPLES, ROOT

PROMPT = r"\[a\]pprove"
BAD = "Hi Tom, our records show it was delivered, so there is nothing we can do. Sam"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    editor = tmp_path / "editor.py"
    editor.write_text(f"import sys\nopen(sys.argv[1], 'w').write({BAD!r})\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(
        {
            "ASSISTANT_AUDIT_DB": str(tmp_path / "audit.sqlite3"),
            "ASSISTANT_AGENT": "pty-agent",
            "EDITOR": f"{sys.executable} {editor}",
            "VISUAL": f"{sys.executable} {editor}",
            "COLUMNS": "200",
            "TERM": "xterm",
        }
    )
    child = pexpect.spawn(
        sys.executable,
        ["-m", "assistant", "draft", str(EXAMPLES / "04-broken-kettle.txt")],
        env=env,
        cwd=str(ROOT),
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
        # A shell without job control starts background commands with SIGINT ignored, and the
        # child would inherit that: Ctrl-C must reach it however the suite was launched.
        preexec_fn=_default_sigint,
    )
    yield child, tmp_path / "audit.sqlite3"
    child.close(force=True)


def test_edit_dismiss_override_and_approve(session) -> None:  # type: ignore[no-untyped-def]
    child, db = session
    child.expect("meta-goal")
    child.expect(PROMPT)
    child.sendline("e")  # the editor writes a blaming reply
    child.expect("doubt-our-records")
    child.expect(PROMPT)
    child.sendline("a")
    child.expect("Override reason")
    child.sendline("")  # empty: back to the review
    child.expect(PROMPT)
    child.sendline("d")
    child.expect("Which finding")
    child.sendline("1")
    child.expect("Reason for dismissing it")
    child.sendline("customer asked what the scan said")
    child.expect(PROMPT)
    child.sendline("a")
    child.expect("Override reason")
    child.sendline("team lead approved")
    child.expect("approved")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    (record,) = AuditLog(db).query()
    assert record.decision == "approved" and record.agent == "pty-agent"
    assert record.final_reply == BAD and record.override_reason == "team lead approved"
    assert record.dismissed[0].reason == "customer asked what the scan said"
    assert [e.note for e in record.edits] == ["edited"]


def test_ctrl_c_saves_the_draft_as_pending(session) -> None:  # type: ignore[no-untyped-def]
    child, db = session
    child.expect(PROMPT)
    child.sendline("e")
    child.expect(PROMPT)
    child.sendintr()
    child.expect("Saved as pending")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    (record,) = AuditLog(db).query()
    assert record.decision == "pending" and record.final_reply == BAD


def test_kill_mid_review_keeps_the_pending_draft(session) -> None:  # type: ignore[no-untyped-def]
    child, db = session
    child.expect(PROMPT)
    child.sendline("e")
    child.expect(PROMPT)
    os.kill(child.pid, signal.SIGKILL)
    child.expect(pexpect.EOF)
    log = AuditLog(db)
    assert log.integrity() == "ok"
    (record,) = log.query()
    assert record.decision == "pending" and record.final_reply == BAD and len(record.edits) == 1


def test_reject_with_a_reason(session) -> None:  # type: ignore[no-untyped-def]
    child, db = session
    child.expect(PROMPT)
    child.sendline("x")
    child.expect("Reason for rejecting")
    child.sendline("duplicate of yesterday's ticket")
    child.expect("rejected")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    (record,) = AuditLog(db).query()
    assert record.decision == "rejected" and record.reason == "duplicate of yesterday's ticket"
