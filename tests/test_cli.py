"""The command line as agents and scripts use it: real subprocesses, real exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLES, run_cli

BAD_REPLY = (
    "Our records show it was delivered, so there is nothing we can do. Sorry for any inconvenience."
)
GOOD_REPLY = "I'm so sorry your parcel never arrived. I've sent a replacement today, and you'll have tracking by email this afternoon."


def test_draft_an_example_exits_0_and_shows_everything() -> None:
    r = run_cli("draft", str(EXAMPLES / "03-cancel-after-dispatch.eml"))
    assert r.code == 0, r.err
    for expected in (
        "cancellation_or_order_change",
        "chargeback_threat",
        "meta-goal",
        "Hi Denise,",
        "no findings",
    ):
        assert expected in r.out
    assert r.err == ""


def test_draft_json_is_the_public_model() -> None:
    r = run_cli("draft", "--format", "json", str(EXAMPLES / "01-lost-parcel.txt"))
    assert r.code == 0
    data = json.loads(r.out)
    assert data["schema"] == "assistant.draft/1"
    assert data["classification"]["category"] == "lost_or_missing"
    assert data["lint"]["ok"] is True
    assert data["reply"].startswith("Hi Priya,")
    assert {"meta_goal", "backend", "model", "revisions", "usage"} <= set(data)


def test_draft_from_stdin() -> None:
    r = run_cli("draft", "-", stdin=b"My blender arrived with a cracked jug. Order 7781.")
    assert r.code == 0
    assert "damaged_or_defective" in r.out


def test_classify_shows_why() -> None:
    r = run_cli("classify", str(EXAMPLES / "08-phone-bill-overcharged.eml"))
    assert r.code == 0
    assert "billing_error" in r.out and "why" in r.out and "overcharged" in r.out.lower()


def test_classify_json() -> None:
    r = run_cli("classify", "--format", "json", "-", stdin=b"I was charged twice for one order!")
    data = json.loads(r.out)
    assert data["schema"] == "assistant.classify/1"
    assert data["category"] == "billing_error"


def test_lint_exit_codes_and_output_format(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("Hello,\n" + BAD_REPLY)
    r = run_cli("lint", str(bad))
    assert r.code == 1
    assert any(line.startswith("2:1 doubt-our-records error ") for line in r.out.splitlines())
    assert "matched:" in r.out and "try:" in r.out

    good = tmp_path / "good.txt"
    good.write_text(GOOD_REPLY)
    assert run_cli("lint", str(good)).code == 0


def test_lint_json_is_versioned_and_spans_slice_the_text() -> None:
    r = run_cli("lint", "--format", "json", "-", stdin=BAD_REPLY.encode())
    assert r.code == 1
    data = json.loads(r.out)
    assert data["schema"] == "assistant.lint/1"
    assert data["ok"] is False
    for f in data["findings"]:
        assert BAD_REPLY[f["start"] : f["end"]] == f["text"]
        assert {
            "rule",
            "category",
            "severity",
            "message",
            "suggestion",
            "line",
            "column",
            "layer",
        } <= set(f)


def test_lint_warnings_only_exit_0() -> None:
    r = run_cli("lint", "-", stdin=b"We will try to send it today. I'm sorry it's late.")
    assert r.code == 0
    assert "vague-commitment" in r.out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("draft", "no-such-file.eml"), None, "does not exist"),
        (("draft", "-"), b"", "empty"),
        (("draft", "-"), b"\x00\x01\x02\x03", "binary"),
        (("draft", "-"), b"caf\xe9 froid", "not UTF-8"),
        (("lint", "-"), b"   ", "empty"),
        (("classify", "-"), b"> only quoted\n> history\n", "only quoted history"),
    ],
)
def test_input_errors_are_one_sentence_and_exit_2(
    args: tuple[str, ...], stdin: bytes | None, message: str
) -> None:
    r = run_cli(*args, stdin=stdin)
    assert r.code == 2
    assert message in r.err
    assert r.err.startswith("error: ") and len(r.err.strip().splitlines()) == 1
    assert "Traceback" not in r.err


def test_usage_errors_exit_2() -> None:
    assert run_cli("draft").code == 2
    assert run_cli("lint", "--format", "xml", "-").code == 2
    assert run_cli("frobnicate").code == 2


def test_config_file_changes_the_reply_and_typos_are_clear(tmp_path: Path) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text('[company]\nname = "Lumen Lamps"\nagent_name = "Ravi"\n')
    r = run_cli("--config", str(config), "draft", str(EXAMPLES / "04-broken-kettle.txt"))
    assert r.code == 0 and "Ravi\nLumen Lamps" in r.out

    config.write_text('[company]\nnmae = "Lumen"\n')
    r = run_cli("--config", str(config), "draft", str(EXAMPLES / "04-broken-kettle.txt"))
    assert r.code == 2
    assert "company.nmae is not a setting (did you mean name?)" in r.err

    config.write_text("[policy]\nmax_goodwill_credit = 'lots'\n")
    r = run_cli(
        "draft", str(EXAMPLES / "04-broken-kettle.txt"), env={"ASSISTANT_CONFIG": str(config)}
    )
    assert r.code == 2 and "policy.max_goodwill_credit" in r.err

    config.write_text("[policy\n")
    r = run_cli("--config", str(config), "lint", "-", stdin=b"hi")
    assert r.code == 2 and "not valid TOML" in r.err


def test_sample_config_is_valid() -> None:
    r = run_cli(
        "--config",
        str(EXAMPLES.parent / "assistant.toml"),
        "draft",
        str(EXAMPLES / "01-lost-parcel.txt"),
    )
    assert r.code == 0, r.err


def test_rules_lists_every_rule() -> None:
    r = run_cli("rules", "--format", "json")
    ids = [rule["id"] for rule in json.loads(r.out)["rules"]]
    assert "blame-user-error" in ids and "non-apology-sorry-if" in ids


def test_lint_json_carries_the_tone_models_findings(tmp_path: Path) -> None:
    reply = b"Hi Ann,\n\nApologies for any disruption this may have caused.\n\nSam"
    r = run_cli("lint", "--format", "json", "-", stdin=reply)
    model = [f for f in json.loads(r.out)["findings"] if f["layer"] == "model"]
    assert [f["rule"] for f in model] == ["model-non-apology"]
    assert r.code == (0 if model[0]["severity"] != "error" else 1)
    config = tmp_path / "assistant.toml"
    config.write_text("[lint]\nmodel = false\n")
    off = run_cli("--config", str(config), "lint", "--format", "json", "-", stdin=reply)
    assert not [f for f in json.loads(off.out)["findings"] if f["layer"] == "model"]


def test_lint_with_the_complaint_sees_a_reply_that_contradicts_it(tmp_path: Path) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_text("I'm sorry to hear that. Our flights departed on time today.")
    complaint = tmp_path / "complaint.txt"
    complaint.write_text("My flight BA279 was 3 hours late and I missed my connection.")
    assert run_cli("lint", str(reply)).code == 0
    r = run_cli("lint", "--format", "json", "--email", str(complaint), str(reply))
    assert r.code == 1, r.err
    assert "doubt-contradicts-customer" in {f["rule"] for f in json.loads(r.out)["findings"]}
    missing = run_cli("lint", "--email", str(tmp_path / "nope.txt"), str(reply))
    assert missing.code == 2 and "Traceback" not in missing.err


@pytest.mark.parametrize(("apps", "severity"), [("[]", "warning"), ('["WhatsApp"]', None)])
def test_lint_allows_only_the_chat_apps_the_config_lists(
    tmp_path: Path, apps: str, severity: str | None
) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text(f"[company]\nmessaging = {apps}\n[lint]\nmodel = false\n")
    reply = (
        b"Hi Ann,\n\nI'm so sorry the lamp arrived broken. Message us on WhatsApp and I'll "
        b"send a new one today.\n\nSam"
    )
    r = run_cli("--config", str(config), "lint", "--format", "json", "-", stdin=reply)
    # The agent wrote this reply: a channel the profile lacks is theirs to check, not a block.
    assert r.code == 0, r.err
    found = {f["rule"]: f["severity"] for f in json.loads(r.out)["findings"]}
    assert found.get("unlisted-messaging") == severity
