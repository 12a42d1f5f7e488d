"""Fuzz intake, classification and lint with Hypothesis at scale: a fixed number of generated
inputs (raw bytes, arbitrary text, and email-shaped text stitched from real fragments), reporting
how many were tried and every unexpected exception found. Bad input may raise InputError; nothing
else may escape.

    python bench/fuzz.py [--inputs 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import assistant
from assistant import InputError
from assistant.lint import Linter, builtin_rules

FRAGMENTS = [e for r in builtin_rules() for e in (*r.must_flag, *r.must_not_flag)] + [
    "From: A <a@example.com>\n",
    "Subject: help\n",
    "Content-Type: text/html\n\n",
    "MIME-Version: 1.0\n",
    "Content-Transfer-Encoding: base64\n\n",
    "=?utf-8?b?w6k=?=",
    "<div style='display:none'>",
    "</div>",
    "> quoted\n",
    "On Mon, 3 Jun 2024, X wrote:\n",
    "---------- Forwarded message ---------\n",
    "-- \n",
    "$5,000",
    "4111 1111 1111 1111",
    "+44 7700 900123",
    "order #A-1234",
    "\x00",
    "\ufeff",
    "\u202e",
    "İ",
    "’",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    helper, linter = assistant.Assistant(), Linter()
    tried, refused = 0, 0
    found: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    emailish = st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=25
    ).map("".join)

    @seed(args.seed)
    @settings(
        max_examples=args.inputs,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(emailish, st.text(max_size=400), st.binary(max_size=600)))
    def target(data: str | bytes) -> None:
        nonlocal tried, refused
        tried += 1
        try:
            email = helper.read(data)
            helper.classify(email)
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            report = linter.lint(text)
            for f in report.findings:
                if text[f.start : f.end] != f.text:
                    raise AssertionError(f"span of {f.rule} does not slice its text")
        except InputError:
            refused += 1
        except Exception as exc:
            key = f"{type(exc).__name__}: {str(exc)[:80]}"
            found[key] += 1
            examples.setdefault(key, repr(data)[:200] + "\n" + traceback.format_exc(limit=3))

    start = time.perf_counter()
    target()
    elapsed = time.perf_counter() - start
    print(f"fuzz: {tried:,} inputs in {elapsed:.1f} s ({tried / elapsed:,.0f}/s), seed {args.seed}")
    print(f"refused with a clear InputError: {refused:,}")
    print(f"unexpected exceptions: {sum(found.values())} ({len(found)} distinct)")
    for key, count in found.most_common():
        print(f"  {count} x {key}\n    {examples[key]}")


if __name__ == "__main__":
    main()
