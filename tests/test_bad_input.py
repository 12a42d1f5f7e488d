"""Bad input gets one clear sentence and exit code 2, never a traceback; sizes are refused first."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import assistant

from conftest import EXAMPLES, run_cli


def _clear(r) -> None:  # type: ignore[no-untyped-def]
    assert r.code == 2, (r.code, r.err)
    assert r.err.startswith("error: ") and len(r.err.strip().splitlines()) == 1
    assert "Traceback" not in r.err + r.out


def test_a_20_mb_paste_is_refused_before_any_work() -> None:
    r = run_cli("draft", "-", stdin=b"My parcel never arrived. " * 800_000)
    _clear(r)
    assert "over the 2,000,000-byte limit" in r.err


def test_the_size_limit_is_configurable(tmp_path: Path) -> None:
    config = tmp_path / "a.toml"
    config.write_text("max_input_bytes = 100\n")
    r = run_cli("--config", str(config), "classify", str(EXAMPLES / "01-lost-parcel.txt"))
    _clear(r)
    assert "100-byte limit" in r.err


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("garbage.eml", bytes(range(256)) * 40, "binary"),
        (
            "headers-only.eml",
            b"From: a@example.com\nSubject: hi\nContent-Type: image/png\n\n\x89PNG",
            "no text or HTML body",
        ),
        ("empty.txt", b"", "empty"),
        ("latin1.txt", "Ma commande est arrivée cassée".encode("latin-1"), "not UTF-8"),
    ],
)
def test_malformed_files(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    r = run_cli("draft", str(path))
    _clear(r)
    assert message in r.err


def test_a_folder_is_not_an_email(tmp_path: Path) -> None:
    r = run_cli("classify", str(tmp_path))
    _clear(r)


def test_html_only_and_non_english_emails_still_draft() -> None:
    r = run_cli("draft", "--no-review", str(EXAMPLES / "11-html-damaged-stroller.eml"))
    assert r.code == 0 and "Hi Mei," in r.out
    r = run_cli(
        "draft",
        "--no-review",
        "-",
        stdin="Hola, mi pedido llegó roto y nadie me responde.".encode(),
    )
    assert r.code == 0 and "offline drafter writes English only" in r.out.replace("\n", " ")


def test_unreadable_audit_log_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "audit.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    r = run_cli("history", env={"ASSISTANT_AUDIT_DB": str(bad)})
    _clear(r)
    assert "cannot be opened" in r.err


def test_bad_sensitive_pattern_in_config(tmp_path: Path) -> None:
    config = tmp_path / "a.toml"
    config.write_text("sensitive_patterns = ['(unclosed']\n")
    r = run_cli("--config", str(config), "lint", "-", stdin=b"hello")
    _clear(r)
    assert "not a pattern that runs in linear time" in r.err


def test_a_configured_pattern_that_would_backtrack_runs_in_linear_time() -> None:
    # In Python's engine this pattern takes exponential time on a run of a's with no match.
    from assistant.redact import Redaction, Redactor

    redactor = Redactor([r"(a+)+$"])
    text = "a" * 40 + "!"
    assert redactor.redact(text, Redaction()) == text  # finishes, and finds nothing
    refused = assistant.load_settings
    with pytest.raises(assistant.ConfigError, match="linear time"):
        refused(overrides={("sensitive_patterns",): ["(?<=order )\\d+"]})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        4.2,
        bytearray(b"my order"),
        Path("x.eml"),
        ["a"],
        io.BytesIO(b"x"),
        io.StringIO("x"),
    ],
)
def test_the_library_refuses_what_is_not_a_complaint_in_one_sentence(value: object) -> None:
    helper = assistant.Assistant()
    for call in (helper.draft, helper.classify):
        with pytest.raises(assistant.InputError, match="text, bytes or an Email"):
            call(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "args",
    [
        (
            "draft",
            "--approve",
            "--out",
            "/no/such/folder/reply.txt",
            str(EXAMPLES / "04-broken-kettle.txt"),
        ),
        ("history", "export", "--out", "/no/such/folder/h.jsonl"),
        ("batch", str(EXAMPLES), "--out", "/no/such/folder/out.jsonl"),
        ("batch", str(EXAMPLES), "--out", "OUT", "--report", "/no/such/folder/r.html"),
    ],
)
def test_an_output_file_in_a_missing_folder_is_refused_before_anything_is_recorded(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    db = tmp_path / "audit.sqlite3"
    args = tuple(str(tmp_path / "out.jsonl") if a == "OUT" else a for a in args)
    r = run_cli(*args, env={"ASSISTANT_AUDIT_DB": str(db)})
    assert r.code == 2 and "does not exist" in r.err and "Traceback" not in r.err
    assert not assistant.Assistant(assistant.Settings(audit_db=db)).history()  # nothing recorded
