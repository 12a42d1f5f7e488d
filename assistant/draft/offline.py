"""The offline drafter: fills the category's reply template with the classification, the facts and
the company profile. Deterministic, no network, and its drafts pass the project's own linter."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..config import Settings
from ..intake.facts import amounts_in, first_name
from ..models import Category, Classification, Email, Signal
from ..prompts import Prompts

# Matched against the lowercased body.
_SIZE = re.compile(
    r"\b(?:size|sizes|fit|fits|fitted|too (?:big|small|tight|loose|large|short|long))\b"
)
_PARTIAL = re.compile(
    r"\b(?:one of (?:the|my)|only (?:got|received|one|half)|received only|half of|(?:the )?other (?:one|item|half)|second (?:one|item))\b"
)
_QUALITY = re.compile(r"\b(?:quality|too (?:small|big|narrow|wide)|cheaply|flims)")
_STOPPED = re.compile(
    r"\b(?:stopped working|doesn.?t work|does not work|won.?t (?:turn on|work|charge|start|heat)|"
    r"not working|broke after|stopped (?:heating|charging)|after (?:a|one|two|\d+) (?:weeks?|days?|uses?))"
)
_ARRIVED = re.compile(
    r"\b(?:arrived|came|delivered|opened (?:the )?box|out of the box|in the post)\b"
)
_HACKED = re.compile(r"\b(?:hack\w*|compromised|someone else|fraud\w*|not me)\b")

LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}


@dataclass(frozen=True)
class BodyCues:
    """What the playbooks read from an email's body alone, whatever its classification."""

    cancel: bool
    exchange: bool
    size_issue: bool
    partial: bool
    quality: bool
    damage: str
    hacked: bool


def body_cues(body: str) -> BodyCues:
    text = body.lower()
    return BodyCues(
        cancel=bool(re.search(r"\bcancel", text)),
        exchange=bool(re.search(r"\bexchange\b", text)),
        size_issue=bool(_SIZE.search(text)),
        partial=bool(_PARTIAL.search(text)),
        quality=bool(_QUALITY.search(text)),
        damage="stopped working"
        if _STOPPED.search(text)
        else "arrived damaged"
        if _ARRIVED.search(text)
        else "isn't working as it should",
        hacked=bool(_HACKED.search(text)),
    )


def playbook_vars(
    email: Email, classification: Classification, settings: Settings
) -> dict[str, object]:
    """Everything a playbook or reply template may use; shared with the LLM prompts."""
    facts = classification.facts
    cues = body_cues(email.body)
    product = facts.products[0] if facts.products else None
    if product and len(facts.products) > 1 and classification.category is Category.lost_or_missing:
        product = None  # "one of two items": naming only the first may name the wrong one
    # Only an amount the customer says they paid or were charged is named in a reply: any other
    # (a refund an email claims was "authorised") would be a promise nobody checked.
    paid = amounts_in(email.body) if facts.amounts else frozenset()
    amount = next((a for a in facts.amounts if _value(a) in paid), None)
    order = facts.order_numbers[0] if facts.order_numbers else None
    policy = settings.policy
    return {
        "company": settings.company,
        "policy": policy,
        "name": first_name(facts.customer_name),
        "product": product,
        "thing": product or "order",
        "order": order,
        "order_ref": f" (order {order})" if order else "",
        "your_order": f"your order {order}" if order else "your order",
        "your_thing": f"your {product} (order {order})"
        if product and order
        else f"your {product}"
        if product
        else f"your order {order}"
        if order
        else "your order",
        "amount": amount,
        "signals": [s.value for s in classification.escalation_signals],
        "sentiment": classification.sentiment,
        "wants_refund": classification.desired_outcome == "a refund",
        "wants_cancel": classification.category is Category.cancellation_or_order_change
        and cues.cancel,
        "wants_exchange": classification.desired_outcome == "an exchange" or cues.exchange,
        "size_issue": cues.size_issue,
        "partial": cues.partial,
        "quality": cues.quality,
        "damage": cues.damage,
        "hacked": cues.hacked,
        "goodwill": f"{min(policy.max_goodwill_credit, 15.0):g}"
        if policy.max_goodwill_credit > 0
        else None,
        "language_name": LANGUAGE_NAMES.get(facts.language, facts.language),
    }


def _value(amount: str) -> float | None:
    digits = re.sub(r"[^\d.]", "", amount.replace(",", ""))
    try:
        return float(digits)
    except ValueError:
        return None


def meta_goal(
    prompts: Prompts, classification: Classification, variables: dict[str, object]
) -> str:
    exported = prompts.exports(f"playbooks/{classification.category.value}.md.j2", **variables)
    return exported["meta_goal"]


def draft_offline(
    email: Email, classification: Classification, settings: Settings, prompts: Prompts
) -> tuple[str, str]:
    """Returns (meta_goal, reply)."""
    variables = playbook_vars(email, classification, settings)
    goal = meta_goal(prompts, classification, variables)
    reply = prompts.render(f"offline/{classification.category.value}.txt.j2", **variables)
    # Blocks that render empty leave stacked blank lines behind; a reply has one between paragraphs.
    reply = re.sub(r"[ \t]+\n", "\n", reply)
    reply = re.sub(r"\n\s*\n\s*(?=\S)", "\n\n", reply)
    return goal, reply


def offline_notes(classification: Classification) -> list[str]:
    """What the agent must know about this draft's limits."""
    notes = []
    language = classification.facts.language
    if language != "en":
        notes.append(
            f"The email looks {LANGUAGE_NAMES.get(language, language)}; the offline drafter writes English only. "
            "Use the openai backend for a reply in the customer's language."
        )
    if Signal.safety_issue in classification.escalation_signals:
        notes.append("Safety issue: check the reply with your product safety lead before sending.")
    return notes
