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
