"""Classify: an `Email` in, a `Classification` out (category, urgency, sentiment, signals, facts)."""

from .offline import classify as classify_offline

__all__ = ["classify_offline"]
