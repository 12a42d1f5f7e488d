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

# The subpackages `classify` and `draft` share names with the functions below: imported first, so
# the functions (defined after) are what `assistant.classify` and `assistant.draft` name.
from . import classify as _classify_package  # noqa: F401
from . import draft as _draft_package  # noqa: F401
from .backends import Backend
from .commitments import find_commitments
from .config import (
    CompanyProfile,
    KnowledgeSettings,
    LintSettings,
    LLMSettings,
    Policy,
    Settings,
    load_settings,
)
from .errors import (
    ApprovalError,
    AssistantError,
    AuthenticationError,
    BackendError,
    BadAnswerError,
    ConfigError,
    InputError,
    ModelNotFoundError,
    RateLimitedError,
    TemplateError,
    TimedOutError,
    UnreachableError,
)
from .models import (
    Category,
    Classification,
    Commitment,
    Cue,
    DismissedFinding,
    Drafted,
    DraftResult,
    Email,
    Facts,
    Finding,
    LintReport,
    Signal,
    Situation,
    Source,
    Text,
    Usage,
)
from .pipeline import Assistant
from .review import AuditLog, Confirmation, Record, Review

__version__ = "0.1.0"


@cache
def _default() -> Assistant:
    return Assistant(load_settings())


def lint(text: str, *, email: Text | None = None) -> LintReport:
    """Lint a reply with the default settings ($ASSISTANT_CONFIG and the environment). Given the
    customer's email (text, bytes or a parsed Email), the rules that read the situation and the
    ones that see blame in contradicting the customer run too."""
    return _default().lint(text, email=email)


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
    "AuthenticationError",
    "Backend",
    "BackendError",
    "BadAnswerError",
    "Category",
    "Classification",
    "Commitment",
    "CompanyProfile",
    "ConfigError",
    "Confirmation",
    "Cue",
    "DismissedFinding",
    "DraftResult",
    "Drafted",
    "Email",
    "Facts",
    "Finding",
    "InputError",
    "KnowledgeSettings",
    "LLMSettings",
    "LintReport",
    "LintSettings",
    "ModelNotFoundError",
    "Policy",
    "RateLimitedError",
    "Record",
    "Review",
    "Settings",
    "Signal",
    "Situation",
    "Source",
    "TemplateError",
    "Text",
    "TimedOutError",
    "UnreachableError",
    "Usage",
    "classify",
    "draft",
    "find_commitments",
    "lint",
    "load_settings",
]
