"""Replies linted per second, and p50/p99 latency, on one core; proselint over the same corpus.

    python bench/lint_speed.py [--replies 1000] [--proselint-sample 200]

The corpus: the labelled dev replies (../shared/eval) and the offline drafts of the examples,
recombined sentence by sentence into --replies replies (fixed seed), so lengths and phrasing vary
like a day's drafts. proselint runs over a sample of it (it is slow) and is scaled per reply. Both
report the best of --rounds rounds.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _stats import percentile

import assistant
from assistant import Settings
from assistant.lint import Linter

from _data import ROOT, load_jsonl


def corpus(n: int) -> list[str]:
    rows = load_jsonl("replies-dev.jsonl")
    helper = assistant.Assistant()
    drafts = [
        helper.draft(helper.read_file(p)).reply
        for p in sorted((ROOT / "examples" / "emails").iterdir())
    ]
    sentences = [
        s
        for text in [r["text"] for r in rows] + drafts
        for s in re.split(r"(?<=[.!?])\s+", text)
        if s
    ]
    rng = random.Random(7)
    replies = [r["text"] for r in rows] + drafts
    while len(replies) < n:
        replies.append(" ".join(rng.sample(sentences, rng.randint(2, 7))))
    return replies[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--proselint-sample", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says

    replies = corpus(args.replies)
    linter = Linter(Settings())
    for text in replies[:50]:
        linter.lint(text)  # warm caches and compiled patterns

    latencies: list[float] = []
    best_wall = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        for text in replies:
            t0 = time.perf_counter()
            linter.lint(text)
            latencies.append(time.perf_counter() - t0)
        best_wall = min(best_wall, time.perf_counter() - start)
    ours = len(replies) / best_wall
    chars = statistics.mean(len(r) for r in replies)
    print(
        f"lint_speed: {len(replies)} replies, mean {chars:.0f} chars, {len(linter.rules)} rules, one core"
    )
    print(
        f"assistant: {ours:,.0f} replies/s  p50 {percentile(latencies, 0.5) * 1e6:.0f} µs  "
        f"p99 {percentile(latencies, 0.99) * 1e6:.0f} µs  (rules and the tone model)"
    )
    kilobyte = [r for r in replies if 800 <= len(r) <= 1300] or [" ".join(replies[:5])[:1024]]
    kb_latencies = []
    for text in kilobyte * 20:
        t0 = time.perf_counter()
        linter.lint(text)
        kb_latencies.append(time.perf_counter() - t0)
    print(
        f"replies of about 1 KB: p50 {percentile(kb_latencies, 0.5) * 1e3:.2f} ms  "
        f"p99 {percentile(kb_latencies, 0.99) * 1e3:.2f} ms"
    )
    # Growth with size: the same text repeated to 1 KB, 100 KB and 2 MB (the input limit).
    block = "\n\n".join(replies)
    for size in (1_000, 100_000, 2_000_000):
        text = (block * (size // len(block) + 1))[:size]
        seconds = float("inf")
        for _ in range(args.rounds):  # the best of the rounds, as for the corpus above
            t0 = time.perf_counter()
            linter.lint(text)
            seconds = min(seconds, time.perf_counter() - t0)
        print(
            f"one reply of {size:>9,} bytes: {seconds * 1e3:9.1f} ms ({seconds / size * 1e9:.0f} ns a byte)"
        )
    # Hostile shapes at the input limit: what a pasted blob or an attack looks like, each a
    # different per-character path (quotes, figures, capitals, contractions, defanged dots), and
    # a short reply linted beside a 2 MB email, and that email classified. One run each.
    limit = 2_000_000
    hostile = {
        "quote marks": '"' * limit,
        "single-quoted words": " 'abc' x" * (limit // 8),
        "digits": "1" * limit,
        "spaced digits": "1 " * (limit // 2),
        "listed figures": "1, " * (limit // 3),
        "capitals": "ABC DEF GHI " * (limit // 12),
        "contractions": "we're " * (limit // 6),
        "defanged dots": "[.]" * (limit // 3),
        "cjk": "这是一个投诉。" * (limit // 21),
        "fullwidth": "Ｗｅ　ｒｅｆｕｎｄ　" * (limit // 30),
        "zero-width": "re\u200bfund " * (limit // 10),
        "emoji": "😀 " * (limit // 5),
        "math letters": "𝐚𝐛 " * (limit // 9),
    }
    for name, text in hostile.items():
        t0 = time.perf_counter()
        linter.lint(text)
        print(f"2 MB of {name:<20} {(time.perf_counter() - t0) * 1e3:8.1f} ms")
    email = ("My order never arrived and I want a refund now. " * (limit // 48))[:limit]
    assistant.classify(email[:1000])  # load the cues and the model first
    t0 = time.perf_counter()
    linter.lint("I'm sorry. Your refund is on its way today.", email=email)
    print(f"a reply beside a 2 MB email   {(time.perf_counter() - t0) * 1e3:8.1f} ms")
    t0 = time.perf_counter()
    assistant.classify(email)
    print(f"a 2 MB email classified       {(time.perf_counter() - t0) * 1e3:8.1f} ms")

    try:
        from proselint.checks import __register__
        from proselint.tools import CheckRegistry, LintFile
    except ImportError:
        print("proselint: not installed (pip install -e '.[bench]'); no ratio")
        return
    CheckRegistry().register_many(__register__)
    sample = replies[: args.proselint_sample]
    LintFile("<warm>", sample[0]).lint()
    # Measured as ours is: the best of the same number of rounds (proselint caches only its
    # compiled patterns, never results, so a repeated round does no less work).
    pl_latencies = []
    pl_best = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        for text in sample:
            t0 = time.perf_counter()
            LintFile("<reply>", text).lint()
            pl_latencies.append(time.perf_counter() - t0)
        pl_best = min(pl_best, time.perf_counter() - start)
    theirs = len(sample) / pl_best
    print(
        f"proselint: {theirs:,.0f} replies/s  p50 {percentile(pl_latencies, 0.5) * 1e3:.1f} ms  "
        f"p99 {percentile(pl_latencies, 0.99) * 1e3:.1f} ms  (over {len(sample)} replies)"
    )
    print(f"ratio: {ours / theirs:,.1f}x proselint's throughput")


if __name__ == "__main__":
    main()
