"""Structural checks (patterns here are lowercase and run on the lowered text): what a reply lacks, or promises beyond policy, cannot be said as a phrase.

Each check is registered by rule id; its message, severity and examples live in rules/structure.toml
with the other rules, so it is documented and tested the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..config import Policy
from .context import Context
from .fastpath import WordRegex

Span = tuple[int, int]


@dataclass(frozen=True)
class Situation:
    """What a structural check may know beyond the text."""

    policy: Policy = field(default_factory=Policy)
    allowed_amounts: frozenset[float] = frozenset()
    """Amounts the customer named (what they paid): refunding those is never beyond policy."""


# Short notes ("Thanks, that's fixed now.") are not judged on completeness.
MIN_WORDS = 15

_OWNERSHIP = WordRegex(
    r"\b(?:i|we)(?:['’]ll|['’]ve|['’]m|['’]re| will| have| am| are| can| would| want to| need to)?"
    r"(?:\s+(?:\w+ly|also|personally|now|just|already|gladly|be))*\s+"
    r"(?:refund\w*|send\w*|sent|replac\w*|reship\w*|ship\w*|fix\w*|mak\w*|take|taking|sort\w*|arrang\w*|"
    r"issu\w*|credit\w*|process\w*|cancel\w*|look\w* into|call\w*|email\w*|updat\w*|follow\w*|"
    r"investigat\w*|cover\w*|pay\w*|review\w*|chang\w*|add\w*|put|putting|book\w*|restor\w*|"
    r"reset\w*|unlock\w*|escalat\w*|speak\w*|talk\w*|own\w*|handl\w*|resolv\w*|reimburs\w*|"
    r"deliver\w*|walk\w*|check\w*|waiv\w*|remov\w*|correct\w*|reverse\w*|reversing|stop\w*|"
    r"tak\w*|track\w*|get(?:ting)?|keep\w*|let you know|personally)\b",
)
# Every alternative starts with a literal word, so the engine can skip to possible first letters;
# the spans that start with a digit are a pattern of their own.
_DURATION = r"(?: to (?:\d+|two|three|five))? (?:hours?|minutes|business days|working days|days)"
_NEXT_STEP = WordRegex(
    r"\b(?:today|tonight|tomorrow|right away|straight away|immediately|right now|this (?:morning|afternoon|"
    r"evening|week)|within (?:the )?(?:next )?(?:\d+|an?|one|two|three|24|48|a few)\b|by (?:monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|tomorrow|the end of|end of|noon|\d)|in the next|"
    + "|".join(f"{n}{_DURATION}" for n in ("one", "two", "three", "a few"))
    + r"|as soon as|first thing|next (?:monday|tuesday|wednesday|thursday|friday|week))\b",
)
_NEXT_STEP_NUMBER = WordRegex(r"\b[0-9]+" + _DURATION + r"\b")
_ACKNOWLEDGE = WordRegex(
    r"\b(?:sorry|apologi[sz]e|apologies|my apology|our apology|you(?:['’]re| are) right|understand|"
    r"frustrat\w*|disappoint\w*|should(?: not|n['’]t) have happened|must(?: not|n['’]t) have happened|not (?:ok|okay|good enough|"
    r"acceptable|what you (?:expected|paid for|deserve))|thank you for (?:telling|letting|flagging|raising|"
    r"writing|your patience|bearing)|thanks for (?:telling|letting|flagging|raising|writing)|let you down|"
    r"we (?:got|made) (?:this|it|that) wrong|our (?:mistake|fault|error)|my (?:mistake|fault)|not your fault|"
    r"must have been (?:so |really |very )?\w+|worr(?:y|ied|ying))\b",
)
_MONEY = re.compile(
    r"(?:[$£€]|\b(?:USD|EUR|GBP)\s?)(?P<a>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"|\b(?P<b>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?(?:dollars|euros|pounds|USD|EUR|GBP)\b",
    re.I,
)
_GIVING = WordRegex(
    r"\b(?:credit|voucher|gift ?card|compensation|goodwill|coupon|refund\w*|reimburs\w*|"
    r"give|giving|send you|pay you|discount|bonus)\b",
)
_NO_RETURN = WordRegex(
    r"\b(?:no need to|(?:don['’]t|do not) (?:need|have) to|without (?:needing|having) to|never have to)"
    r" (?:return|send (?:it|them|anything|the \w+) back)\b|\bkeep (?:it|them|the \w+)(?: as well| too)?\b(?=[^.!?\n]*\brefund)",
)


def _amount(match: re.Match[str]) -> float:
    return float((match.group("a") or match.group("b")).replace(",", ""))


def _whole(text: str) -> Span:
    stripped = text.rstrip()
    first_line_end = stripped.find("\n")
    return 0, len(stripped) if first_line_end < 0 else first_line_end


def _missing(*patterns: WordRegex) -> Callable[[str, Context, Situation], list[Span]]:
    def check(text: str, ctx: Context, _: Situation) -> list[Span]:
        if text.count(" ") + text.count("\n") + 1 < MIN_WORDS:
            return []
        found = any(
            not ctx.is_excluded(*m.span())
            for pattern in patterns
            for m in pattern.finditer(ctx.lowered)
        )
        return [] if found else [_whole(text)]

    return check


def over_policy_promise(text: str, ctx: Context, situation: Situation) -> list[Span]:
    limit = situation.policy.max_goodwill_credit
    if not any(c in text for c in "$£€") and not any(
        w in ctx.lowered for w in ("usd", "eur", "gbp", "dollar", "euro", "pound")
    ):
        return []
    spans = []
    for m in _MONEY.finditer(text):
        if ctx.is_excluded(*m.span()):
            continue
        value = _amount(m)
        if value <= limit or value in situation.allowed_amounts:
            continue
        begin, end = ctx.sentence(*m.span())
        if _GIVING.search(ctx.lowered, begin, end):
            spans.append(m.span())
    return spans


def refund_without_return(text: str, ctx: Context, situation: Situation) -> list[Span]:
    if not situation.policy.refund_requires_return:
        return []
    return [m.span() for m in _NO_RETURN.finditer(ctx.lowered) if not ctx.is_excluded(*m.span())]


CHECKS: dict[str, Callable[[str, Context, Situation], list[Span]]] = {
    "no-ownership": _missing(_OWNERSHIP),
    "no-next-step": _missing(_NEXT_STEP, _NEXT_STEP_NUMBER),
    "no-acknowledgment": _missing(_ACKNOWLEDGE),
    "over-policy-promise": over_policy_promise,
    "refund-without-return": refund_without_return,
}


def amounts_in(text: str) -> frozenset[float]:
    return frozenset(_amount(m) for m in _MONEY.finditer(text))
