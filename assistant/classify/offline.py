"""The offline classifier: weighted cue lexicons (cues.toml), deterministic, explainable, fast."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from ..models import Category, Classification, Cue, Email, Sentiment, Signal, Urgency

_FLAGS = re.IGNORECASE
_URGENT = re.compile(
    r"\b(?:urgent\w*|asap|immediately|right now|today|tonight|tomorrow|emergency|stranded|"
    r"hacked|fraud\w*|stolen|locked out)\b|\bhelp!",
    _FLAGS,
)
_SHOUTING = re.compile(r"\b[A-Z]{3,}\b")
_NOT_SHOUTING = {
    "USD",
    "EUR",
    "GBP",
    "ETA",
    "DLC",
    "SMS",
    "PIN",
    "ATM",
    "LAX",
    "UPS",
    "DHL",
    "FAQ",
    "BBB",
}
_NEGATIVE_SIGNALS = {Signal.chargeback_threat, Signal.legal_threat, Signal.public_review_threat}


@dataclass(frozen=True)
class _Lexicon:
    min_score: float
    categories: dict[Category, list[tuple[re.Pattern[str], float]]]
    signals: dict[Signal, list[re.Pattern[str]]]
    sentiment: dict[str, list[re.Pattern[str]]]
    outcomes: list[tuple[re.Pattern[str], str]]


@cache
def lexicon() -> _Lexicon:
    data: dict[str, Any] = tomllib.loads(
        files("assistant.classify").joinpath("cues.toml").read_text(encoding="utf-8")
    )
    return _Lexicon(
        min_score=float(data["min_score"]),
        categories={
            Category(name): [(re.compile(p, _FLAGS), float(w)) for p, w in spec["cues"]]
            for name, spec in data["category"].items()
        },
        signals={
            Signal(name): [re.compile(p, _FLAGS) for p in spec["cues"]]
            for name, spec in data["signal"].items()
        },
        sentiment={k: [re.compile(p, _FLAGS) for p in v] for k, v in data["sentiment"].items()},
        outcomes=[(re.compile(o["pattern"], _FLAGS), o["outcome"]) for o in data["outcome"]],
    )


def _hits(patterns: list[re.Pattern[str]], text: str) -> list[str]:
    return [m.group(0) for p in patterns for m in p.finditer(text)]


def classify(email: Email) -> Classification:
    lex = lexicon()
    text = "\n".join(filter(None, [email.subject, email.body]))
    cues: list[Cue] = []

    scores: dict[Category, float] = {}
    for category, patterns in lex.categories.items():
        for pattern, weight in patterns:
            # A cue counts once however often it repeats: ten "!!!" are not ten complaints.
            found = pattern.search(text)
            if found:
                scores[category] = scores.get(category, 0.0) + weight
                cues.append(Cue(label=category.value, text=found.group(0), weight=weight))
    best = max(scores, key=lambda c: scores[c], default=Category.other)
    category = best if scores.get(best, 0.0) >= lex.min_score else Category.other
    # Only the winning category's cues explain the decision; the rest are noise for the agent.
    cues = [c for c in cues if c.label == category.value]

    signals: list[Signal] = []
    for signal, signal_patterns in lex.signals.items():
        found_signal = _hits(signal_patterns, text)
        if signal is Signal.repeat_contact and email.quoted:
            found_signal.append("(replying to an earlier thread)")
        if found_signal:
            signals.append(signal)
            cues.extend(Cue(label=signal.value, text=t) for t in dict.fromkeys(found_signal))

    cues = _distinct(cues)
    sentiment, sentiment_cues = _sentiment(text, signals)
    cues.extend(Cue(label=sentiment, text=t) for t in sentiment_cues)
    urgency = _urgency(text, category, sentiment, signals)
    outcome = next((o for p, o in lex.outcomes if p.search(text)), None)
    return Classification(
        category=category,
        urgency=urgency,
        sentiment=sentiment,
        escalation_signals=signals,
        desired_outcome=outcome,
        facts=email.facts,
        cues=cues,
        backend="offline",
    )


def _distinct(cues: list[Cue]) -> list[Cue]:
    """One cue per label and phrase: "4TH ATTEMPT" and "4th attempt", or "emailed" inside
    "I have emailed three", say the same thing twice."""
    kept: list[Cue] = []
    for cue in sorted(cues, key=lambda c: -len(c.text)):
        words = cue.text.lower()
        if not any(k.label == cue.label and words in k.text.lower() for k in kept):
            kept.append(cue)
    order = {id(c): i for i, c in enumerate(cues)}
    return sorted(kept, key=lambda c: order[id(c)])


def _sentiment(text: str, signals: list[Signal]) -> tuple[Sentiment, list[str]]:
    lex = lexicon()
    angry = _hits(lex.sentiment["angry"], text)
    shouted = [w for w in _SHOUTING.findall(text) if w not in _NOT_SHOUTING]
    if len(shouted) >= 2:
        angry.append(" ".join(shouted[:4]))
    angry.extend(s.value for s in signals if s in _NEGATIVE_SIGNALS)
    frustrated = _hits(lex.sentiment["frustrated"], text)
    if len(angry) >= 2 or (angry and frustrated):
        return "angry", angry
    if angry or frustrated:
        return "frustrated", angry + frustrated
    positive = _hits(lex.sentiment["positive"], text)
    if positive:
        return "positive", positive
    return "neutral", []


def _urgency(text: str, category: Category, sentiment: Sentiment, signals: list[Signal]) -> Urgency:
    if {Signal.safety_issue, Signal.legal_threat, Signal.chargeback_threat} & set(signals):
        return "high"
    if sentiment == "angry" and Signal.repeat_contact in signals:
        return "high"
    if _URGENT.search(text) and category is not Category.how_to_or_usage:
        return "high"
    if (
        category is Category.how_to_or_usage
        and sentiment in ("neutral", "positive")
        and not signals
    ):
        return "low"
    if sentiment in ("neutral", "positive") and not signals and category is Category.other:
        return "low"
    return "medium"
