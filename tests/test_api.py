"""The public API contract of DESIGN.md, as outside tools call it."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import assistant

from conftest import EXAMPLES, ROOT


def test_module_functions_return_the_contract_models() -> None:
    report = assistant.lint("There is nothing we can do.")
    assert isinstance(report, assistant.LintReport) and report.ok is False
    f = report.findings[0]
    assert (f.rule, f.category, f.severity) == ("stonewall-nothing-we-can-do", "defensive", "error")
    assert isinstance(f.start, int) and isinstance(f.end, int) and f.message

    c = assistant.classify("My parcel never arrived.")
    assert isinstance(c, assistant.Classification)
    assert c.category == "lost_or_missing" and c.urgency in ("low", "medium", "high")
    assert c.sentiment in ("angry", "frustrated", "neutral", "positive")

    result = assistant.draft("My parcel never arrived.")
    assert isinstance(result, assistant.DraftResult)
    assert result.classification.category == "lost_or_missing"
    assert (
        result.lint.ok
        and result.backend == "offline"
        and result.revisions == 0
        and result.usage is None
    )


def test_assistant_accepts_settings_and_parsed_emails() -> None:
    a = assistant.Assistant(assistant.Settings(company=assistant.CompanyProfile(agent_name="Kim")))
    email = a.read_file(EXAMPLES / "05-wrong-size.txt")
    assert a.draft(email).reply.split("\n")[-2] == "Kim"


def test_async_methods_match_the_sync_ones() -> None:
    import asyncio

    a = assistant.Assistant()
    text = "Our records show it was delivered."
    assert asyncio.run(a.alint(text)) == a.lint(text)
    assert asyncio.run(a.aclassify("My parcel never arrived.")) == a.classify(
        "My parcel never arrived."
    )


def test_environment_configures_the_default_assistant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_BACKEND", "nonsense")
    with pytest.raises(assistant.ConfigError, match="backend"):
        assistant.load_settings()


def test_example_library_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "library_usage.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "doubt-our-records" in out and "lint clean: True" in out


def test_wheel_carries_prompts_and_works_outside_the_checkout(tmp_path: Path) -> None:
    """`pip install .` must find every template without the repo beside it."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    assert (site / "assistant" / "prompts" / "offline" / "lost_or_missing.txt.j2").is_file()
    assert (site / "assistant" / "lint" / "rules" / "blame.toml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import assistant, sys;"
        "from assistant.prompts import prompts_dir;"
        "assert str(prompts_dir()).startswith(sys.argv[1]), prompts_dir();"
        "r = assistant.draft(open(sys.argv[2]).read());"
        "print(r.classification.category.value, r.lint.ok)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(site), str(EXAMPLES / "01-lost-parcel.txt")],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        timeout=60,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "lost_or_missing True"


def test_library_script_is_importable_as_documentation() -> None:
    # The README points at it; it must stay runnable as a module too.
    runpy.run_path(str(ROOT / "examples" / "library_usage.py"), run_name="__not_main__")


class CannedBackend:
    """Another tool's own backend: a fixed reply, and the emails it was shown."""

    name = "canned"
    model = "canned-1"
    parallel = "tasks"

    def __init__(self, endpoint: str | None, reply: str) -> None:
        self.endpoint = endpoint
        self.reply = reply
        self.seen: list[assistant.Email] = []

    async def classify(
        self, email: assistant.Email, hint: assistant.Classification
    ) -> assistant.Classification:
        self.seen.append(email)
        return hint

    async def draft(self, email, hint, lint, stream=None, *, knowledge=None):  # type: ignore[no-untyped-def]
        self.seen.append(email)
        return assistant.Drafted(
            classification=hint,
            meta_goal="The customer is whole again today.",
            reply=self.reply,
            lint=lint(self.reply),
        )

    def limit(self, limiter: object) -> None:
        return None


def test_a_backend_of_our_own_runs_through_the_whole_pipeline() -> None:
    bad = "Hi Jo,\n\nOur records show it was delivered, so there is nothing we can do.\n\nSam"
    backend = CannedBackend("https://llm.example.com/v1", bad)
    a = assistant.Assistant(assistant.Settings(), backend=backend)
    text = "My parcel never came. Call me on 07700 900123. Jo"
    result = a.draft(text)
    assert (result.backend, result.model, result.reply) == ("canned", "canned-1", bad)
    assert {"doubt-our-records", "stonewall-nothing-we-can-do"} <= {
        f.rule for f in result.lint.errors()
    }
    # Off this machine, the backend was shown the email redacted; the agent's result is not.
    assert "07700 900123" not in backend.seen[0].body and "07700 900123" in result.email.body
    assert a.classify(text).category == assistant.Category.lost_or_missing
    local = CannedBackend(None, bad)
    assistant.Assistant(backend=local).draft(text)
    assert "07700 900123" in local.seen[0].body


def test_the_registry_lists_the_backends_and_refuses_others() -> None:
    from assistant.backends import names

    assert names() == ("offline", "openai")
    with pytest.raises(assistant.ConfigError, match=r"'nope' is not a backend \(known: offline"):
        assistant.load_settings(overrides={("backend",): "nope"})


def test_threads_reviewing_at_once_share_one_audit_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A web server's first drafts arrive together: they must open the audit log once, not
    each its own (two connections switching a new database to WAL at once fail as locked)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from assistant import pipeline

    opened: list[object] = []

    class Counted(pipeline.AuditLog):  # type: ignore[misc,valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            opened.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pipeline, "AuditLog", Counted)
    helper = assistant.Assistant(assistant.Settings(audit_db=tmp_path / "audit.sqlite3"))
    result = helper.draft((EXAMPLES / "13-late-delivery.txt").read_text())
    start = threading.Barrier(8)

    def review_at_once(_: int) -> str:
        start.wait()
        return helper.review(result).record.id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(review_at_once, range(8)))
    assert len(set(ids)) == 8
    assert len(helper.history(limit=100)) == 8
    assert len(opened) == 1


def test_lint_reads_the_reply_beside_the_complaint_it_answers() -> None:
    complaint = "My flight BA279 was 3 hours late and I missed my connection in Doha."
    reply = "I'm sorry to hear that. Our flights departed on time today. I'll email you tomorrow."
    # Alone the reply reads as polite; beside the complaint it contradicts the customer.
    assert assistant.lint(reply).ok
    for email in (complaint, complaint.encode(), assistant.Assistant().read(complaint)):
        report = assistant.lint(reply, email=email)
        assert "doubt-contradicts-customer" in {f.rule for f in report.findings}
