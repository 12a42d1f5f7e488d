"""Customer data out of everything sent to a model off this machine, and back in for the agent.

Email addresses (written out too: "ana at example dot com"), phone numbers, payment card numbers (Luhn-checked), IBANs (mod-97-checked),
recognisable postal addresses and any patterns configured as sensitive (order or account numbers)
become stable placeholders: the same value is always [EMAIL_1] within one draft, so the model can
still refer to it, and `restore` puts the real values back in the reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .config import linear_pattern

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Written out to dodge filters: "ana [at] example [dot] com", "ana.lopez (at) example.co.uk",
# "ana @ example . com", "ana dot lopez at example dot com". A plain " at " counts only with a
# spelt-out dot after it, a mail host, or a local part no word has ("j.smith at ..."), so "look
# at example.com" stays a website. Found from each "at" outward, so the work stays linear.
_SPELT_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+)"
_ANY_DOT = rf"(?:{_SPELT_DOT}|\s?\.\s?)"
_TLD = (
    r"(?:com|net|org|edu|gov|info|biz|io|co|uk|de|fr|es|it|nl|be|ch|at|ie|eu|us|ca|au|me|app|dev)"
)
_AT_MARK = re.compile(
    r"\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s+@\s*|\s*@\s+|\s+(?P<word>at)\s+", re.I
)
_LOCAL_BEFORE = re.compile(rf"\b[\w+-]+(?:(?:\.|{_SPELT_DOT})[\w+-]+){{0,4}}\Z", re.I)
_DOMAIN_AFTER = re.compile(rf"[\w-]+(?:{_ANY_DOT}[\w-]+){{0,3}}{_ANY_DOT}{_TLD}\b", re.I)
_SPELT_DOT_RE = re.compile(_SPELT_DOT, re.I)
_MAIL_HOST = re.compile(
    r"(?:gmail|googlemail|yahoo|hotmail|outlook|icloud|aol|protonmail|proton|gmx|live|msn)\b", re.I
)


def _spelt_emails(text: str) -> Iterator[tuple[int, int]]:
    for at in _AT_MARK.finditer(text):
        local = _LOCAL_BEFORE.search(text, max(0, at.start() - 80), at.start())
        domain = _DOMAIN_AFTER.match(text, at.end(), at.end() + 120)
        if local is None or domain is None:
            continue
        if at.group("word") and not (
            _SPELT_DOT_RE.search(domain.group(0))
            or _MAIL_HOST.match(domain.group(0))
            or re.search(r"[._]", local.group(0))
        ):
            continue
        yield local.start(), domain.end()


_CARD = re.compile(r"(?<![\d-])(?:\d[ .-]?){12,18}\d(?![\d-])")
# A number in a card's context is a card number even when a digit is mistyped (Luhn fails).
_CARD_CONTEXT = re.compile(r"\b(?:card|visa|mastercard|amex|credit|debit|cc)\b", re.I)
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{4}){2,7}(?:[ -]?[A-Za-z0-9]{1,4})?\b")
# Grouped ("+44 7700 900123", "(415) 555-0199", "1-800-555-0199") or run together after + or 0.
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,5}\)[ .-]?)?\d{1,6}(?:[ ./-]\d{2,8}){1,4}(?!\w)"
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
# Streets as people write them: "12 High Street", "12 high street", "55 West 86th Street",
# "Musterstraße 12", "Hauptstr. 5", "12 rue de la Paix"; and P.O. boxes.
_STREET_WORDS = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Court|Ct|Way|Place|Pl|Boulevard|Blvd|"
    r"Terrace|Crescent|Gardens|Square|Sq|Parade|Highway|Hwy)"
)
_NOT_A_STREET_NAME = r"(?!(?:on|the|a|an|in|to|of|for|and|my|your|this|that|weeks?|days?|hours?|times|miles|minutes)\b)"
_STREET_LOOSE = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?,? (?:{_NOT_A_STREET_NAME}(?:[A-Za-z][a-z]+|\d+(?:st|nd|rd|th)) ){{1,3}}"
    rf"{_STREET_WORDS}\b",
    re.I,
)
_STREET_EUROPE = re.compile(
    r"\b[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|gasse|allee|platz|laan|straat|gracht)\s?\d{1,4}[a-z]?\b"
    r"|\b\d{1,4},? (?:rue|avenue|boulevard|bd|place|chemin|allée|via|viale|piazza|calle|avenida|plaza)"
    r"(?: [\w'’-]+){1,5}",
    re.I,
)
_PO_BOX = re.compile(r"\bP\.?\s?O\.?\s?Box\s+\d+\b|\bPostfach\s+\d+\b", re.I)
_POSTCODE = re.compile(
    r"\b(?:[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}|[A-Z]{2} \d{5}(?:-\d{4})?"
    r"|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d)\b"
    # A European postcode before its town: "10115 Berlin", "75008 Paris", "1012 AB Amsterdam".
    r"|(?<!order )(?<!Order )(?<!#)(?<!no\. )(?<!ref )\b\d{4,5}(?: [A-Z]{2})?(?= [A-ZÄÖÜ][a-zäöüßé]+)"
    r"(?! (?:Euros?|Dollars?|Pounds?|Francs?|Yen|Days?|Hours?|Miles|Points|Items|Times|Calls)\b)"
)
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
    s = re.sub(r"[ -]", "", candidate).upper()
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
        for start, end in _spelt_emails(text):
            claim("EMAIL", start, end)
        for m in _IBAN.finditer(text):
            if iban_ok(m.group(0)) or "iban" in text[max(0, m.start() - 30) : m.start()].lower():
                claim("IBAN", *m.span())
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            near = _CARD_CONTEXT.search(text, max(0, m.start() - 40), m.start())
            if 13 <= len(digits) <= 19 and (luhn_ok(digits) or near):
                claim("CARD", *m.span())
        for pattern in self._sensitive:
            for m in pattern.finditer(text):
                claim("SENSITIVE", *m.span())
        for pattern in (_STREET, _STREET_LOOSE, _STREET_EUROPE, _PO_BOX, _POSTCODE):
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
