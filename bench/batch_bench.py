"""Batch drafting at scale: 1,000 emails through the openai backend against a fake server with a
fixed latency (its own process, loopback), compared with the ideal; the offline backend's emails
per second over the same emails; and peak memory with 10,000 emails queued.

    python bench/batch_bench.py [--emails 1000] [--concurrency 32] [--latency 0.2] [--queued 10000]

ideal = emails x (requests per draft x latency) / concurrency; ratio = ideal / wall (1.0 is perfect).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _servers import ROOT, fake_server, server_seconds

import assistant
from assistant import Settings
from assistant.batch import Output, adraft_items, read_items


def write_emails(path: Path, n: int) -> None:
    examples = [
        p.read_text(errors="replace") for p in sorted((ROOT / "examples" / "emails").iterdir())
    ]
    with path.open("w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"e{i}", "text": examples[i % len(examples)]}) + "\n")


async def drain(
    helper: assistant.Assistant, source: Path, out: Path, concurrency: int, workers: int | None
) -> int:
    output, n = Output(out), 0
    async for result in adraft_items(helper, read_items(source), concurrency, workers):
        output.write(result)
        n += 1
    output.close()
    return n


MEMORY = """
import asyncio, resource, sys
sys.path.insert(0, sys.argv[3])
import batch_bench, assistant
from pathlib import Path
n = asyncio.run(batch_bench.drain(assistant.Assistant(), Path(sys.argv[1]), Path(sys.argv[2]), 32, 1))
print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--queued", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        source = tmp / "emails.jsonl"
        write_emails(source, args.emails)

        with fake_server(args.latency) as base_url:
            helper = assistant.Assistant(
                Settings.model_validate(
                    {"backend": "openai", "llm": {"base_url": base_url, "model": "fake"}}
                )
            )
            helper.draft("warm up: my order is late")
            before = len(server_seconds(base_url))
            start = time.perf_counter()
            n = asyncio.run(drain(helper, source, tmp / "llm.jsonl", args.concurrency, None))
            wall = time.perf_counter() - start
            requests = len(server_seconds(base_url)) - before
        per_draft = requests / n
        ideal = n * per_draft * args.latency / args.concurrency
        print(
            f"batch_bench: {n} emails, openai backend, concurrency {args.concurrency}, "
            f"server latency {args.latency * 1000:.0f} ms per request, {per_draft:.2f} requests per draft"
        )
        print(
            f"wall {wall:.2f} s, ideal {ideal:.2f} s, ratio {ideal / wall:.2f} of ideal "
            f"({n / wall:.1f} emails/s)"
        )

        offline = assistant.Assistant()
        cores = os.cpu_count() or 1
        start = time.perf_counter()
        n = asyncio.run(drain(offline, source, tmp / "offline.jsonl", args.concurrency, cores))
        wall = time.perf_counter() - start
        print(
            f"offline backend: {n / wall:,.0f} emails/s on {cores} cores ({n} emails in {wall:.2f} s)"
        )

        big = tmp / "queued.jsonl"
        write_emails(big, args.queued)
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                MEMORY,
                str(big),
                str(tmp / "queued-out.jsonl"),
                str(Path(__file__).parent),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        done, kib = proc.stdout.split()
        print(
            f"peak memory drafting {int(done):,} queued emails (offline, streamed): {int(kib) / 1024:.0f} MB"
        )


if __name__ == "__main__":
    main()
