"""The bench scripts the README and the issues quote still run and print their figures: a script
that rots (an API it calls moved on) is a figure nobody can measure again. Small sizes here; the
figures themselves are read from full runs, never asserted on time."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT

CASES = [
    (
        [
            "store_bench.py",
            "--prefill",
            "200",
            "--approvals",
            "20",
            "--writers",
            "2",
            "--writes",
            "40",
        ],
        # Every approval written by the concurrent writers is found again.
        r"records (\d+) of \1 approved",
    ),
    (
        ["batch_bench.py", "--emails", "6", "--queued", "12", "--concurrency", "4"],
        r"offline backend: \d+ emails/s",
    ),
    (
        ["fuzz.py", "--inputs", "60", "--cli", "1"],
        r"unexpected exceptions: 0 \(0 distinct\)",
    ),
]


@pytest.mark.parametrize(("args", "figure"), CASES, ids=[c[0][0] for c in CASES])
def test_bench_script_runs_and_prints_its_figures(args: list[str], figure: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(figure, done.stdout), done.stdout
