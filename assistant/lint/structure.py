"""Structural checks (patterns here are lowercase and run on the lowered text): what a reply lacks, or promises beyond policy, cannot be said as a phrase.

Each check is registered by rule id; its message, severity and examples live in rules/structure.toml
with the other rules, so it is documented and tested the same way.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # ships no type stubs

from ..business import Business, business
from ..classify.situation import asks_for_remedy
from ..config import CompanyProfile, Policy
from ..intake.facts import money_in, money_value
from ..models import Situation
from ..prompts import prompts_dir
from ..redact import PHONE, phone_digits
from ..textmatch import WordRegex, digit_runs, matches_at, required_sets
from .context import Context

Span = tuple[int, int]


@dataclass(frozen=True)
class Known:
    """What a structural check may know beyond the reply's text."""

    policy: Policy = field(default_factory=Policy)
    company: CompanyProfile = field(default_factory=CompanyProfile)
    business: Business = field(default_factory=lambda: business("retail"))
    allowed_amounts: frozenset[float] = frozenset()
    """Amounts the customer named (what they paid): refunding those is never beyond policy."""
    email: str | None = None
    """The customer's message the reply answers; the situation checks need it."""
    reading: Situation | None = None
    """The situation read from that message."""

    @property
    def customer_digits(self) -> str:
        """The digits of each order, account or reference number the customer gave, one string
        per number: said back to them they are theirs. A bare phone number in an email is not
        among them (an injected "call +1 ..." must still be caught)."""
        return " ".join(
            re.sub(r"\D", "", m.group("ref") or m.group("ref2"))
            for m in _REFERENCE.finditer(self.email or "")
        )


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
# What the "missing" checks look for anywhere in a reply.
PRESENCE: dict[str, WordRegex] = {
    "ownership": _OWNERSHIP,
    "next-step": _NEXT_STEP,
    "next-step-number": _NEXT_STEP_NUMBER,
    "acknowledgment": _ACKNOWLEDGE,
}


_GIVING = WordRegex(
    r"\b(?:credit\w*|voucher|gift ?card|compensation|goodwill|coupon|refund\w*|reimburs\w*|"
    r"give|giving|send you|sent you|pay you|paid you|transfer\w*|discount|bonus|cheque|award\w*|"
    # Money put where the customer has it: "adding 3,500 SEK to your account", "you'll get £1.2k back".
    r"(?:to|into|onto) your (?:account|balance|wallet|card|bank)|get\b[^!?\n]{0,30}?\bback)\b",
)
_NO_RETURN = WordRegex(
    r"\b(?:no need to|(?:don['’]t|do not) (?:need|have) to|without (?:needing|having) to|never have to)"
    r" (?:return|send (?:it|them|anything|the \w+) back)\b|\bkeep (?:it|them|the \w+)(?: as well| too)?\b(?=[^.!?\n]*\brefund)",
)


def _whole(text: str) -> Span:
    stripped = text.rstrip()
    first_line_end = stripped.find("\n")
    return 0, len(stripped) if first_line_end < 0 else first_line_end


def _missing(*names: str) -> Callable[[str, Context, Known], list[Span]]:
    patterns = [PRESENCE[name] for name in names]
    # Words at least one of which any match contains: when none occurs, nothing can match. One
    # automaton finds the first of them in a single pass, where `in` would scan once per word.
    needed = ahocorasick.Automaton()
    for p in patterns:
        for literal in required_sets(p.pattern)[0]:
            needed.add_word(literal, literal)
    needed.make_automaton()

    def check(text: str, ctx: Context, known: Known) -> list[Span]:
        if text.count(" ") + text.count("\n") + 1 < MIN_WORDS:
            return []
        if known.reading is not None and known.reading.kind != "complaint":
            return []  # a thank-you note or a question is answered, not apologised for
        if next(needed.iter(ctx.lowered), None) is None:
            return [_whole(text)]
        found = any(
            not ctx.is_excluded(*m.span())
            for pattern in patterns
            for m in pattern.finditer(ctx.lowered)
        )
        return [] if found else [_whole(text)]

    return check


_UNITS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    )
    if w != "_"
}
_SCALES = {"hundred": 100, "thousand": 1000, "grand": 1000, "million": 1_000_000}
_NUMBER_WORD = "|".join([*_UNITS, *_TENS, *_SCALES, "a", "and"])
# Looked for in the lowered text: far faster than a caseless search.
_CURRENCY_WORD = WordRegex(r"\b(?:dollars|euros|pounds|quid|bucks|francs|yen)\b")
_SPOKEN_MONEY = re.compile(
    rf"\b(?P<words>(?:(?:{_NUMBER_WORD})[\s-]+)*(?:{_NUMBER_WORD}))\s+{_CURRENCY_WORD.pattern[2:]}",
    re.I,
)
# Possessive: nothing after a figure is a digit, so giving digits back cannot help, and a long run
# of them would be backtracked through one by one.
_SHORT_MONEY = re.compile(r"\b(?P<short>\d++(?:\.\d++)?)\s?(?:k|grand)\b", re.I)
# How far before its currency word an amount in words may begin ("two hundred and fifty ...").
_SPOKEN_REACH = 200


def _spoken(words: str) -> float | None:
    """ "five thousand", "two hundred and fifty", "a grand" as numbers."""
    total = current = 0
    seen = False
    for word in re.split(r"[\s-]+", words.lower()):
        if word in ("and", ""):
            continue
        if word == "a":
            current = max(current, 1)
        elif word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _SCALES:
            current = max(current, 1) * _SCALES[word]
            if _SCALES[word] >= 1000:
                total, current = total + current, 0
        else:
            return None
        seen = True
    return float(total + current) if seen else None


def _amounts(text: str, lowered: str) -> Iterator[tuple[Span, float]]:
    """Every amount of money in `text`: figures with a currency, words ("five thousand
    dollars") and shorthand ("5k", "2 grand")."""
    for m in money_in(text):
        yield m.span(), money_value(m)
    # Each kind is looked for only where it can be: words just before a currency word,
    # shorthand where a run of digits begins. A long text costs a pass, not a scan per position.
    after = 0
    for currency in _CURRENCY_WORD.finditer(lowered):
        begin = max(after, currency.start() - _SPOKEN_REACH)
        for m in _SPOKEN_MONEY.finditer(text, begin, currency.end()):
            spoken = _spoken(m.group("words")) if m.end() == currency.end() else None
            if spoken:
                yield m.span(), spoken
        after = currency.end()
    for m in matches_at(_SHORT_MONEY, text, digit_runs(text)):
        yield m.span(), float(m.group("short")) * 1000


def over_policy_promise(text: str, ctx: Context, known: Known) -> list[Span]:
    limit = known.policy.max_goodwill_credit
    spans = []
    for span, value in _amounts(text, ctx.lowered):
        if value <= limit or value in known.allowed_amounts:
            continue
        begin, end = ctx.sentence(*span)
        if _GIVING.search(ctx.lowered, begin, end):
            spans.append(span)
    return spans


# A percentage off, in figures or words: "60% off", "fifty percent off your next order", "a 40%
# discount", "a discount of 30%", "35% refund on every order". At most a few words make a
# percentage ("twenty five"), so no start is tried against more than a few.
_PERCENT_WORD = "|".join([*_UNITS, *_TENS, "hundred"])


def _percent(name: str) -> str:
    return (
        rf"(?P<{name}>\d{{1,3}}(?:\.\d+)?|(?:(?:{_PERCENT_WORD})[\s-]){{0,3}}(?:{_PERCENT_WORD}))"
        r" ?(?:%|per ?cent)"
    )


_DISCOUNT = WordRegex(
    rf"\b{_percent('figure')} (?:off|discount|reduction|refund on (?:all|every|future))\b"
    rf"|\bdiscount of {_percent('after')}"
)
_DISCOUNT_ANY_CASE = re.compile(_DISCOUNT.pattern, re.I)
# Where a percentage is: the only places a discount can be, found by a literal search.
_PERCENT_MARK = WordRegex(r"%|per ?cent")
_PERCENT_MARK_ANY_CASE = re.compile(_PERCENT_MARK.pattern, re.I)
# How far a discount reaches either side of its percent sign ("a discount of twenty five %").
_DISCOUNT_REACH = 60


def _regions(marks: Iterator[re.Match[str]], reach: int, size: int) -> Iterator[Span]:
    """The stretches of a text within `reach` of a mark, overlapping ones joined: each character
    is read once however thick the marks are."""
    begin = end = -1
    for mark in marks:
        if mark.start() - reach > end:
            if end >= 0:
                yield begin, end
            begin = max(0, mark.start() - reach)
        end = min(size, mark.end() + reach)
    if end >= 0:
        yield begin, end


def over_policy_discount(text: str, ctx: Context, known: Known) -> list[Span]:
    """A percentage off beyond the policy's: a discount is money, and a model talked into "90%
    off everything" gives it away as surely as a credit."""
    limit = known.policy.max_discount_percent
    marks = _lowered_matches(_PERCENT_MARK, _PERCENT_MARK_ANY_CASE, text, ctx.lowered)
    spans = []
    for begin, end in _regions(marks, _DISCOUNT_REACH, len(text)):
        found = _lowered_matches(_DISCOUNT, _DISCOUNT_ANY_CASE, text, ctx.lowered, begin, end)
        for m in found:
            figure = m.group("figure") or m.group("after")
            value = float(figure) if figure[0].isdigit() else _spoken(figure)
            if value is not None and value > limit:
                spans.append(m.span())
    return spans


def refund_without_return(text: str, ctx: Context, known: Known) -> list[Span]:
    if not known.policy.refund_requires_return:
        return []
    return [m.span() for m in _NO_RETURN.finditer(ctx.lowered)]


_URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"')\]]+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|co|uk|info|biz|xyz|ly|me|app|shop|online|site|store|tech|top|club|live|pro|link|click|help|page|support|us|de|fr|ca|au|ru|cn|nl|es|it|eu|dev|ai|tv|cc|ws|to|gg|su|ml|tk)\b(?:/[^\s<>\"')\]]*)?",
    re.I,
)


# Cheap first looks: most replies hold no link and no run of seven digits.
_LINKISH = re.compile(
    r"https?:|www\.|\.(?:com|net|org|io|co|uk|info|biz|xyz|ly|me|app|shop|online|site|store|tech|top|club|live|pro|link|click|help|page|support|us|de|fr|ca|au|ru|cn|nl|es|it|eu|dev|ai|tv|cc|ws|to|gg|su|ml|tk)\b"
)
_DIGIT_RUN = re.compile(r"\d(?:[\d ().+-]{5,})\d")
_REFERENCE = re.compile(
    r"\b(?:order|account|acct|booking|reservation|reference|ref|case|ticket|invoice|confirmation|"
    r"claim|policy|customer|membership|member|contract|serial|imei|tracking|transaction)"
    r"(?:\s+(?:number|no\.?|num|id|code|ref))?\s*(?:is\s+|was\s+)?[:#]?\s*#?\s*"
    r"(?P<ref>[A-Z]{0,5}[-/]?\d[\dA-Z /-]{2,30}\d)"
    r"|(?P<ref2>\b[A-Z]{2,5}-\d[\d-]{3,20}\d\b)",
    re.I,
)


def _host(url: str) -> str:
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower())
    return url.split("/")[0].split("@")[-1].rstrip(".")


def unlisted_link(text: str, ctx: Context, known: Known) -> list[Span]:
    """Links the company profile does not list: an injected email's favourite payload."""
    if not _LINKISH.search(ctx.lowered):
        return []
    company = known.company
    allowed = {_host(v) for v in (company.website, company.support_email) if v}
    spans = []
    for m in _URL.finditer(text):
        host = _host(m.group(0))
        if "@" in text[max(0, m.start() - 1) : m.start() + 1]:
            continue  # an email address: unlisted-email's
        if not any(host == a or host.endswith("." + a) for a in allowed):
            spans.append(m.span())
    return spans


_PHONE_LEAD = re.compile(r"[+(]")
_SPACED_DIGITS = re.compile(r"(?<![\w+])\d(?:[ .-]\d){6,14}(?![\w])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def unlisted_email(text: str, ctx: Context, known: Known) -> list[Span]:
    """Email addresses at a domain the company profile does not list: a reply sends the
    customer to nobody else's inbox, whoever's address an email slipped in."""
    if "@" not in text:
        return []
    company = known.company
    allowed = {_host(v) for v in (company.website, company.support_email) if v}
    spans = []
    for m in _EMAIL.finditer(text):
        host = m.group(0).rsplit("@", 1)[1].lower().rstrip(".")
        if not any(host == a or host.endswith("." + a) for a in allowed):
            spans.append(m.span())
    return spans


_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_DIGIT_WORD = "(?:" + "|".join(_DIGIT_WORDS) + ")"
# A word or a few figures: "oh 7 7 zero, 900 double one..." mixes them so neither reading sees a
# whole number.
_SPELT_TOKEN = rf"(?:(?:double|triple) {_DIGIT_WORD}|{_DIGIT_WORD}|\d{{1,4}})"
# "oh seven seven zero, nine double zero..." A number read out in words, as a model may be told
# to write one so no run of digits shows; seven digits or more make it a phone number. One word
# at least: figures alone are the digit-run check's.
_SPELT_NUMBER = WordRegex(rf"\b{_SPELT_TOKEN}(?:[ ,-]+{_SPELT_TOKEN}){{4,}}\b")


def _spelt_digits(words: str) -> str:
    digits = []
    times = 1
    for word in re.findall(r"[a-z]+|\d+", words):
        if word.isdigit():
            digits.append(word * times)
            times = 1
            continue
        if word in ("double", "triple"):
            times = 2 if word == "double" else 3
            continue
        digits.append(_DIGIT_WORDS[word] * times)
        times = 1
    return "".join(digits)


_SPELT_NUMBER_ANY_CASE = re.compile(_SPELT_NUMBER.pattern, re.I)


def _lowered_matches(
    fast: WordRegex,
    any_case: re.Pattern[str],
    text: str,
    lowered: str,
    pos: int = 0,
    endpos: int | None = None,
) -> Iterator[re.Match[str]]:
    """A lowercase pattern's matches in `text` (from `pos` to `endpos`): in the lowered text,
    whose offsets hold unless lowering changed its length ("İ"), else case-insensitively in the
    text itself."""
    end = len(text) if endpos is None else endpos
    if len(lowered) == len(text):
        return fast.finditer(lowered, pos, end)
    return any_case.finditer(text, pos, end)


def _spelt_phones(text: str, lowered: str) -> Iterator[tuple[Span, str]]:
    for m in _lowered_matches(_SPELT_NUMBER, _SPELT_NUMBER_ANY_CASE, text, lowered):
        if not re.search("[a-z]", m.group(0), re.I):
            continue
        digits = _spelt_digits(m.group(0).lower())
        if 7 <= len(digits) <= 15:
            yield m.span(), digits


def unlisted_phone(text: str, ctx: Context, known: Known) -> list[Span]:
    allowed = re.sub(r"\D", "", known.company.phone or "")

    def ours(digits: str) -> bool:
        if allowed and (digits.endswith(allowed[-7:]) or allowed.endswith(digits)):
            return True
        return digits in known.customer_digits  # theirs, said back to them

    spans = [span for span, digits in _spelt_phones(text, ctx.lowered) if not ours(digits)]
    if not _DIGIT_RUN.search(text):
        return spans
    # Tried only where a number can begin: a run of digits, a "+" or a "(".
    runs = digit_runs(text)
    starts = heapq.merge(runs, (m.start() for m in _PHONE_LEAD.finditer(text)))
    # "1 8 0 0 5 5 5 0 1 9 9": a number spelt out digit by digit is a number too.
    spaced = [m for m in matches_at(_SPACED_DIGITS, text, runs) if len(m.group(0)) > 2 * 6]
    for m in [*matches_at(PHONE, text, starts), *spaced]:
        digits = phone_digits(m.group(0))
        if digits is not None and not ours(digits):
            spans.append(m.span())
    return spans


# Chat apps a fraudster asks to be contacted on, as one word each ("whats app" is written both
# ways). Signal is also a common word ("phone signal"), so it counts only as somewhere to be
# messaged.
_APPS = ("whatsapp", "telegram", "wechat", "viber", "discord", "snapchat", "kik", "threema",
         "wickr", "icq", "signal")  # fmt: skip
_PLAIN_APPS = "|".join(a for a in _APPS if a not in ("whatsapp", "signal"))
_MESSAGING = WordRegex(
    rf"\b(?:whats ?app|{_PLAIN_APPS}|"
    r"(?:on|via|over|through|using|download|install|add (?:me|us|him|her)) signal(?! strength| bars?"
    r"| drops?| is| was| in| at| quality| coverage| booster)|signal (?:app|messenger|chat))\b"
)
_MESSAGING_ANY_CASE = re.compile(_MESSAGING.pattern, re.I)


# A handle on its own ("DM @refund_desk"): not an address ("help@northwind.example"), a domain
# ("@evil.example") or a time ("@ 5pm").
_HANDLE = re.compile(r"(?<![\w.@+-])@[A-Za-z_][A-Za-z0-9_]{1,29}\b(?![.@-]?\w)")


def unlisted_messaging(text: str, ctx: Context, known: Known) -> list[Span]:
    """Chat apps and handles the company profile does not list: "message @refund_desk on
    Telegram" sends the customer to whoever an email named, out of sight of the audit log."""
    listed = [re.sub(r"[^\w@]", "", entry.lower()) for entry in known.company.messaging]
    ours = {entry for entry in listed if not entry.startswith("@")}
    handles = {entry for entry in listed if entry.startswith("@")}
    spans = []
    for m in _lowered_matches(_MESSAGING, _MESSAGING_ANY_CASE, text, ctx.lowered):
        squashed = re.sub(r"\W", "", m.group(0).lower())
        if next(a for a in _APPS if a in squashed) not in ours:
            spans.append(m.span())
    if "@" in text:
        spans.extend(m.span() for m in _HANDLE.finditer(text) if m.group(0).lower() not in handles)
    return spans


# The situation checks: a reply that does not fit the email it answers. Each needs the email.
_SHIPPING = WordRegex(
    r"\b(?:parcels?|couriers?|warehouse|tracking (?:number|details|link|page)|return label|"
    r"prepaid label|postage|dispatch(?:ed|es)?|reship\w*|shipped|shipping)\b"
)
_YOU_ASKED_CANCEL = WordRegex(
    r"\b(?:you (?:asked|wanted|requested|tried) (?:us |me )?to cancel|your (?:request|wish|decision) to cancel|"
    r"your cancell?ation request|as you (?:asked|requested),? (?:i.ve |we.ve )?cancell?ed)\b"
)
_LATER = WordRegex(
    r"\b(?:tomorrow|within (?:24|48|72) hours|within (?:a|one|two|three|a few|\d+) (?:business |working )?days|"
    r"next week|by the end of the week|in (?:a|one|two|three|a few) (?:business |working )?days)\b"
)
_NOW = WordRegex(
    r"\b(?:right now|straight away|right away|immediately|within the hour|in the next (?:few |\d+ )?minutes|"
    r"within (?:\d+|a few|fifteen|thirty) minutes|call (?:your local )?emergency|crew member|call button|"
    r"emergency number|at once)\b"
)
_CONTENT = re.compile(r"[a-z][a-z'-]{3,}")
_QUESTION_WORDS = frozenset(
    [
        "what",
        "when",
        "where",
        "which",
        "will",
        "would",
        "could",
        "should",
        "does",
        "have",
        "with",
        "this",
        "that",
        "from",
        "your",
        "there",
        "they",
        "them",
        "then",
        "than",
        "just",
        "been",
        "being",
        "about",
        "into",
        "can't",
        "cannot",
        "please",
        "tell",
        "know",
        "need",
        "like",
        "want",
        "wanted",
        "going",
        "anyone",
        "someone",
        "anything",
        "something",
        "help",
        "really",
        "still",
        "also",
        "ever",
    ]
)


def _fits(known: Known) -> Situation | None:
    return known.reading if known.email is not None else None


def situation_shipping(text: str, ctx: Context, known: Known) -> list[Span]:
    """Shipping words to a customer of a company that ships nothing, who mentioned no shipment."""
    reading = _fits(known)
    if reading is None or reading.shipment or known.business.ships:
        return []
    return [m.span() for m in _SHIPPING.finditer(ctx.lowered) if not ctx.is_excluded(*m.span())]


def situation_cancel_request(text: str, ctx: Context, known: Known) -> list[Span]:
    """ "You asked us to cancel" when the customer asked nothing of the kind."""
    reading = _fits(known)
    if reading is None or reading.actor == "customer":
        return []
    return [
        m.span() for m in _YOU_ASKED_CANCEL.finditer(ctx.lowered) if not ctx.is_excluded(*m.span())
    ]


def situation_slow_reply(text: str, ctx: Context, known: Known) -> list[Span]:
    """A reply by tomorrow to someone for whom it is happening now, or who is hurt."""
    reading = _fits(known)
    if reading is None or not (reading.happening_now or reading.danger):
        return []
    if _NOW.search(ctx.lowered):
        return []
    return [m.span() for m in _LATER.finditer(ctx.lowered) if not ctx.is_excluded(*m.span())]


_ANSWER_PROMISED = re.compile(
    r"\b(?:answer|let you know|find out|get back to you|come back to you|reply)\b", re.I
)


def situation_unanswered_question(text: str, ctx: Context, known: Known) -> list[Span]:
    """A direct question the reply never takes up: no word of it outside quotation marks, and
    no promise of an answer right after quoting it."""
    reading = _fits(known)
    if reading is None or not reading.questions:
        return []
    reply_words = {
        m.group(0).rstrip("s")
        for m in _CONTENT.finditer(ctx.lowered)
        if not ctx.is_excluded(m.start(), m.end())
    }
    for question in reading.questions:
        if asks_for_remedy(question):
            continue  # "Can you sort it out?" is answered by what the reply offers
        question = question.replace("\u2019", "'").replace("\u2018", "'")
        words = {w.rstrip("s") for w in _CONTENT.findall(question.lower())} - _QUESTION_WORDS
        if not words or words & reply_words:
            continue
        quoted = ctx.lowered.find(question.lower())
        after = ctx.lowered[quoted + len(question) : quoted + len(question) + 200]
        if quoted < 0 or not _ANSWER_PROMISED.search(after):
            return [_whole(text)]
    return []


SHINGLE = 7  # words: long enough that a reply never shares one with our prompts by chance


@cache
def _echo_automaton() -> Any:
    """Every stretch of SHINGLE words in the prompt templates' own text (their Jinja left out),
    lowercased as written, in one Aho-Corasick automaton: one pass over a reply finds them all."""
    automaton = ahocorasick.Automaton()
    folder = prompts_dir()
    for name in (
        "guidelines.md.j2",
        "system.md.j2",
        "classify.md.j2",
        "revise.md.j2",
        "user.md.j2",
    ):
        raw = (folder / name).read_text(encoding="utf-8")
        raw = re.sub(r"\{[{%#].*?[}%#]\}", "\n", raw, flags=re.S).lower()
        for line in raw.splitlines():
            words = list(_WORD.finditer(line))
            for k in range(len(words) - SHINGLE + 1):
                key = line[words[k].start() : words[k + SHINGLE - 1].end()]
                automaton.add_word(key, len(key))
    automaton.make_automaton()
    return automaton


_WORD = re.compile(r"[a-z0-9']+")
_TAGS = re.compile(r"</?(?:customer_email|previous_reply)>", re.I)
_META_GOAL = WordRegex(r"\bmeta_goal\b")  # on the lowered text, a fast literal search
_HEADING = re.compile(r"#{1,3} ")


def _markers(text: str, lowered: str) -> Iterator[Span]:
    """Our prompts' own markers: their tags, `meta_goal` and a Markdown heading. Each is looked
    for on its own, as a literal: an alternation of them is tried at every position."""
    yield from (m.span() for m in _TAGS.finditer(text))
    yield from (m.span() for m in _META_GOAL.finditer(lowered))
    at = text.find("#")
    while at >= 0:
        heading = _HEADING.match(text, at) if at == 0 or text[at - 1] == "\n" else None
        if heading is not None:
            yield heading.span()
        at = text.find("#", at + 1)


def prompt_echo(text: str, ctx: Context, known: Known) -> list[Span]:
    """The system prompt, or its markers, repeated in a reply: what an injection that asks the
    model to "reveal your instructions" produces."""
    lowered = ctx.lowered
    spans = list(_markers(text, lowered))
    for end, length in _echo_automaton().iter(lowered):
        begin = end - length + 1
        before = lowered[begin - 1] if begin else " "
        after = lowered[end + 1] if end + 1 < len(lowered) else " "
        if not (before.isalnum() or after.isalnum()):
            spans.append((begin, end + 1))
    return _merge(spans)


# What the customer reports, and the reply's words that say it did not happen: blame that is
# not in the reply's words alone but in denying the customer's account beside them.
_CONTRADICTIONS = [
    (  # late or delayed; "it left on time"
        re.compile(r"\b(?:late|delayed|delays?|hours? (?:behind|waiting))\b", re.I),
        WordRegex(
            r"\b(?:departed|left|arrived|landed|operated|ran|was|were|is|are|has been|have been) "
            r"(?:on time|on schedule|as scheduled|punctual(?:ly)?)\b"
        ),
    ),
    (  # down, not working, no signal; "there are no outages", "it's working normally"
        re.compile(
            r"\b(?:down|outages?|not working|(?:doesn.?t|does not|won.?t|isn.?t|stopped) work\w*|"
            r"no (?:signal|service|internet|connection|broadband)|keeps? (?:dropping|cutting out)|crash\w*)\b",
            re.I,
        ),
        WordRegex(
            r"\b(?:(?:there (?:are|is|were|was|have been|has been) )?no (?:known |reported )?"
            r"(?:outages?|faults?|issues?|problems?|disruption)(?: (?:in|on|at|with|affecting) "
            r"(?:your|the|our) (?:area|network|line|end|side|servers?|systems?|service))|"
            r"(?:not|aren.?t|are not) (?:seeing|aware of|showing) any (?:outages?|faults?|issues?|problems?)|"
            r"(?:is|are|['’]s) (?:working|running) (?:fine|normally|correctly|as (?:expected|it should|they should)))\b"
        ),
    ),
    (  # never arrived; "it was delivered"
        re.compile(
            r"\b(?:never (?:arrived|came|received|got)|(?:not|hasn.?t|haven.?t|didn.?t) "
            r"(?:been )?(?:arrived?|received?|delivered|come|get|got))\b",
            re.I,
        ),
        WordRegex(
            r"\b(?:(?:was|were|has been|have been|shows? as|marked as) (?:successfully )?delivered|"
            r"(?:was|were) signed for)\b"
        ),
    ),
]
# A sentence that reports our records only to side with the customer ("it shows as delivered,
# but it clearly wasn't"), or owns the failure, doubts nothing.
_CONCEDES = re.compile(
    r"\b(?:but|though|although|yet)\b[^.!?\n]*\b(?:you|it|he|she|they|the \w+) (?:clearly |obviously )?"
    r"(?:didn.?t|wasn.?t|weren.?t|isn.?t|aren.?t|never|did not|was not|were not|is not|are not)\b|"
    r"\b(?:our|my) (?:mistake|error|fault)\b|\bwrong (?:address|flat|house|door|locker|person|flight)\b",
    re.I,
)
# "Have you tried restarting it?": asking again for what the customer says they already did.
_ASKED_AGAIN = WordRegex(
    r"\b(?:have you (?:already |also )?(?:tried|checked|restarted|reset|rebooted|cleared|reinstalled|"
    r"updated|followed|contacted|called)|did you (?:try|check|restart|reset|reboot|clear|reinstall|update|"
    r"follow|contact|call)|(?:could|can|would) you (?:please )?(?:try|restart|reset|reboot|clear|"
    r"reinstall)|please (?:try|restart|reset|reboot|clear|reinstall))\b[^.!?\n]*"
)
_TRIED_WORDS = re.compile(r"[a-z]{4,}")
_TRY_VERBS = frozenset(
    [
        "tried",
        "trying",
        "already",
        "restarted",
        "restart",
        "rebooted",
        "reboot",
        "reset",
        "cleared",
        "clear",
        "reinstalled",
        "reinstall",
        "updated",
        "update",
        "followed",
        "follow",
        "checked",
        "check",
        "contacted",
        "called",
        "times",
        "twice",
        "again",
        "still",
        "have",
        "with",
        "your",
        "that",
        "this",
    ]
)


def doubt_contradicts_customer(text: str, ctx: Context, known: Known) -> list[Span]:
    """The reply says what the customer reported did not happen ("our flights departed on time"
    to someone whose flight was late), or asks them to try what they say they already tried."""
    reading = _fits(known)
    if reading is None or known.email is None:
        return []
    spans = [
        m.span()
        for reported, denial in _CONTRADICTIONS
        if reported.search(known.email)
        for m in denial.finditer(ctx.lowered)
    ]
    done = {
        w for t in reading.tried for w in _TRIED_WORDS.findall(t.lower()) if w not in _TRY_VERBS
    }
    if done:
        for m in _ASKED_AGAIN.finditer(ctx.lowered):
            if done & set(_TRIED_WORDS.findall(m.group(0))) - _TRY_VERBS or _same_verb(
                m.group(0), reading.tried
            ):
                spans.append(m.span())
    return [
        s
        for s in spans
        if not ctx.is_excluded(*s) and not _CONCEDES.search(text, *ctx.sentence(*s))
    ]


_VERB = re.compile(r"\b(restart|reboot|reset|clear|reinstall|updat|uninstall)\w*")


def _same_verb(asked: str, tried: list[str]) -> bool:
    """ "Could you restart it?" to someone who restarted it: the same act, whatever its object."""
    verbs = {v for t in tried for v in _VERB.findall(t.lower())}
    return bool(verbs & set(_VERB.findall(asked)))


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


CHECKS: dict[str, Callable[[str, Context, Known], list[Span]]] = {
    "unlisted-link": unlisted_link,
    "unlisted-phone": unlisted_phone,
    "unlisted-email": unlisted_email,
    "unlisted-messaging": unlisted_messaging,
    "prompt-echo": prompt_echo,
    "no-ownership": _missing("ownership"),
    "no-next-step": _missing("next-step", "next-step-number"),
    "no-acknowledgment": _missing("acknowledgment"),
    "over-policy-promise": over_policy_promise,
    "over-policy-discount": over_policy_discount,
    "refund-without-return": refund_without_return,
    "situation-shipping": situation_shipping,
    "situation-cancel-request": situation_cancel_request,
    "situation-slow-reply": situation_slow_reply,
    "situation-unanswered-question": situation_unanswered_question,
    "doubt-contradicts-customer": doubt_contradicts_customer,
}
