"""The fake OpenAI-compatible server (tests/fake_openai.py) in a process of its own, for benchmarks:
sharing the client's process would make it compete for the GIL with what is being measured."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


@contextlib.contextmanager
def fake_server(latency: float) -> Iterator[str]:
    """The fake OpenAI server in a second process, so it never competes with the client for the GIL."""
    proc = subprocess.Popen(
        [sys.executable, str(TESTS / "fake_openai.py"), "--latency", str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


def server_seconds(base_url: str) -> list[float]:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/_stats") as response:
        return list(json.load(response)["seconds"])
