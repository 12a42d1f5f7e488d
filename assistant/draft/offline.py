"""The offline drafter: composes the reply from the evidence. The situation read from the email
(classify/situation.py), the business's vocabulary and remedies, and the company's saved replies
and articles fill the reply parts in prompts/offline/; nothing goes in that the email does not
support. Deterministic, no network, and its drafts pass the project's own linter."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..classify.situation import CHANGED_IT_THEMSELVES, second_person
from ..config import Settings
from ..errors import TemplateError
from ..intake.facts import first_name
from ..knowledge import Retrieved
from ..models import Category, Classification, Email, Signal
from ..prompts import Prompts

# Matched against the lowercased body.
# The fit itself, not a size named: "a coat in size M" is no complaint about the fit.
_SIZE = re.compile(
    r"\b(?:(?:doesn.?t|does not|didn.?t|did not|don.?t|won.?t) fit|fit(?:s|ted)? (?:badly|poorly)|"
    r"too (?:big|small|tight|loose|large|short|long)|runs? (?:small|large|big)|wrong size)\b"
)
_PARTIAL = re.compile(
    r"\b(?:one of (?:the|my)|only (?:got|received|one|half)|received only|half (?:of|my|the|our)|(?:the )?other (?:one|item|half)|second (?:one|item))\b"
    r"|\b(?:arrived|came|delivered)\b[^.!?\n]{0,40}\b(?:but|except|without)\b[^.!?\n]{0,60}"
    r"\b(?:missing|(?:wasn.?t|weren.?t|was not|were not|isn.?t|aren.?t|not) (?:in|included))\b"
)
_QUALITY = re.compile(r"\b(?:quality|too (?:small|big|narrow|wide)|cheaply|flims)")
_STOPPED = re.compile(
    r"\b(?:stopped working|doesn.?t work|does not work|won.?t (?:turn on|work|charge|start|heat)|"
    r"not working|broke after|stopped (?:heating|charging)|after (?:a|one|two|\d+) (?:weeks?|days?|uses?))"
)
_ARRIVED = re.compile(
    r"\b(?:arrived|came|delivered|opened (?:the )?box|out of the box|in the post)\b"
)
_DAMAGED = re.compile(
    r"\b(?:broken|broke|smashed|cracked|shattered|damaged|dented|torn|ripped|ruined|soaked|"
    r"water[- ]damaged|crushed|snapped|bent|chipped|stained)\b"
)
_HACKED = re.compile(r"\b(?:hack\w*|compromised|someone else|fraud\w*|not me|ported)\b")
# Evidence that the customer has been in touch before: the repeat-contact paragraph says so.
_CONTACTED = re.compile(
    r"\b(?:(?:i|we).?(?:ve| have| had)? (?:already |now |also )?(?:called|emailed|e-mailed|contacted|"
    r"written|wrote|messaged|chased|phoned|rang|tweeted|spoken|spoke|asked)|(?:2nd|3rd|4th|5th|second|"
    r"third|fourth|fifth|\d+th) (?:attempt|email|call|message|request|time (?:i|we))|(?:sent|made|written|"
    r"left) (?:you )?(?:\d+|two|three|four|five|several|multiple|many) (?:emails|calls|messages|tweets|"
    r"requests|chasers)|(?:\d+|two|three|four|five|several|multiple|many) (?:attempts|calls to you)|"
    r"no (?:response|reply|answer)|still waiting to hear|waiting to hear back|been (?:transferred|"
    r"passed|ignored)|passed (?:around|from one)|as (?:previously|already) (?:mentioned|requested))\b",
    re.I,
)
# The same thing gone wrong before ("messed up AGAIN", "the 4th time"): said to the customer only
# where they say it.
_HAPPENED_BEFORE = re.compile(
    r"\b(?:(?:2nd|3rd|4th|5th|\d+th|second|third|fourth|fifth|umpteenth) time(?! I)|"
    r"keeps? (?:happening|breaking|failing|dropping)|not the first time|yet again|"
    r"once again|happened again|(?:wrong|late|missing|broken|messed up|down|failed|cancell?ed) again)\b",
    re.I,
)
_ASKED_CANCEL = re.compile(
    r"\b(?:(?:i|we)\s+(?:have\s+|had\s+|'ve\s+|am\s+|'m\s+)?(?:asked|requested|wanted|want|tried|trying|"
    r"need|would like|'d like)\s+(?:you\s+|them\s+)?(?:to\s+)?cancel|please cancel|trying to cancel|"
    r"(?:i|we) cancell?ed)\b",
    re.I,
)
# Cancelling was made hard: they tried and could not, or could not reach us.
_CANCEL_TROUBLE = re.compile(
    r"\b(?:trying|tried|try) to cancel\b|\b(?:can.?t|cannot|couldn.?t|unable to|won.?t let me) "
    r"(?:find|cancel|get through|reach)|\b(?:phone lines?|on hold|no (?:reply|response|answer)|"
    r"run ?around|still (?:charging|billing|not cancell?ed))\b",
    re.I,
)
_ITEMS_MISSING = re.compile(
    r"\b(?:things|items|contents|stuff|belongings|some items)\b[^.!?\n]{0,30}\b(?:missing|stolen|gone)\b"
    r"|\b(?:missing|stolen) (?:items|things|belongings)\b",
    re.I,
)
# A refund the customer is waiting for, rather than one they ask for now.
_REFUND_PENDING = re.compile(
    r"\b(?:still (?:no|not|haven.?t|waiting)[^.!?\n]{0,30}refund|promised (?:me )?(?:a |my )?refund|"
    r"waiting (?:for|on) (?:my|a|the) refund|refund (?:hasn.?t|has not|never|still)|"
    r"(?:haven.?t|have not|never) (?:received|got(?:ten)?) (?:my|the|a) (?:\S+ )?refund|refund wait)\b",
    re.I,
)
# Waiting for a date rather than for something overdue: "no expected delivery date".
_NO_DATE = re.compile(
    r"\bno (?:expected |estimated )?(?:delivery|shipping|dispatch|release)"
    r"(?: or (?:delivery|shipping|dispatch|release))? date\b|"
    r"\b(?:haven.?t|have not|never) (?:had|got|been given) (?:a|any) (?:delivery|shipping|dispatch) date\b",
    re.I,
)
_CANCEL = re.compile(r"(?<!noise.)\bcancel")  # not noise-cancelling headphones
_CANCEL_VERB = re.compile(r"\bcancel\b", re.I)
_NO_CANCEL = re.compile(r"\b(?:don.?t|do not|didn.?t|never|not) (?:want (?:to|it) )?cancel", re.I)

# After a death, what is left to sort is paperwork: an account, a booking, a bill.
_PAPERWORK = {
    Category.account_or_access,
    Category.cancellation_or_order_change,
    Category.billing_error,
    Category.refund_or_return,
    Category.other,
}

LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}
# What the customer's subject is called in a reply, when no product names it.
_NOUNS = {
    "order": "order",
    "parcel": "parcel",
    "bag": "bag",
    "flight": "flight",
    "booking": "booking",
    "account": "account",
    "bill": "bill",
    "subscription": "subscription",
    "service": "service",
    "device": "device",
}


@dataclass(frozen=True)
class BodyCues:
    """What the reply parts read from an email's body alone, whatever its classification."""

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
        cancel=bool(_CANCEL.search(text)) and not _NO_CANCEL.search(text),
        exchange=bool(re.search(r"\b(?:exchange|replace|swap)\b", text)),
        size_issue=bool(_SIZE.search(text)),
        partial=bool(_PARTIAL.search(text)),
        quality=bool(_QUALITY.search(text)),
        damage="stopped working"
        if _STOPPED.search(text)
        else "arrived damaged"
        if _ARRIVED.search(text)
        else "was damaged"
        if _DAMAGED.search(text)
        else "isn't working as it should",
        hacked=bool(_HACKED.search(text)),
    )


def playbook_vars(
    email: Email, classification: Classification, settings: Settings
) -> dict[str, object]:
    """Everything a playbook or reply part may use; shared with the LLM prompts."""
    situation = classification.situation
    cues = body_cues(email.body)
    whole = "\n".join(filter(None, [email.subject, email.body]))
    business = settings.business
    policy = settings.policy
    product = situation.product
    if situation.about in ("flight", "booking", "account", "bill", "subscription", "service"):
        product = None  # "your check bag" in a complaint about a flight is the wrong subject
    thing = product or _NOUNS.get(situation.about) or business.case
    reference = situation.reference
    ref = f" ({business.case} {reference})" if reference else ""
    # "your order FK-20931", not "your order (order FK-20931)"
    your_thing = (
        f"your {thing} {reference}"
        if reference and thing == business.case
        else f"your {thing}{ref}"
    )
    your_case = f"your {business.case} {reference}" if reference else f"your {business.case}"
    return {
        "company": settings.company,
        "policy": policy,
        "business": business,
        "actions": business.actions,
        "situation": situation,
        "category": classification.category.value,
        "name": first_name(classification.facts.customer_name),
        "product": product,
        "thing": thing,
        "reference": reference,
        "ref": ref,
        "your_thing": your_thing,
        "your_case": your_case,
        # What we cancelled or changed: the flight or booking the email names, whatever the
        # business calls its cases ("we cancelled your order" to a cancelled flight is wrong).
        "your_plan": your_thing
        if situation.about in ("flight", "booking") and thing != business.case
        else your_case,
        "problem": situation.problem,
        "amount": situation.amount,
        "deadline": second_person(situation.deadline) if situation.deadline else None,
        "tried": [second_person(t) for t in situation.tried],
        "shipment": situation.shipment or (business.ships and situation.about == "parcel"),
        "urgent_now": situation.happening_now or situation.danger,
        # A paragraph for a signal only where the customer's own words show it ("4th attempt"):
        # the learned model's hunch alone is no ground for "you've written more than once".
        "signals": [
            s.value
            for s in classification.escalation_signals
            if any(c.label == s.value and not c.text.startswith("(") for c in classification.cues)
        ],
        "contacted_before": bool(email.quoted) or bool(_CONTACTED.search(whole)),
        "happened_before": bool(_HAPPENED_BEFORE.search(whole)),
        "sentiment": classification.sentiment,
        "wants_refund": classification.desired_outcome == "a refund",
        # A request to cancel is the customer's own, or the verb itself where no one is named
        # ("the run around to cancel my account"); "Cancelled flight" only says it happened.
        "wants_cancel": cues.cancel
        and (
            situation.actor == "customer"
            or (situation.actor == "unknown" and bool(_CANCEL_VERB.search(email.body)))
        ),
        "cancel_mentioned": cues.cancel,  # a cancellation, whoever made or wants it
        "company_acted": situation.actor == "company",
        "they_changed": bool(CHANGED_IT_THEMSELVES.search(email.body)),
        "we_cancelled": cues.cancel and situation.actor == "company",
        "asked_to_cancel": bool(_ASKED_CANCEL.search(email.body)) and situation.actor == "customer",
        "cancel_trouble": bool(email.quoted)
        or bool(_CANCEL_TROUBLE.search(email.body))
        or bool(_CONTACTED.search(email.body)),
        "items_missing": bool(_ITEMS_MISSING.search(email.body)),
        "refund_pending": bool(_REFUND_PENDING.search(email.body)),
        "no_date": bool(_NO_DATE.search(email.body)),
        "wants_exchange": classification.desired_outcome == "an exchange" or cues.exchange,
        "size_issue": cues.size_issue,
        "partial": cues.partial,
        "quality": cues.quality,
        "damage": cues.damage,
        "hacked": cues.hacked,
        "goodwill": f"{min(policy.max_goodwill_credit, 15.0):g}"
        if policy.max_goodwill_credit > 0
        else None,
        "language_name": LANGUAGE_NAMES.get(
            classification.facts.language, classification.facts.language
        ),
    }


def answered_as(prompts: Prompts, classification: Classification, business: str) -> str:
    """The category whose script, playbook and saved replies answer this complaint: its own,
    except that a late flight (poor service, by the labelling guide) is answered with the
    business's own delay script where it has one (delay care, what we pay back), unless
    someone's manner was at fault. The general delay script is a parcel's, so never that."""
    situation = classification.situation
    delay = Category.shipping_delay.value
    if (
        classification.category is Category.poor_service
        and situation.journey_delay
        and not situation.staff_conduct
        and prompts.has(f"offline/{business}/{delay}.txt.j2")
    ):
        return delay
    return classification.category.value


def playbook(prompts: Prompts, classification: Classification, settings: Settings) -> str:
    """The playbook for this business and category, or the general one."""
    business = settings.company.business
    category = answered_as(prompts, classification, business)
    return prompts.first(f"playbooks/{business}/{category}.md.j2", f"playbooks/{category}.md.j2")


def reply_template(prompts: Prompts, classification: Classification, settings: Settings) -> str:
    """The reply parts for this email: by kind for what is not a complaint, the general reply
    where the category is uncertain, else by business and category with the general fallback."""
    situation = classification.situation
    business = settings.company.business
    if situation.kind != "complaint":
        return f"offline/kinds/{situation.kind}.txt.j2"
    if situation.bereavement and classification.category in _PAPERWORK:
        part = "bereavement"
    else:
        part = "other" if situation.uncertain else answered_as(prompts, classification, business)
    return prompts.first(f"offline/{business}/{part}.txt.j2", f"offline/{part}.txt.j2")


def meta_goal(
    prompts: Prompts,
    classification: Classification,
    settings: Settings,
    variables: dict[str, object],
) -> str:
    return prompts.exports(playbook(prompts, classification, settings), **variables)["meta_goal"]


def draft_offline(
    email: Email,
    classification: Classification,
    settings: Settings,
    prompts: Prompts,
    knowledge: Retrieved | None = None,
    *,
    echo: bool = True,
) -> tuple[str, str]:
    """Returns (meta_goal, reply). `echo=False` leaves out the customer's own words (the problem
    as they put it, what they tried), for when those words said back would read wrong."""
    knowledge = knowledge or Retrieved()
    variables = playbook_vars(email, classification, settings)
    if not echo:
        variables.update(problem=None, tried=[])
    goal = meta_goal(prompts, classification, settings, variables)
    reply = prompts.render(
        reply_template(prompts, classification, settings),
        **variables,
        answers=knowledge.answers,
        macro=_macro(prompts, knowledge, variables),
    )
    # Blocks that render empty leave stacked blank lines behind; a reply has one between paragraphs.
    reply = re.sub(r"[ \t]+\n", "\n", reply)
    reply = re.sub(r"[ \t]{2,}", " ", reply)
    reply = re.sub(r"\n\s*\n\s*(?=\S)", "\n\n", reply)
    return goal, reply


def _macro(prompts: Prompts, knowledge: Retrieved, variables: dict[str, object]) -> str | None:
    """The fitting saved reply with the customer's facts filled in; None if there is none, or
    it needs a fact this email does not give."""
    if knowledge.macro is None:
        return None
    try:
        return prompts.render_text(knowledge.macro.body, **variables)
    except TemplateError:
        return None


def offline_notes(classification: Classification, knowledge: Retrieved | None = None) -> list[str]:
    """What the agent must know about this draft's limits."""
    notes = []
    situation = classification.situation
    language = classification.facts.language
    if language != "en":
        notes.append(
            f"The email looks {LANGUAGE_NAMES.get(language, language)}; the offline drafter writes English only. "
            "Use the openai backend for a reply in the customer's language."
        )
    if situation.uncertain and situation.kind == "complaint":
        notes.append(f"General reply: {situation.uncertain} Check what the customer needs.")
    if Signal.safety_issue in classification.escalation_signals or situation.danger:
        notes.append("Safety issue: check the reply with your safety lead before sending.")
    unanswered = [a.question for a in (knowledge.answers if knowledge else []) if not a.document]
    if unanswered:
        notes.append(
            "No article answers: "
            + "; ".join(f'"{q}"' for q in unanswered)
            + ". The draft promises an answer: give it, or say who will."
        )
    if classification.category is Category.other and situation.kind == "complaint":
        notes.append("No category fits well: the draft is the general reply.")
    return notes
