"""Accuracy, macro-F1, a confusion matrix and per-signal precision/recall of the offline classifier
on labelled real complaints, plus classifications per second on one core.

    python bench/classify_eval.py [--data ../shared/eval/complaints-dev.jsonl] [--layer rules|model|combined]

rules: the hand cues alone; model: the learned complaint model alone (its most likely category
and its signals above an even chance); combined: what the assistant ships. Macro-F1 comes with a
bootstrap 95% interval (1,000 resamples of the rows, fixed seed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import assistant
from assistant import Category, Signal
from assistant.classify import classify_offline
from assistant.learned import complaint_model

from _data import bootstrap, load_jsonl, prf


def _classify(helper: assistant.Assistant, text: str, layer: str) -> assistant.Classification:
    if layer == "combined":
        return helper.classify(text)
    email = helper.read(text)
    if layer == "rules":
        return classify_offline(email, use_model=False)
    scores = complaint_model().predict(text)
    return assistant.Classification(
        category=max(scores["category"], key=scores["category"].__getitem__),
        urgency=max(scores["urgency"], key=scores["urgency"].__getitem__),
        sentiment=max(scores["sentiment"], key=scores["sentiment"].__getitem__),
        escalation_signals=[s for s, p in scores["signals"].items() if p >= 0.5],
    )


def _macro_f1(gold: list[str], pred: list[str]) -> float:
    f1s = []
    for label in (c.value for c in Category):
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        f1s.append(prf(tp, fp, fn)[2])
    return sum(f1s) / len(f1s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data")
    parser.add_argument("--show", type=int, default=10, help="misclassified rows to print")
    parser.add_argument("--layer", choices=["rules", "model", "combined"], default="combined")
    args = parser.parse_args()
    rows = load_jsonl("complaints-dev.jsonl", args.data)
    helper = assistant.Assistant()
    results = [_classify(helper, r["text"], args.layer) for r in rows]

    labels = [c.value for c in Category]
    gold = [r["label"] for r in rows]
    pred = [c.category.value for c in results]
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(rows)
    f1s = []
    print(f"classify_eval: {len(rows)} complaints, offline classifier")
    print(f"{'category':<30} {'prec':>5} {'rec':>5} {'f1':>5}  n")
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        p, r, f1 = prf(tp, fp, fn)
        f1s.append(f1)
        print(f"{label:<30} {p:>5.2f} {r:>5.2f} {f1:>5.2f}  {tp + fn}")
    low, high = bootstrap(
        lambda idx: _macro_f1([gold[i] for i in idx], [pred[i] for i in idx]), len(rows)
    )
    print(
        f"accuracy {accuracy:.3f}  macro-F1 {sum(f1s) / len(f1s):.3f} "
        f"(95% interval {low:.2f} to {high:.2f})  layer={args.layer}"
    )

    short = {label: label[:6] for label in labels}
    print("\nconfusion (rows gold, columns predicted):")
    print(" " * 8 + " ".join(f"{short[label]:>6}" for label in labels))
    for g in labels:
        counts = [
            sum(1 for a, b in zip(gold, pred, strict=True) if a == g and b == p) for p in labels
        ]
        print(f"{short[g]:>7} " + " ".join(f"{c:>6}" for c in counts))

    print("\nescalation signals:")
    for signal in Signal:
        tp = sum(
            signal.value in r["escalation_signals"] and signal in c.escalation_signals
            for r, c in zip(rows, results, strict=True)
        )
        fp = sum(
            signal.value not in r["escalation_signals"] and signal in c.escalation_signals
            for r, c in zip(rows, results, strict=True)
        )
        fn = sum(
            signal.value in r["escalation_signals"] and signal not in c.escalation_signals
            for r, c in zip(rows, results, strict=True)
        )
        p, r, f1 = prf(tp, fp, fn)
        print(
            f"  {signal.value:<22} precision {p:.2f}  recall {r:.2f}  (gold {tp + fn}, predicted {tp + fp})"
        )
    urgency = sum(r["urgency"] == c.urgency for r, c in zip(rows, results, strict=True)) / len(rows)
    print(f"urgency agreement {urgency:.3f}")

    if args.show:
        print("\nmisclassified:")
        for r, c in zip(rows, results, strict=True):
            if r["label"] != c.category.value:
                why = ", ".join(f"{cue.text!r}" for cue in c.cues if cue.label == c.category.value)
                print(
                    f"  {r['id']} gold {r['label']} got {c.category.value} ({why}): {r['text'][:100]!r}"
                )

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    emails = [helper.read(r["text"]) for r in rows]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 2.0:
        for email in emails:
            helper.classify(email)
        n += len(emails)
    print(
        f"\nspeed: {n / (time.perf_counter() - start):,.0f} classifications/s on one core (parsed emails)"
    )


if __name__ == "__main__":
    main()
