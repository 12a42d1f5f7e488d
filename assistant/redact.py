"""Customer data out of everything sent to a model off this machine, and back in for the agent.

Email addresses, phone numbers, payment card numbers (Luhn-checked), IBANs (mod-97-checked),
recognisable postal addresses and any patterns configured as sensitive (order or account numbers)
become stable placeholders: the same value is always [EMAIL_1] within one draft, so the model can
still refer to it, and `restore` puts the real values back in the reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .config import linear_pattern

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
# Grouped ("+44 7700 900123", "(415) 555-0199", "1-800-555-0199") or run together after + or 0.
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,5}\)[ .-]?)?\d{1,6}(?:[ .-]\d{2,8}){1,4}(?!\w)"
    r"|(?<![\w+])(?:\+|0)\d{9,14}(?!\w)"
)


def phone_digits(candidate: str) -> str | None:
    """The digits of a phone-like match, or None when it cannot be a phone number."""
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15 or re.fullmatch(r"\d{4}-\d{2}-\d{2}", candidate):
        return None  # too short, too long, or an ISO date
    return digits


_STREET = re.compile(
    r"\b\d{1,5}[A-Za-z]?(?:,)? (?:[A-Z][a-z]+ ){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Court|Ct|Way|Place|Pl|Boulevard|Blvd|"
    r"Terrace|Crescent|Gardens|Square|Sq|Parade|Highway|Hwy)\b\.?(?:,? (?:Apt|Flat|Unit|Suite) ?\w+)?"
)
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]{2} \d{5}(?:-\d{4})?)\b")
_PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|CARD|IBAN|ADDRESS|ORDER|SENSITIVE)_(\d+)\]")


def luhn_ok(digits: str) -> bool:
    total, double = 0, False
    for ch in reversed(digits):
        d = int(ch)
        if double:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        double = not double
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    s = candidate.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    rearranged = s[4:] + s[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


@dataclass
class Redaction:
    """The placeholders of one draft: kept only in memory, never sent or logged."""

    values: dict[str, str] = field(default_factory=dict)  # placeholder -> original
    _by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    reserved: set[str] = field(default_factory=set)
    """Placeholder-like words the customer wrote themselves: never reused, never restored."""

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._by_value:
            name = ""
            while not name or name in self.reserved:
                self._counts[kind] = self._counts.get(kind, 0) + 1
                name = f"[{kind}_{self._counts[kind]}]"
            self._by_value[key] = name
            self.values[name] = value
        return self._by_value[key]

    @property
    def active(self) -> bool:
        return bool(self.values)

    def restore(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self.values.get(m.group(0), m.group(0)), text)


class Redactor:
    def __init__(self, sensitive: Iterable[str] = ()) -> None:
        self._sensitive = [linear_pattern(p) for p in sensitive]

    def redact(self, text: str, redaction: Redaction) -> str:
        """`text` with customer data replaced by placeholders recorded in `redaction`."""
        redaction.reserved.update(m.group(0) for m in _PLACEHOLDER.finditer(text))
        spans: list[tuple[int, int, str]] = []

        def claim(kind: str, start: int, end: int) -> None:
            if not any(s < end and start < e for s, e, _ in spans):
                spans.append((start, end, kind))

        # Most specific first: a card number is not also a phone number.
        for m in _EMAIL.finditer(text):
            claim("EMAIL", *m.span())
        for m in _IBAN.finditer(text):
            if iban_ok(m.group(0)):
                claim("IBAN", *m.span())
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 13 <= len(digits) <= 19 and luhn_ok(digits):
                claim("CARD", *m.span())
        for pattern in self._sensitive:
            for m in pattern.finditer(text):
                claim("SENSITIVE", *m.span())
        for pattern in (_STREET, _POSTCODE):
            for m in pattern.finditer(text):
                claim("ADDRESS", *m.span())
        for m in PHONE.finditer(text):
            if phone_digits(m.group(0)):
                claim("PHONE", *m.span())
        out, last = [], 0
        for start, end, kind in sorted(spans):
            out.append(text[last:start])
            out.append(redaction.placeholder(kind, text[start:end]))
            last = end
        out.append(text[last:])
        return "".join(out)


class RestoringSink:
    """Passes streamed reply text on with placeholders restored, holding back a possible
    placeholder until it is complete."""

    def __init__(self, redaction: Redaction, sink: Callable[[str], None]) -> None:
        self._redaction = redaction
        self._sink = sink
        self._held = ""

    def __call__(self, chunk: str) -> None:
        text = self._held + chunk
        cut = text.rfind("[")
        if cut >= 0 and "]" not in text[cut:] and len(text) - cut < 24:
            text, self._held = text[:cut], text[cut:]
        else:
            self._held = ""
        if text:
            self._sink(self._redaction.restore(text))
