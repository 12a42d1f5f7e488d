"""The data that crosses module boundaries: the public API's models (see DESIGN.md)."""

from __future__ import annotations

import bisect
import itertools
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class Category(StrEnum):
    """Primary complaint category; one per complaint."""

    lost_or_missing = "lost_or_missing"
    damaged_or_defective = "damaged_or_defective"
    wrong_item_or_size = "wrong_item_or_size"
    how_to_or_usage = "how_to_or_usage"
    shipping_delay = "shipping_delay"
    cancellation_or_order_change = "cancellation_or_order_change"
    refund_or_return = "refund_or_return"
    billing_error = "billing_error"
    poor_service = "poor_service"
    account_or_access = "account_or_access"
    other = "other"


class Signal(StrEnum):
    """Escalation signals a lead wants to see before anything else."""

    chargeback_threat = "chargeback_threat"
    legal_threat = "legal_threat"
    public_review_threat = "public_review_threat"
    repeat_contact = "repeat_contact"
    churn_threat = "churn_threat"
    safety_issue = "safety_issue"


Urgency = Literal["low", "medium", "high"]
Sentiment = Literal["angry", "frustrated", "neutral", "positive"]
Severity = Literal["error", "warning", "info"]
FindingCategory = Literal[
    "blame",
    "defensive",
    "non-apology",
    "condescension",
    "grudging",
    "ownership",
    "clarity",
    "placeholder",
    "policy",
]


class Facts(BaseModel):
    """What the email says about the case: things a reply should name rather than ask for."""

    customer_name: str | None = None
    order_numbers: list[str] = Field(default_factory=list)
    tracking_numbers: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    dates: list[str] = Field(default_factory=list)
    amounts: list[str] = Field(default_factory=list)
    language: str = "en"


class Email(BaseModel):
    """An incoming complaint after intake: the customer's own words this time, and where they came from."""

    subject: str | None = None
    sender_name: str | None = None
    sender_address: str | None = None
    body: str
    """The complaint as the customer wrote it this time: no quoted history, signature or footer."""
    raw: str
    """The text as received (for the audit log)."""
    quoted: str | None = None
    """Quoted history that was stripped from the body; kept so repeat contact can still be seen."""
    was_html: bool = False
    facts: Facts = Field(default_factory=Facts)


class Cue(BaseModel):
    """One piece of evidence the offline classifier acted on: why it decided what it decided."""

    model_config = ConfigDict(frozen=True)

    label: str
    """The category, signal or sentiment the cue supports."""
    text: str
    """The words in the email that fired."""
    weight: float = 1.0


About = Literal[
    "order",
    "parcel",
    "item",
    "bag",
    "flight",
    "booking",
    "account",
    "bill",
    "subscription",
    "service",
    "device",
    "staff",
    "other",
]


class Situation(BaseModel):
    """What the email says beyond its category: what a reply must fit. Read from the customer's
    words alone (classify/situation.py); each field holds only what the email supports."""

    kind: Literal["complaint", "thanks", "question", "request"] = "complaint"
    """Whether it is a complaint at all: thanks, a neutral or pre-sale question and a request (an
    address change) get replies that fit them."""
    about: About = "other"
    """What the complaint is about."""
    actor: Literal["customer", "company", "unknown"] = "unknown"
    """Who did what the customer complains about: they asked to cancel, or the company cancelled."""
    questions: list[str] = Field(default_factory=list)
    """The direct questions asked, as written."""
    happening_now: bool = False
    """On board, at the airport, stranded, tonight, money just taken: it needs an answer now."""
    danger: bool = False
    """Injury, illness or danger."""
    bereavement: bool = False
    """The customer tells of a death."""
    missed_visit: bool = False
    """A booked visit or appointment (an engineer, an installer, a delivery slot) nobody kept."""
    staff_conduct: bool = False
    """Someone of ours treated the customer badly (rude, dismissive, talked down to, hung up on),
    as against a service that fell short with nobody's manner at fault (a queue, a delay, no
    snacks on board)."""
    shipment: bool = False
    """The email speaks of a delivery, parcel, courier or tracking."""
    journey_delay: bool = False
    """A flight, train or other journey ran late (no parcel in it): poor service, by the
    labelling guide, and answered with delay care."""
    tried: list[str] = Field(default_factory=list)
    """What the customer says they already tried, as written."""
    problem: str | None = None
    """A short phrase in the customer's own words for the problem."""
    deadline: str | None = None
    """A deadline the customer names ("by 3pm", "before my flight on Friday")."""
    product: str | None = None
    """The product the complaint is about (not merely the first one named)."""
    reference: str | None = None
    """The order or booking number (never a police, case or ticket reference)."""
    amount: str | None = None
    """The amount in dispute: one the customer says they paid, were charged or lost."""
    uncertain: str | None = None
    """Why the category is not to be trusted (it rests on one weak cue, or on the learned model
    at low confidence); None when it is."""


class Classification(BaseModel):
    category: Category
    urgency: Urgency
    sentiment: Sentiment
    escalation_signals: list[Signal] = Field(default_factory=list)
    desired_outcome: str | None = None
    facts: Facts = Field(default_factory=Facts)
    cues: list[Cue] = Field(default_factory=list)
    """Why: the words that decided the category, the signals and the sentiment."""
    backend: str = "offline"
    confidence: float = Field(default=1.0, ge=0, le=1)
    """The learned classifier's probability for the category given (0 to 1)."""
    signal_confidence: dict[Signal, float] = Field(default_factory=dict)
    """The learned classifier's probability for each escalation signal."""
    situation: Situation = Field(default_factory=Situation)


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    category: FindingCategory
    severity: Severity
    start: int
    end: int
    text: str
    message: str
    suggestion: str | None = None
    layer: Literal["pattern", "structure", "semantic", "model", "llm"] = "pattern"
    """Which layer of the linter fired."""
    line: int = 1
    column: int = 1


class Coverage:
    """Which spans findings already cover, per category: how the layers keep one finding per
    span (a rule's precise finding stands; a model's or the judge's is not added). Sorted once,
    so asking about each of a long reply's sentences does not scan every finding again."""

    def __init__(self, findings: list[Finding]) -> None:
        spans: dict[str, list[tuple[int, int]]] = {}
        for f in findings:
            spans.setdefault(f.category, []).append((f.start, f.end))
        self._starts: dict[str, list[int]] = {}
        self._reach: dict[str, list[int]] = {}  # the furthest end among the first k spans
        for category, found in spans.items():
            found.sort()
            self._starts[category] = [s for s, _ in found]
            self._reach[category] = list(itertools.accumulate((e for _, e in found), max))

    def covers(self, category: str, start: int, end: int) -> bool:
        """Whether a finding of `category` covers part of [start, end)."""
        before = bisect.bisect_left(self._starts.get(category, ()), end)
        return before > 0 and self._reach[category][before - 1] > start


class DismissedFinding(BaseModel):
    finding: Finding
    reason: str


class LintReport(BaseModel):
    findings: list[Finding] = Field(default_factory=list)
    dismissed: list[DismissedFinding] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when no finding (not dismissed) has severity "error"."""
        return not any(f.severity == "error" for f in self.findings)

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def matching(self, rule: str, text: str) -> Finding | None:
        """The finding of `rule` on these words: how a dismissal made on one report (an earlier
        lint, the web page's copy) finds its finding in another."""
        return next((f for f in self.findings if f.rule == rule and f.text == text), None)

    def dismiss(self, finding: Finding, reason: str) -> LintReport:
        """A copy with `finding` moved to `dismissed`; the reason is kept for the audit log."""
        if not reason.strip():
            raise ValueError("A dismissed finding needs a reason.")
        if finding not in self.findings:
            raise ValueError(f"{finding.rule} at {finding.start} is not a finding of this report.")
        return LintReport(
            findings=[f for f in self.findings if f != finding],
            dismissed=[*self.dismissed, DismissedFinding(finding=finding, reason=reason.strip())],
        )


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


Action = Literal[
    "refund",
    "replace",
    "reship",
    "rebook",
    "credit",
    "callback",
    "escalate",
    "compensate",
    "investigate",
    "cancel",
    "send",
    "fix",
    "contact",
    "other",
]


class Commitment(BaseModel):
    """An action a reply commits to, claimed as done ("I've refunded you") or promised ("I'll
    call you tomorrow"). The agent confirms each before the reply is approved."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: int
    end: int
    """Character offsets into the reply."""
    action: Action
    done: bool
    """Claimed as already done (True) or promised (False)."""
    when: str | None = None
    """The time the reply gives ("today", "within 24 hours"), if it gives one."""


class Source(BaseModel):
    """A piece of the company's knowledge a draft used."""

    model_config = ConfigDict(frozen=True)

    title: str
    path: str
    url: str | None = None
    kind: Literal["article", "macro", "policy"] = "article"


class DraftResult(BaseModel):
    email: Email
    classification: Classification
    meta_goal: str
    reply: str
    lint: LintReport
    backend: str
    model: str | None = None
    revisions: int = 0
    usage: Usage | None = None
    prompt_version: str | None = None
    notes: list[str] = Field(default_factory=list)
    """What the agent must know about this draft (language the drafter cannot write, safety)."""
    commitments: list[Commitment] = Field(default_factory=list)
    """What the reply promises or claims done; each needs the agent's confirmation."""
    sources: list[Source] = Field(default_factory=list)
    """The company knowledge the draft used."""


class Drafted(BaseModel):
    """What a backend's draft gives back; the pipeline makes the DraftResult from it."""

    classification: Classification
    meta_goal: str
    reply: str
    lint: LintReport
    revisions: int = 0
    usage: Usage | None = None
    notes: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)


Text = str | bytes | Email
"""What the pipeline takes as a complaint: pasted text, raw bytes (an .eml file) or a parsed Email."""
