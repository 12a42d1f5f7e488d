"""Fuzz intake, classification and lint with Hypothesis at scale: a fixed number of generated
inputs (raw bytes, arbitrary text, email-shaped text stitched from real fragments, text with lone
surrogates, and values of the wrong type: None, numbers, lists, bytearrays, paths, open streams),
reporting how many were tried and every unexpected exception found. Bad input may raise
InputError (or TypeError for a value of the wrong type); nothing else may escape. Then a sample
of the same inputs goes through the command line on standard input (`assistant classify -` and
`assistant lint -`): each must end with exit code 0, 1 or 2 and no traceback.

    python bench/fuzz.py [--inputs 20000] [--cli 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import collections
import io
import random
import subprocess
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
    parser.add_argument("--cli", type=int, default=60, help="inputs also sent through the CLI")
    args = parser.parse_args()
    helper, linter = assistant.Assistant(), Linter()
    tried, refused = 0, 0
    found: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    surrogates = st.lists(st.integers(0xD800, 0xDFFF), min_size=1, max_size=3).map(
        lambda points: "".join(map(chr, points))
    )
    emailish = st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30), surrogates), max_size=25
    ).map("".join)
    wrong_type = st.one_of(
        st.none(),
        st.integers(),
        st.floats(),
        st.lists(st.text(max_size=10), max_size=3),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
        st.binary(max_size=100).map(bytearray),
        st.text(max_size=20).map(Path),
        st.binary(max_size=100).map(io.BytesIO),
        st.text(max_size=100).map(io.StringIO),
    )
    sampled: list[bytes] = []

    @seed(args.seed)
    @settings(
        max_examples=args.inputs,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(emailish, st.text(max_size=400), st.binary(max_size=600), wrong_type))
    def target(data: object) -> None:
        nonlocal tried, refused
        tried += 1
        if isinstance(data, (str, bytes)) and len(sampled) < 5 * args.cli:
            sampled.append(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
        if not isinstance(data, (str, bytes)):
            try:
                helper.read(data)  # type: ignore[arg-type]
            except (InputError, TypeError) as exc:
                if "\n" in str(exc).strip() or not str(exc):
                    found[f"{type(exc).__name__} not one sentence"] += 1
                refused += 1
            except Exception as exc:
                key = f"{type(exc).__name__} for {type(data).__name__}: {str(exc)[:80]}"
                found[key] += 1
                examples.setdefault(key, repr(data)[:200] + "\n" + traceback.format_exc(limit=3))
            else:
                found[f"{type(data).__name__} accepted as an email"] += 1
                examples.setdefault(f"{type(data).__name__} accepted as an email", repr(data)[:200])
            return
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
        print(f"  {count} x {key}\n    {examples.get(key, '')}")
    cli(random.Random(args.seed).sample(sampled, min(args.cli, len(sampled))))


def cli(inputs: list[bytes]) -> None:
    """The same inputs on standard input through the command line: exit 0, 1 or 2, never a
    traceback."""
    bad: collections.Counter[str] = collections.Counter()
    for data in inputs:
        for verb in ("classify", "lint"):
            run = subprocess.run(
                [sys.executable, "-m", "assistant", verb, "-"],
                input=data,
                capture_output=True,
                timeout=120,
            )
            if run.returncode not in (0, 1, 2) or b"Traceback" in run.stderr:
                key = f"{verb}: exit {run.returncode}"
                bad[key] += 1
                last = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
                print(f"  {key} on {data[:120]!r}: {last}")
    print(
        f"through the CLI on stdin: {len(inputs)} inputs x 2 commands, "
        f"{sum(bad.values())} ended in a traceback or an unexpected exit code"
    )
    for key, count in bad.most_common():
        print(f"  {count} x {key}")


if __name__ == "__main__":
    main()
