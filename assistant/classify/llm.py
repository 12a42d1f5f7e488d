"""The LLM classifier: the same Classification, as structured output; offline cues still count.

A model that misses "I will call my credit card company" must not hide it, so the offline
classifier's escalation signals are merged in, and its facts (order numbers, amounts) are kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pydantic import BaseModel, Field

from ..config import Settings
from ..intake import Received, finish
from ..llm import Exchange, LLMClient
from ..models import Category, Classification, Cue, Email, Sentiment, Signal, Urgency
from ..prompts import Prompts
from .offline import classify as classify_offline

CATEGORY_MEANINGS = {
    "lost_or_missing": "a parcel or item that never arrived, or part of an order missing",
    "damaged_or_defective": "arrived broken, stopped working, or poor quality",
    "wrong_item_or_size": "the wrong item, or the wrong size or fit",
    "how_to_or_usage": "how to use or set up something, or it seems not to work as expected",
    "shipping_delay": "an order that is late or not yet shipped",
    "cancellation_or_order_change": "cancel or change an order, booking or subscription",
    "refund_or_return": "a refund or return not received, refused or slow; an exchange",
    "billing_error": "a wrong, double or unauthorised charge",
    "poor_service": "rude or unhelpful staff, long holds, being passed around",
    "account_or_access": "cannot log in, locked out, hacked account",
    "other": "anything else",
}


_TURNS_TO_SEND = 3


class LLMClassification(BaseModel):
    category: Category
    urgency: Urgency
    sentiment: Sentiment
    escalation_signals: list[Signal] = Field(default_factory=list)
    desired_outcome: str | None = None


def _messages(
    email: Email | Received, settings: Settings, prompts: Prompts
) -> list[dict[str, str]]:
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
    )


async def aclassify_llm(
    email: Email | Received,
    settings: Settings,
    prompts: Prompts,
    client: LLMClient,
    exchange: Exchange,
    original: Email | Received | None = None,
    meanwhile: Callable[[Email], object] | None = None,
) -> Classification:
    """`email` is what the model sees (redacted when it must be); `original` is the email as
    written, whose offline signals and facts stay on this machine. An email still as received
    has its facts extracted while the model reads it, and `meanwhile` is given the finished
    email then, for whatever else the caller can do before the answer comes."""
    asking = asyncio.ensure_future(
        client.astructured(
            _messages(email, settings, prompts), LLMClassification, exchange=exchange
        )
    )
    try:
        # The model takes far longer than the facts and cues: read them while its answer is on
        # the way, after letting the request out onto the wire (a couple of turns of the loop).
        for _ in range(_TURNS_TO_SEND):
            await asyncio.sleep(0)
        written = finish(original or email)
        offline = classify_offline(written)
        if meanwhile is not None:
            meanwhile(written)
        model = await asking
    finally:
        asking.cancel()  # only matters when this call itself was cancelled or failed
    return merge(model, offline)
