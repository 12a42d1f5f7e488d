"""Batch drafting: inputs streamed, results whole-line and resumable, failures recorded."""

from __future__ import annotations

import asyncio
import json
import mailbox
import os
import signal
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

import assistant
from assistant.batch import Output, RateLimiter, read_items, summarise

from conftest import EXAMPLES, ROOT, run_cli
from fake_openai import FakeOpenAI


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_folder_to_jsonl_with_summary_and_report(tmp_path: Path) -> None:
    out, report = tmp_path / "out.jsonl", tmp_path / "report.html"
    r = run_cli(
        "batch", str(EXAMPLES), "--out", str(out), "--report", str(report), "--format", "json"
    )
    assert r.code == 0, r.err
    rows = _lines(out)
    assert sorted(row["id"] for row in rows) == sorted(p.stem for p in EXAMPLES.iterdir())
    row = next(row for row in rows if row["id"] == "04-broken-kettle")
    assert row["classification"]["category"] == "damaged_or_defective" and row["lint_ok"] is True
    assert (
        row["reply"].startswith("Hi Tom,") and row["backend"] == "offline" and row["error"] is None
    )
    summary = json.loads(r.out)
    assert summary["drafted"] == 14 and summary["failed"] == 0 and summary["lint_clean"] == 14
    assert (
        summary["categories"]["damaged_or_defective"] == 3
        and summary["signals"]["chargeback_threat"] == 1
    )
    page = report.read_text()
    assert "<svg" in page and "damaged_or_defective" in page and "100%" in page
    assert "http" not in page.replace("http-equiv", "")  # self-contained: nothing fetched


def test_jsonl_and_mbox_inputs_and_failures_do_not_stop_the_run(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "text": "My parcel never arrived."}),
                json.dumps({"id": "b", "email": "The kettle arrived cracked."}),
                json.dumps({"id": "c", "text": "   "}),
                "this line is not json",
            ]
        )
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    r = run_cli("batch", str(source), "--out", str(out), "--workers", "1")
    assert r.code == 1  # some items failed
    rows = {row["id"]: row for row in _lines(out)}
    assert rows["a"]["classification"]["category"] == "lost_or_missing"
    assert rows["b"]["lint_ok"] is True
    assert "empty" in rows["c"]["error"] and rows["line-4"]["error"]
    assert "2 drafted, 2 failed" in r.out

    box = mailbox.mbox(tmp_path / "inbox.mbox")
    for i, body in enumerate(["My order is late.", "I was charged twice."]):
        m = EmailMessage()
        m["From"], m["Subject"], m["Message-ID"] = "a@example.com", "help", f"<m{i}@example.com>"
        m.set_content(body)
        box.add(m)
    box.flush()
    ids = [item.id for item in read_items(tmp_path / "inbox.mbox")]
    assert ids == ["m0@example.com", "m1@example.com"]


def test_resume_skips_done_ids_and_drops_a_half_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    first = next(iter(read_items(EXAMPLES)))
    Output(out).write(assistant.batch.BatchResult(id=first.id, reply="kept from the first run"))
    with out.open("ab") as f:
        f.write(b'{"id": "02-missing-second-item", "repl')  # a kill mid-line
    r = run_cli("batch", str(EXAMPLES), "--out", str(out))
    assert r.code == 0 and "1 already done" in r.out
    rows = _lines(out)  # every line parses: the half line is gone
    assert [row["id"] for row in rows].count(first.id) == 1
    assert next(row for row in rows if row["id"] == first.id)["reply"] == "kept from the first run"
    assert len(rows) == 14


@pytest.mark.parametrize(
    "damage",
    [
        b"not json at all\n",
        b"\xff\xfe binary \x00 junk\n",
        b'{"reply": "a line with no id"}\n',
        b'["a", "list"]\n',
    ],
    ids=["text", "binary", "no-id", "list"],
)
def test_a_damaged_output_is_reported_resumed_and_nothing_is_lost(
    tmp_path: Path, damage: bytes
) -> None:
    out = tmp_path / "out.jsonl"
    first = next(iter(read_items(EXAMPLES)))
    Output(out).write(assistant.batch.BatchResult(id=first.id, reply="kept from the first run"))
    with out.open("ab") as f:
        f.write(damage + b'{"id": "02-missing-second-item", "repl')
    r = run_cli("batch", str(EXAMPLES), "--out", str(out))
    assert r.code == 0, r.err
    assert "2 unreadable line(s)" in r.out and "Traceback" not in r.err
    rows = _lines(out)
    assert len(rows) == 14 and [row["id"] for row in rows].count(first.id) == 1
    corrupt = out.with_name("out.jsonl.corrupt").read_bytes()
    assert damage in corrupt and b'"repl' in corrupt  # set aside, not thrown away
    for kept in (out, out.with_name("out.jsonl.corrupt")):
        assert kept.stat().st_mode & 0o077 == 0  # customer data: this user's only


KILLABLE = """
import asyncio, sys
from assistant import batch, Assistant, Settings
helper = Assistant(Settings.model_validate({"backend": "openai", "llm": {"base_url": sys.argv[3], "model": "m"}}))
out = batch.Output(sys.argv[2])
async def run():
    async for r in batch.adraft_items(helper, (i for i in batch.read_items(sys.argv[1]) if i.id not in out.done), 4):
        out.write(r)
        print(r.id, flush=True)
asyncio.run(run())
"""


def test_a_run_killed_half_way_loses_nothing(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": f"e{i}", "text": f"Order {i} never arrived."}) + "\n"
            for i in range(60)
        )
    )
    out = tmp_path / "out.jsonl"
    with FakeOpenAI(latency=0.02) as fake:
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLABLE, str(source), str(out), fake.base_url],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert proc.stdout is not None
        acknowledged = [proc.stdout.readline().strip() for _ in range(15)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        rows = _lines(out)  # whole lines only
        assert set(acknowledged) <= {row["id"] for row in rows}
        resumed = subprocess.run(
            [sys.executable, "-c", KILLABLE, str(source), str(out), fake.base_url],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert resumed.returncode == 0, resumed.stderr
    ids = [row["id"] for row in _lines(out)]
    assert sorted(ids) == sorted(f"e{i}" for i in range(60))  # each exactly once


def test_openai_backend_runs_concurrently_and_counts_tokens(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": f"e{i}", "text": "My parcel never arrived."}) + "\n"
            for i in range(12)
        )
    )
    out = tmp_path / "out.jsonl"
    with FakeOpenAI(latency=0.3) as fake:
        env = {
            "ASSISTANT_BACKEND": "openai",
            "OPENAI_BASE_URL": fake.base_url,
            "ASSISTANT_MODEL": "m",
        }
        r = run_cli(
            "batch",
            str(source),
            "--out",
            str(out),
            "--concurrency",
            "12",
            "--format",
            "json",
            env=env,
        )
        ports = {request.client_port for request in fake.requests}
    assert r.code == 0, r.err
    summary = json.loads(r.out)
    assert summary["drafted"] == 12 and summary["tokens"] == 12 * 150  # one call each
    # Drafts one after another would reuse one kept-alive connection; at once, each has its own.
    assert len(ports) > 1


def test_library_async_iterator_yields_every_item() -> None:
    helper = assistant.Assistant()

    async def collect() -> list[assistant.batch.BatchResult]:
        return [
            r
            async for r in helper.adraft_many(
                [("x", "My order is late."), ("y", "")], concurrency=2
            )
        ]

    results = {r.id: r for r in asyncio.run(collect())}
    assert results["x"].classification["category"] == "shipping_delay"  # type: ignore[index]
    assert results["y"].error is not None and "empty" in results["y"].error


def test_rate_limiter_holds_the_third_request_in_a_minute() -> None:
    async def run() -> bool:
        limiter = RateLimiter(rpm=2)
        await limiter.acquire()
        await limiter.acquire()
        try:
            await asyncio.wait_for(limiter.acquire(), timeout=0.3)
        except TimeoutError:
            return True
        return False

    assert asyncio.run(run())


def test_summary_covers_a_whole_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", str(EXAMPLES), "--out", str(out)).code == 0
    assert summarise(out).drafted == 14


@pytest.mark.parametrize("bad", ["nope.jsonl"])
def test_missing_input_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    r = run_cli("batch", str(tmp_path / bad), "--out", str(tmp_path / "o.jsonl"))
    assert r.code == 2
