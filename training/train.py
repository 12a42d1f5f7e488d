"""Retrain every shipped model from ../shared/train/ and write the artefacts the package loads.

    python training/train.py [--train ../shared/train] [--out assistant/learned/models]

Fixed seed, so the same corpus gives the same files. Prints the cross-validated figures on the
training corpus (5 folds, grouped by reply) and the thresholds chosen from them; ../shared/eval/
is never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.learned.features import sentence_matrix, sentences, text_matrix  # noqa: E402
from assistant.models import Category, Signal  # noqa: E402

SEED = 7
TONE_LABELS = ("blaming", "defensive", "non_apology")
URGENCY = ("low", "medium", "high")
SENTIMENT = ("angry", "frustrated", "neutral", "positive")
ERROR_PRECISION = 0.95
REGULARISATION = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)  # the tone model's C, chosen per label by CV


def _rows(folder: Path, name: str) -> list[dict]:
    with (folder / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# The tone model ---------------------------------------------------------------------------------


def tone_dataset(
    replies: list[dict],
) -> tuple[list[tuple[str, str | None]], np.ndarray, np.ndarray]:
    """Sentences, their labels (one column per tone label) and the reply each came from. A
    sentence is positive for a label when it overlaps a span labelled with it."""
    items, labels, groups = [], [], []
    for number, row in enumerate(replies):
        text = row["text"]
        email = row.get("in_reply_to_text") or row.get("complaint") or None
        spans = []
        for span in row.get("spans", []):
            at = text.find(span["text"])
            if at >= 0:
                spans.append((span["label"], at, at + len(span["text"])))
        located = {label for label, _, _ in spans}
        for start, end in sentences(text):
            flags = []
            for label in TONE_LABELS:
                if row[label] and label not in located:
                    flags.append(-1)  # true for the reply, but where is not known: left out
                else:
                    flags.append(
                        int(any(lb == label and s < end and start < e for lb, s, e in spans))
                    )
            items.append((text[start:end], email))
            labels.append(flags)
            groups.append(number)
    return items, np.array(labels), np.array(groups)


def _model(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=500, random_state=SEED)


def _thresholds(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float, dict[str, float]]:
    """The warning threshold (best F1) and the error threshold (the lowest whose precision is at
    least ERROR_PRECISION; above 1, never, when none is), from cross-validated reply scores."""
    best, warn = -1.0, 0.5
    error = 1.01
    for t in np.unique(np.round(scores, 3)):
        predicted = scores >= t
        p, _, f, _ = precision_recall_fscore_support(
            truth, predicted, average="binary", zero_division=0
        )
        if f > best:
            best, warn = f, float(t)
        if p >= ERROR_PRECISION and predicted.sum() >= 5 and t < error:
            error = float(t)
    return warn, max(error, warn), _figures(truth, scores >= warn)


def rule_verdicts(replies: list[dict]) -> dict[str, np.ndarray]:
    """What the hand-written rules alone say of each training reply (beside its email), per
    label: the model's thresholds are chosen for what it adds to them."""
    from assistant import LintSettings, Settings
    from assistant.lint import Linter

    linter = Linter(Settings(lint=LintSettings(model=False)))
    category = {"blaming": "blame", "defensive": "defensive", "non_apology": "non-apology"}
    verdicts = {label: np.zeros(len(replies), dtype=bool) for label in TONE_LABELS}
    for number, row in enumerate(replies):
        email = row.get("in_reply_to_text") or row.get("complaint") or None
        found = {f.category for f in linter.lint(row["text"], email=email).findings}
        for label in TONE_LABELS:
            verdicts[label][number] = category[label] in found
    return verdicts


@dataclass
class ToneFit:
    """One label's cross-validated fit at the regularisation that served it best."""

    c: float
    scores: dict[int, float]  # each reply's highest sentence score, out of fold
    ids: list[int]  # the replies scored, in order
    truth: np.ndarray  # their labels
    figures: dict[str, float]  # rules and model together at the warning threshold
    warning: float


def cross_validated(
    x: sp.csr_matrix,
    y: np.ndarray,
    groups: np.ndarray,
    replies: list[dict],
    label: str,
    rules: np.ndarray,
    choices: tuple[float, ...] = REGULARISATION,
) -> ToneFit:
    """The regularisation, of `choices`, whose cross-validated thresholds serve rules and model
    together best, reply by reply (grouped 5-fold, so no reply is in two folds)."""
    best: ToneFit | None = None
    for c in choices:
        proba = cross_val_predict(
            _model(c), x, y, groups=groups, cv=GroupKFold(n_splits=5), method="predict_proba"
        )
        # Reply level, as the linter is judged: a reply is flagged when any sentence is.
        scores: dict[int, float] = {}
        for g, score in zip(groups, proba[:, 1], strict=True):
            scores[g] = max(scores.get(g, 0.0), float(score))
        ids = sorted(scores)
        truth = np.array([replies[i][label] for i in ids], dtype=int)
        # A reply the rules already flag counts as flagged whatever the model says (score 1), so
        # the thresholds are those that serve rules and model together best.
        combined = np.array([1.0 if rules[i] else scores[i] for i in ids])
        warning, _, figures = _thresholds(combined, truth)
        if best is None or figures["f1"] > best.figures["f1"]:
            best = ToneFit(c, scores, ids, truth, figures, warning)
    assert best is not None
    return best


def train_tone(replies: list[dict]) -> tuple[dict[str, np.ndarray], dict]:
    items, labels, groups = tone_dataset(replies)
    rules = rule_verdicts(replies)
    x = sentence_matrix(items)
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {"labels": list(TONE_LABELS), "sentences": len(items), "replies": len(replies)}
    for k, label in enumerate(TONE_LABELS):
        known = labels[:, k] >= 0
        xk, yk, gk = x[known], labels[known, k], groups[known]
        fit = cross_validated(xk, yk, gk, replies, label, rules[label])
        cv, warn = fit.figures, fit.warning
        # An error blocks approval: only where the model alone was precise.
        _, error, alone = _thresholds(np.array([fit.scores[i] for i in fit.ids]), fit.truth)
        error = max(error, warn)
        model = _model(fit.c)
        model.fit(xk, yk)
        arrays[f"{label}_coef"] = model.coef_[0].astype(np.float32)
        arrays[f"{label}_intercept"] = model.intercept_.astype(np.float32)
        rules_only = precision_recall_fscore_support(
            fit.truth, [rules[label][i] for i in fit.ids], average="binary", zero_division=0
        )
        meta[label] = {
            "C": fit.c,
            "warning": warn,
            "error": error,
            "positives": int(yk.sum()),
            "cv_reply": alone,
            "cv_reply_with_rules": cv,
            "rules_reply": dict(
                zip(("precision", "recall", "f1"), map(float, rules_only[:3]), strict=True)
            ),
        }
        print(
            f"tone {label:<12} positives {int(yk.sum()):>4}/{len(yk):<5} reply-level F1: "
            f"rules {rules_only[2]:.2f}, model (cv) {alone['f1']:.2f}, both (cv) {cv['f1']:.2f} "
            f"(P {cv['precision']:.2f} R {cv['recall']:.2f})  C {fit.c:g}  warning >= {warn:.3f}  "
            f"error >= {error:.3f}"
        )
    return arrays, meta


# The complaint classifier -----------------------------------------------------------------------


def _complaint_text(row: dict) -> str:
    return row["text"]


def _cue_readings(complaints: list[dict]) -> tuple[list[str | None], list[set[Signal]]]:
    """What the hand cues alone give each complaint: its category, or None where no category cue
    fires, and its escalation signals."""
    from assistant.classify.offline import classify
    from assistant.intake import parse

    categories: list[str | None] = []
    signals: list[set[Signal]] = []
    for row in complaints:
        c = classify(parse(row["text"]), use_model=False)
        decided = any(cue.label == c.category.value for cue in c.cues)
        categories.append(c.category.value if decided else None)
        signals.append(set(c.escalation_signals))
    return categories, signals


def _choose_rules_or_model(
    y: np.ndarray,
    proba: np.ndarray,
    rules: list[str | None],
    classes: list[str],
    complaint: np.ndarray,
) -> dict[str, float]:
    """How sure the model must be to overrule the hand cues: the threshold that gave the best
    cross-validated macro-F1 on the training corpus's complaints (what the assistant is given;
    thanks and chit-chat are left out), 1 being "never" and 0 "always"."""
    y, proba = y[complaint], proba[complaint]
    rules = [r for r, keep in zip(rules, complaint, strict=True) if keep]
    said = np.array([classes.index(c) if c else -1 for c in rules])
    best_p, best_f1 = 1.0, -1.0
    for threshold in np.arange(0.0, 1.01, 0.05):
        choice = np.where((said >= 0) & (proba.max(axis=1) < threshold), said, proba.argmax(axis=1))
        f1 = f1_score(y, choice, average="macro")
        if f1 > best_f1:
            best_p, best_f1 = float(threshold), float(f1)
    rules_alone = np.where(said >= 0, said, classes.index("other"))
    # What ships: the cues where any fires, the model where none does.
    shipped = np.where(said >= 0, said, proba.argmax(axis=1))
    figures = {
        "shipped_cv_macro_f1": float(f1_score(y, shipped, average="macro")),
        "rules_macro_f1": float(f1_score(y, rules_alone, average="macro")),
        "model_cv_macro_f1": float(f1_score(y, proba.argmax(axis=1), average="macro")),
        "model_overrules_at": round(best_p, 2),
        "combined_cv_macro_f1": best_f1,
    }
    print(
        f"classify category (complaints only) macro-F1: rules {figures['rules_macro_f1']:.2f}, "
        f"model (cv) {figures['model_cv_macro_f1']:.2f}, cues first then the model (shipped, cv) "
        f"{figures['shipped_cv_macro_f1']:.2f}; the model overruling the cues at p >= "
        f"{best_p:.2f} (cv) {best_f1:.2f}"
    )
    return figures


def train_classifier(complaints: list[dict]) -> tuple[dict[str, np.ndarray], dict]:
    x = text_matrix([_complaint_text(r) for r in complaints])
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {"complaints": len(complaints)}
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    heads = {
        "category": ([c.value for c in Category], [r["label"] for r in complaints]),
        "urgency": (list(URGENCY), [r["urgency"] for r in complaints]),
        "sentiment": (list(SENTIMENT), [r["sentiment"] for r in complaints]),
    }
    rules, cued = _cue_readings(complaints)
    for head, (classes, values) in heads.items():
        y = np.array([classes.index(v) for v in values])
        model = _model(2.0)
        proba = cross_val_predict(model, x, y, cv=folds, method="predict_proba")
        oof = proba.argmax(axis=1)  # every class occurs in every fold's training part
        macro = f1_score(y, oof, average="macro")
        if head == "category":
            complaint = np.array([bool(r.get("complaint", True)) for r in complaints])
            meta.update(_choose_rules_or_model(y, proba, rules, classes, complaint))
        model.fit(x, y)
        full = np.zeros((len(classes), x.shape[1]), dtype=np.float32)
        intercept = np.full(len(classes), -30.0, dtype=np.float32)  # a class never seen: never
        for row, cls in enumerate(model.classes_):
            full[cls] = model.coef_[row]
            intercept[cls] = model.intercept_[row]
        arrays[f"{head}_coef"], arrays[f"{head}_intercept"] = full, intercept
        meta[head] = {"classes": classes, "cv_macro_f1": float(macro)}
        print(f"classify {head:<10} cv macro-F1 {macro:.2f}")
    for signal in Signal:
        y = np.array([int(signal.value in r["escalation_signals"]) for r in complaints])
        model = _model(2.0)
        oof = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
        warn, _, cv = _thresholds(oof, y)
        # A complaint the cues already flag counts as flagged whatever the model says, so the
        # model's threshold is the one that serves cues and model together best (as for tone).
        by_cue = np.array([signal in found for found in cued])
        joins, _, with_cues = _thresholds(np.where(by_cue, 1.0, oof), y)
        model.fit(x, y)
        arrays[f"{signal.value}_coef"] = model.coef_[0].astype(np.float32)
        arrays[f"{signal.value}_intercept"] = model.intercept_.astype(np.float32)
        meta[signal.value] = {
            "threshold": warn,
            "joins_cues_at": joins,
            "positives": int(y.sum()),
            "cv": cv,
            "cues": _figures(y, by_cue),
            "cv_with_cues": with_cues,
        }
        print(
            f"classify {signal.value:<20} positives {int(y.sum()):>3}  cues "
            f"{_shown(meta[signal.value]['cues'])}  model (cv) {_shown(cv)}  both (cv) "
            f"{_shown(with_cues)}  the model joins the cues at p >= {joins:.3f}"
        )
    return arrays, meta


def _figures(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    p, r, f, _ = precision_recall_fscore_support(
        truth, predicted, average="binary", zero_division=0
    )
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


def _shown(figures: dict[str, float]) -> str:
    return f"P {figures['precision']:.2f} R {figures['recall']:.2f} F1 {figures['f1']:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=Path, default=ROOT.parent / "shared" / "train")
    parser.add_argument("--out", type=Path, default=ROOT / "assistant" / "learned" / "models")
    parser.add_argument(
        "--permissive-only",
        action="store_true",
        help="leave out the CC BY-NC-SA rows (train on the Apache-2.0 and written rows alone)",
    )
    args = parser.parse_args()
    replies = _rows(args.train, "replies-real.jsonl") + _rows(args.train, "replies-a-written.jsonl")
    complaints = _rows(args.train, "complaints-real.jsonl") + _rows(
        args.train, "complaint-emails-a-written.jsonl"
    )
    if args.permissive_only:
        replies = [r for r in replies if "NC" not in r.get("licence", "")]
        complaints = [r for r in complaints if "NC" not in r.get("licence", "")]
    args.out.mkdir(parents=True, exist_ok=True)
    tone, tone_meta = train_tone(replies)
    np.savez_compressed(args.out / "tone.npz", **tone)
    (args.out / "tone.json").write_text(json.dumps(tone_meta, indent=2) + "\n")
    classifier, classifier_meta = train_classifier(complaints)
    np.savez_compressed(args.out / "complaint.npz", **classifier)
    (args.out / "complaint.json").write_text(json.dumps(classifier_meta, indent=2) + "\n")
    for path in sorted(args.out.iterdir()):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"wrote {shown} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
