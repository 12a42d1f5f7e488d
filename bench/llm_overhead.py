"""The assistant's own overhead per LLM draft, excluding the server's latency, and HTTP requests per
draft, against a local fake OpenAI-compatible server with a fixed latency.

    python bench/llm_overhead.py [--drafts 200] [--latency 0.05]

overhead = wall time of one draft - the time the server spent on its requests (its fixed latency
plus its own handling, measured by the server)

It also prints the machine's floor: the same number of requests sent with a bare http.client
connection and no work around them, measured the same way. What the floor costs (loopback, the
server waking up before its clock starts, a CPU that idled while the server waited) is in every
client's overhead on this machine; the difference is the assistant's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _servers import ROOT, fake_server, server_seconds

import assistant
from assistant import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    emails = [
        p.read_text(errors="replace") for p in sorted((ROOT / "examples" / "emails").iterdir())
    ]

    with fake_server(args.latency) as base_url:
        helper = assistant.Assistant(
            Settings.model_validate(
                {"backend": "openai", "llm": {"base_url": base_url, "model": "fake"}}
            )
        )
        helper.draft(emails[0])  # warm up: imports, template compilation, structured-output mode
        walls, counts = [], []
        for i in range(args.drafts):
            before = len(server_seconds(base_url))
            start = time.perf_counter()
            helper.draft(emails[i % len(emails)])
            walls.append(time.perf_counter() - start)
            counts.append(len(server_seconds(base_url)) - before)
        seconds = server_seconds(base_url)[-sum(counts) :]
        floors = bare_floor(base_url, args.drafts, round(statistics.mean(counts)))
    overheads, cursor = [], 0
    for wall, n in zip(walls, counts, strict=True):
        overheads.append(wall - sum(seconds[cursor : cursor + n]))
        cursor += n

    overheads.sort()
    p50 = statistics.median(overheads) * 1000
    p99 = overheads[min(len(overheads) - 1, int(0.99 * len(overheads)))] * 1000
    print(
        f"llm_overhead: {args.drafts} drafts, server latency {args.latency * 1000:.0f} ms per request "
        "(server in its own process)"
    )
    print(f"overhead per draft (excluding server latency): p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    print(
        f"HTTP requests per draft: {statistics.mean(counts):.2f} (min {min(counts)}, max {max(counts)}; "
        "one classification + one draft, one per attempt)"
    )
    print(
        f"machine floor (the same requests from bare http.client, nothing else): "
        f"p50 {statistics.median(floors) * 1000:.2f} ms"
    )


def bare_floor(base_url: str, rounds: int, requests: int) -> list[float]:
    url = urlparse(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
    body = json.dumps({"model": "fake", "messages": [{"role": "user", "content": "hello"}]})
    floors = []
    for _ in range(rounds):
        before = len(server_seconds(base_url))
        start = time.perf_counter()
        for _ in range(requests):
            conn.request(
                "POST", f"{url.path}/chat/completions", body, {"Content-Type": "application/json"}
            )
            conn.getresponse().read()
        wall = time.perf_counter() - start
        floors.append(wall - sum(server_seconds(base_url)[before:]))
    conn.close()
    return floors


if __name__ == "__main__":
    main()
