"""The assistant's own overhead per LLM draft, excluding the server's latency, and HTTP requests per
draft, against a local fake OpenAI-compatible server with a fixed latency.

    python bench/llm_overhead.py [--drafts 200] [--latency 0.05]

overhead = wall time of one draft - the time the server spent on its requests (its fixed latency
plus its own handling, measured by the server)

It also prints the machine's floor: the same number of requests sent with a bare http.client
connection and no work around them, measured the same way right after each draft. What the floor
costs (loopback, the server waking up before its clock starts, a CPU that idled while the server
waited) is in every client's overhead on this machine; the difference, draft by draft, is the
assistant's own. The CPU time this process spends per draft is printed too: it includes the
offline cue reading that runs while the model thinks, so it can exceed the overhead.

The same work costs more here than in a tight loop: after each wait for the server the CPU runs
slower for a few milliseconds (on this project's VMs, 1.1 to 2 times slower right after a 50 ms
wait, recovering over 2 to 3 ms; the factor moves with the host from minute to minute). The
benchmark prints that factor, measured at the end of the run. What the assistant does while the
model thinks (reading the email's facts and cues) costs nothing here; what it does after an
answer arrives costs the most.

On a shared VM every figure moves with the host's load from run to run, so compare figures from
the same run. The last line says how much CPU time the hypervisor took from this VM while it
wanted to run (steal, from /proc/stat, averaged over the drafts): a run with steal near zero
shows the assistant's cost; a run with steal shows the host's as well. Other tenants also empty
the CPU caches while the server waits, which steal does not count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _servers import ROOT, fake_server, server_seconds
from _stats import percentile

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
        floor = BareClient(base_url)
        overheads, floors, counts, cpu = [], [], [], []
        stolen_before = host_steal()
        for i in range(args.drafts):
            before = len(server_seconds(base_url))
            start, start_cpu = time.perf_counter(), time.process_time()
            helper.draft(emails[i % len(emails)])
            wall = time.perf_counter() - start
            cpu.append(time.process_time() - start_cpu)
            seconds = server_seconds(base_url)[before:]
            overheads.append(wall - sum(seconds))
            counts.append(len(seconds))
            # The floor right after each draft, so both see the machine in the same mood.
            floors.append(floor.overhead(len(seconds)))
        stolen_after = host_steal()
        floor.close()

    own = [o - f for o, f in zip(overheads, floors, strict=True)]
    print(
        f"llm_overhead: {args.drafts} drafts, server latency {args.latency * 1000:.0f} ms per request "
        "(server in its own process)"
    )
    print(f"overhead per draft (excluding server latency): {_percentiles(overheads)}")
    print(
        f"HTTP requests per draft: {statistics.mean(counts):.2f} (min {min(counts)}, max {max(counts)}; "
        "one classification + one draft, one per attempt)"
    )
    print(
        "machine floor (the same requests from bare http.client, nothing else): "
        f"{_percentiles(floors)}"
    )
    print(f"the assistant's own (overhead minus the floor, draft by draft): {_percentiles(own)}")
    print(f"CPU time per draft in this process (waiting excluded): {_percentiles(cpu)}")
    after_idle = idle_slowdown(args.latency)
    print(
        f"this CPU right after idling {args.latency * 1000:.0f} ms: a fixed loop takes "
        f"{after_idle:.2f}x its time on a busy CPU (it speeds up again within a few ms)"
    )
    if stolen_before is None or stolen_after is None:
        print("host steal: not reported on this system")
    else:
        stolen = (stolen_after - stolen_before) / args.drafts
        print(f"host steal during the run (/proc/stat, all CPUs): {stolen * 1000:.1f} ms per draft")


def idle_slowdown(idle: float, rounds: int = 50) -> float:
    """How much slower a fixed loop runs just after the process slept `idle` seconds than when
    the CPU has been busy: the hardware or hypervisor slows an idle core, so work right after a
    wait for the server costs more than the same work measured in a tight loop."""

    def loop() -> float:
        start = time.perf_counter()
        total = 0
        for i in range(2000):
            total += i
        return time.perf_counter() - start

    after, busy = [], []
    for _ in range(rounds):
        time.sleep(idle)
        after.append(loop())
        spin_until = time.perf_counter() + 0.005  # long enough for the CPU to be up to speed
        while time.perf_counter() < spin_until:
            loop()
        busy.append(loop())
    return statistics.median(after) / statistics.median(busy)


def host_steal() -> float | None:
    """Seconds of steal on all CPUs since boot, where Linux reports it (0 outside a VM)."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _percentiles(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values) * 1000:.2f} ms  "
        f"p99 {percentile(values, 0.99) * 1000:.2f} ms"
    )


class BareClient:
    """The least a client can do: http.client on one kept-alive connection, a fixed small body."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        url = urlparse(base_url)
        self.path = f"{url.path}/chat/completions"
        self.conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
        self.body = json.dumps({"model": "fake", "messages": [{"role": "user", "content": "hi"}]})

    def overhead(self, requests: int) -> float:
        before = len(server_seconds(self.base_url))
        start = time.perf_counter()
        for _ in range(requests):
            self.conn.request("POST", self.path, self.body, {"Content-Type": "application/json"})
            self.conn.getresponse().read()
        wall = time.perf_counter() - start
        return wall - sum(server_seconds(self.base_url)[before:])

    def close(self) -> None:
        self.conn.close()


if __name__ == "__main__":
    main()
