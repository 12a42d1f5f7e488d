"""The shipped learned models and their loader: the tone model (blaming, defensive, non-apology
sentences, read beside the customer's email) and the complaint classifier (category, urgency,
sentiment, escalation signals). Trained by `python training/train.py` from ../shared/train/; the
model card is docs/models.md. Linear models over hashed n-grams: small files, CPU, no PyTorch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from ..models import Signal
from .features import sentence_matrix, sentences, text_matrix

__all__ = [
    "ComplaintModel",
    "ToneModel",
    "complaint_model",
    "sentences",
    "tone_model",
]


def _load(name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    folder = files("assistant.learned").joinpath("models")
    with folder.joinpath(f"{name}.npz").open("rb") as f:
        arrays = dict(np.load(f))
    return arrays, json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


@dataclass(frozen=True)
class Cutoffs:
    warning: float
    error: float


class ToneModel:
    """P(label) for each sentence of a reply; thresholds chosen by cross-validation on the
    training corpus (error only where its precision there was at least 0.95)."""

    def __init__(self) -> None:
        arrays, meta = _load("tone")
        self.meta = meta
        """What training recorded: sizes, thresholds and cross-validated figures."""
        self.labels: tuple[str, ...] = tuple(meta["labels"])
        self._weights = np.stack([arrays[f"{label}_coef"] for label in self.labels], axis=1)
        self._bias = np.concatenate([arrays[f"{label}_intercept"] for label in self.labels])
        self.cutoffs = {
            label: Cutoffs(meta[label]["warning"], meta[label]["error"]) for label in self.labels
        }

    def score(self, parts: list[str], email: str | None = None) -> np.ndarray:
        """One row per sentence, one column per label."""
        if not parts:
            return np.zeros((0, len(self.labels)))
        x = sentence_matrix([(p, email) for p in parts]).astype(np.float32)  # as the weights
        return _sigmoid(np.asarray(x @ self._weights) + self._bias)


class ComplaintModel:
    """Category, urgency and sentiment as probabilities over their classes; a probability per
    escalation signal."""

    def __init__(self) -> None:
        arrays, meta = _load("complaint")
        self._heads = {
            head: (
                meta[head]["classes"],
                np.ascontiguousarray(arrays[f"{head}_coef"].T),  # one row per feature
                arrays[f"{head}_intercept"],
            )
            for head in ("category", "urgency", "sentiment")
        }
        self.signals = [s.value for s in Signal if s.value in meta]
        # How sure the model must be for a signal the cues missed: chosen by cross-validation
        # on the training corpus together with the cues, and never below an even chance (the
        # rarer signals' best thresholds rest on a handful of complaints, and a guessed card
        # dispute or lawsuit puts the wrong script in front of a customer).
        self.joins_cues_at = {
            s: max(0.5, float(meta[s].get("joins_cues_at", 0.5))) for s in self.signals
        }
        self._signal_weights = np.stack([arrays[f"{s}_coef"] for s in self.signals], axis=1)
        self._signal_bias = np.concatenate([arrays[f"{s}_intercept"] for s in self.signals])

    def predict(self, text: str) -> dict[str, dict[str, float]]:
        x = text_matrix([text]).astype(np.float32)  # as the weights: no copy of them per call
        out: dict[str, dict[str, float]] = {}
        for head, (classes, weights, bias) in self._heads.items():
            z = np.asarray(x @ weights)[0] + bias
            p = np.exp(z - z.max())
            p /= p.sum()
            out[head] = dict(zip(classes, map(float, p), strict=True))
        s = _sigmoid(np.asarray(x @ self._signal_weights)[0] + self._signal_bias)
        out["signals"] = dict(zip(self.signals, map(float, s), strict=True))
        return out


@cache
def tone_model() -> ToneModel:
    return ToneModel()


@cache
def complaint_model() -> ComplaintModel:
    return ComplaintModel()
