"""A few smoke tests through real processes: the installed `assistant` command and the exit codes
a shell script sees. The rest of the CLI is tested in-process (tests/test_cli.py and others)."""

from __future__ import annotations

import shutil

import pytest

from conftest import EXAMPLES, run_process


def test_the_installed_command_drafts_an_example() -> None:
    command = shutil.which("assistant")
    if command is None:
        pytest.skip("the package is not installed with its entry point")
    r = run_process("assistant", "draft", "--no-review", str(EXAMPLES / "04-broken-kettle.txt"))
    assert r.code == 0, r.err
    assert "Hi Tom," in r.out and "no findings" in r.out


def test_a_blaming_reply_exits_1_with_its_findings() -> None:
    r = run_process("lint", "-", stdin=b"Our records show it was delivered. Nothing we can do.")
    assert r.code == 1
    assert "doubt-our-records" in r.out and r.err == ""


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("draft", "-"), b"", "empty"),
        (("draft", "-"), b"\x00\x01binary", "binary"),
        (("classify", "/no/such/file.eml"), b"", "does not exist"),
        (("draft", "--format", "yaml", "x.eml"), b"", "Invalid value"),
    ],
)
def test_bad_input_is_exit_2_and_one_sentence(
    args: tuple[str, ...], stdin: bytes, message: str
) -> None:
    r = run_process(*args, stdin=stdin)
    assert r.code == 2
    assert message in r.err and "Traceback" not in r.err
