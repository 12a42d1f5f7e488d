"""Where the development evaluation data lives (../shared/eval beside the repo), read-only."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"


def load_jsonl(name: str, path: str | None = None) -> list[dict[str, Any]]:
    file = Path(path) if path else EVAL / name
    if not file.is_file():
        raise SystemExit(f"{file} not found: pass --data, or put shared/ beside the repo.")
    return [
        json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def bootstrap(
    statistic: Callable[[list[int]], float], n: int, rounds: int = 1000, seed: int = 7
) -> tuple[float, float]:
    """A 95% interval for `statistic` (given row indices) over resamples of the n rows."""
    rng = random.Random(seed)
    values = sorted(statistic([rng.randrange(n) for _ in range(n)]) for _ in range(rounds))
    return values[int(0.025 * rounds)], values[int(0.975 * rounds) - 1]
