"""What one LLM draft costs, one-call and two-call modes side by side, against the fake
OpenAI-compatible server (tests/fake_openai.py, in a process of its own) at a fixed latency.

    python bench/llm_cost.py [--drafts 40] [--latencies 1.0 0.05]

Per draft: model calls (HTTP requests), prompt and completion tokens (the fake server reports a
fixed usage per answer, so token counts follow the number of calls), and the assistant's own time
as a share of the model's: (wall time - time the server spent) / time the server spent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _servers import ROOT, fake_server, server_seconds

import assistant
from assistant import Settings


def run(base_url: str, mode: str, emails: list[str], drafts: int) -> dict[str, float]:
    helper = assistant.Assistant(
        Settings.model_validate(
            {
                "backend": "openai",
                "llm": {"base_url": base_url, "model": "fake", "classify": mode},
            }
        )
    )
    helper.draft(emails[0])  # warm up: imports, templates, the structured-output mode
    calls, prompt, completion, own, model = [], [], [], [], []
    for i in range(drafts):
        before = len(server_seconds(base_url))
        start = time.perf_counter()
        result = helper.draft(emails[i % len(emails)])
        wall = time.perf_counter() - start
        spent = server_seconds(base_url)[before:]
        calls.append(len(spent))
        usage = result.usage or assistant.Usage()
        prompt.append(usage.prompt_tokens)
        completion.append(usage.completion_tokens)
        model.append(sum(spent))
        own.append(wall - sum(spent))
    return {
        "calls": statistics.mean(calls),
        "prompt": statistics.mean(prompt),
        "completion": statistics.mean(completion),
        "own_ms": 1000 * statistics.median(own),
        "share": sum(own) / sum(model),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drafts", type=int, default=40)
    parser.add_argument("--latencies", type=float, nargs="+", default=[1.0, 0.05])
    args = parser.parse_args()
    emails = [p.read_text(errors="replace") for p in sorted((ROOT / "examples/emails").iterdir())]
    print(f"{args.drafts} drafts per row, {len(emails)} example emails in turn")
    print(
        f"{'latency':>8} {'mode':>9} {'calls':>6} {'prompt tok':>11} {'compl. tok':>11} "
        f"{'own p50 ms':>11} {'own/model':>10}"
    )
    for latency in args.latencies:
        with fake_server(latency) as base_url:
            for mode in ("together", "separate"):
                r = run(base_url, mode, emails, args.drafts)
                print(
                    f"{latency:>7g}s {mode:>9} {r['calls']:>6.2f} {r['prompt']:>11.0f} "
                    f"{r['completion']:>11.0f} {r['own_ms']:>11.2f} {r['share']:>10.2%}"
                )


if __name__ == "__main__":
    main()
