"""The LLM classifier: the same Classification, as structured output; offline cues still count.

A model that misses "I will call my credit card company" must not hide it, so the offline
classifier's escalation signals are merged in, and its facts (order numbers, amounts) are kept.
The draft call asks for these same fields when it classifies too (`llm.classify = "together"`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..config import Settings
from ..llm import Exchange, LLMClient
from ..models import Category, Classification, Cue, Email, Sentiment, Signal, Urgency
from ..prompts import Prompts

# As the training corpus's labelling guide draws the lines (a late flight is poor service).
CATEGORY_MEANINGS = {
    "lost_or_missing": "a parcel, item or bag that never arrived or was lost, or part of an order missing",
    "damaged_or_defective": "arrived broken, stopped working, poor quality, or a service outage",
    "wrong_item_or_size": "the wrong item, size, ticket, meal or suitcase",
    "how_to_or_usage": "how to use or set up something, or it seems not to work as expected",
    "shipping_delay": "an order or parcel that is late or not yet shipped (not a late flight)",
    "cancellation_or_order_change": "cancel, change or rebook an order, booking or subscription, or a flight we cancelled",
    "refund_or_return": "a refund or return not received, refused or slow; an exchange",
    "billing_error": "a wrong, double or unauthorised charge",
    "poor_service": "rude or unhelpful staff, long holds, no reply, a late flight or train, a bad experience with nothing more specific",
    "account_or_access": "cannot log in, locked out, hacked account",
    "other": "anything else",
}


class LLMClassification(BaseModel):
    category: Category
    urgency: Urgency
    sentiment: Sentiment
    escalation_signals: list[Signal] = Field(default_factory=list)
    desired_outcome: str | None = None


def _messages(email: Email, settings: Settings, prompts: Prompts) -> list[dict[str, str]]:
    system = prompts.render(
        "classify.md.j2", company=settings.company, categories=CATEGORY_MEANINGS
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": prompts.render("classify_user.md.j2", email=email)},
    ]


def merge(model: LLMClassification, offline: Classification) -> Classification:
    signals = list(dict.fromkeys([*model.escalation_signals, *offline.escalation_signals]))
    cues = [c for c in offline.cues if c.label in {s.value for s in offline.escalation_signals}]
    cues.append(Cue(label=model.category.value, text="(chosen by the model)"))
    urgency = model.urgency
    if {Signal.safety_issue, Signal.legal_threat, Signal.chargeback_threat} & set(signals):
        urgency = "high"
    return Classification(
        category=model.category,
        urgency=urgency,
        sentiment=model.sentiment,
        escalation_signals=signals,
        desired_outcome=model.desired_outcome or offline.desired_outcome,
        facts=offline.facts,
        cues=cues,
        backend="openai",
        situation=offline.situation,
    )


async def aclassify_llm(
    email: Email,
    hint: Classification,
    settings: Settings,
    prompts: Prompts,
    client: LLMClient,
    exchange: Exchange,
) -> Classification:
    """`email` is what the model sees (redacted when it must be); `hint` is the offline reading
    of the email as written, whose signals and facts stay on this machine."""
    model = await client.astructured(
        _messages(email, settings, prompts), LLMClassification, exchange=exchange
    )
    return merge(model, hint)
