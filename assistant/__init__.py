"""The complaint reply assistant: classify a complaint, draft a reply that follows the house
guidelines, and lint it for blaming, defensive or non-apologetic phrasing.

    import assistant
    report = assistant.lint(text)       # LintReport
    c = assistant.classify(text)        # Classification
    result = assistant.draft(text)      # DraftResult
    a = assistant.Assistant(settings)   # the same, plus async: await a.adraft(text)
"""

from __future__ import annotations

from functools import cache

from .config import CompanyProfile, LintSettings, LLMSettings, Policy, Settings, load_settings
from .errors import AssistantError, BackendError, ConfigError, InputError, TemplateError
from .models import (
    Category,
    Classification,
    Cue,
    DismissedFinding,
    DraftResult,
    Email,
    Facts,
    Finding,
    LintReport,
    Signal,
    Usage,
)
from .pipeline import Assistant, Text
from .review import ApprovalError, AuditLog, Record, Review

__version__ = "0.1.0"


@cache
def _default() -> Assistant:
    return Assistant(load_settings())


def lint(text: str) -> LintReport:
    """Lint a reply with the default settings ($ASSISTANT_CONFIG and the environment)."""
    return _default().lint(text)


def classify(text: Text) -> Classification:
    """Classify a complaint (text, bytes or a parsed Email)."""
    return _default().classify(text)


def draft(text: Text) -> DraftResult:
    """Classify a complaint, draft a reply and lint it."""
    return _default().draft(text)


__all__ = [
    "ApprovalError",
    "Assistant",
    "AssistantError",
    "AuditLog",
    "BackendError",
    "Category",
    "Classification",
    "CompanyProfile",
    "ConfigError",
    "Cue",
    "DismissedFinding",
    "DraftResult",
    "Email",
    "Facts",
    "Finding",
    "InputError",
    "LLMSettings",
    "LintReport",
    "LintSettings",
    "Policy",
    "Record",
    "Review",
    "Settings",
    "Signal",
    "TemplateError",
    "Usage",
    "classify",
    "draft",
    "lint",
    "load_settings",
]
