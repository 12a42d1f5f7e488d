"""Facts a reply should name instead of asking for: who, which order, what, when, how much."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from ..models import Facts
from ..textmatch import digit_runs, matches_at, sentence_ends


def _starting(first: str, pattern: str) -> re.Pattern[str]:
    """`pattern`, case-blind, tried only where a character in `first` stands. Python's regex engine
    otherwise tries every alternative at every position, which made these patterns a third of
    reading an email; the lookahead lists every character an alternative can start with, so the
    matches are the same."""
    return re.compile(f"(?=[{first}])(?:{pattern})", re.I)


ORDER = _starting(
    "otir#",
    r"(?:\border(?:\s+(?:number|no\.?|num|id|ref(?:erence)?))?|\btransaction|\binvoice|\bref(?:erence)?)"
    r"\s*(?:is\s+|was\s+)?[:#]?\s*#?\s*(?P<id>[A-Z]{0,4}-?\d[\dA-Z-]{2,19})\b"
    r"|(?<![\w&])#(?P<hash>[A-Z]{0,4}-?\d[\dA-Z-]{2,19})\b",
)
_TRACKING = _starting(
    "t1",
    r"\btracking(?:\s+(?:number|no\.?|code|id))?\s*(?:is\s+)?[:#]?\s*(?P<id>[A-Z0-9]{8,30})\b"
    r"|\b(?P<ups>1Z[0-9A-Z]{16})\b",
)
_AMOUNT = _starting(
    r"$£€\d",
    r"(?:[$£€]\s?\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?|[$£€]\s?\d+(?:\.\d{1,2})?)"
    r"|\b\d+(?:\.\d{1,2})?\s?(?:USD|EUR|GBP|dollars|euros|pounds|bucks)\b",
)
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE = _starting(
    r"\djfmasondtwly",
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|(?:last\s+|this\s+|on\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|yesterday|last\s+week|\d+\s+(?:days|weeks|months)\s+ago)\b",
)
# Things people order and complain about. A lexicon keeps product mentions precise: a reply that
# says "your from" because a regex guessed wrong is worse than one that says "your order".
PRODUCT_NOUNS = (
    "garlic press|press|kettle|toaster|blender|mixer|pan|frying pan|skillet|pot|knife|knives|peeler|"
    "grater|mug|cup|teapot|coffee maker|espresso machine|grinder|jacket|coat|shirt|t-shirt|dress|"
    "jeans|trousers|pants|shorts|skirt|sweater|jumper|hoodie|shoes|boots|sneakers|trainers|sandals|"
    "socks|hat|scarf|gloves|bag|backpack|suitcase|wallet|watch|ring|necklace|bracelet|earrings|"
    "phone|smartphone|tablet|laptop|charger|cable|headphones|earbuds|speaker|camera|lens|monitor|"
    "keyboard|mouse|printer|router|modem|sim card|set-top box|tv|television|lamp|chair|desk|table|sofa|mattress|pillow|"
    "duvet|blanket|towel|curtains|rug|vase|photo frame|tablecloth|napkins|widget|widgets|gadget|drill|saw|hammer|"
    "toy|puzzle|book|stroller|pram|car seat|bike|bicycle|helmet|tent|sleeping bag|"
    "candle|soap|shampoo|cream|perfume|serum|vacuum|hoover|fan|heater|air fryer|microwave|"
    "fridge|freezer|dishwasher|washing machine|dryer|iron|scale|thermometer|bottle|flask|"
    "lunchbox|container|cutting board|chopping board|colander|whisk|spatula|ladle|tongs"
)
# "the phone agent", "a phone call", "bag fees": the noun names a service, not a product.
NOT_A_PRODUCT = (
    r"(?!\s+(?:agents?|calls?|numbers?|lines?|support|staff|reps?|representatives?|conversations?|"
    r"service|company|provider|bills?|plans?|contracts?|charges?|fees?|desk|drop|allowance)\b)"
)
_PRODUCT = re.compile(
    r"\b(?:my|the|a|an|two|both|this|these|that|those|new|your)\s+"
    r"(?P<product>(?:(?!(?:order|package|parcel|item)\b)[a-z][a-z-]{2,}\s+)?(?:"
    + PRODUCT_NOUNS
    + r"))s?\b"
    + NOT_A_PRODUCT,
    re.I,
)
_NOT_MODIFIERS = {
    "the",
    "and",
    "but",
    "new",
    "old",
    "same",
    "other",
    "first",
    "second",
    "only",
    "broken",
    "damaged",
    "wrong",
    "missing",
    "whole",
    "entire",
    "brand",
    "stupid",
    "cheap",
    "expensive",
    "lovely",
    "replacement",
    "very",
    "really",
    "one",
    "two",
}
_NAME_INTRO = re.compile(
    r"\b(?:my name is|this is|i am|i'm)\s+(?P<name>[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)\b"
)

# Frequent function words per language; enough to tell a non-English email apart.
_STOPWORDS = {
    "en": [
        "the",
        "and",
        "you",
        "your",
        "have",
        "not",
        "was",
        "for",
        "with",
        "this",
        "that",
        "order",
        "is",
        "are",
        "my",
        "it",
        "of",
        "to",
    ],
    "es": [
        "el",
        "la",
        "los",
        "las",
        "que",
        "de",
        "y",
        "en",
        "no",
        "mi",
        "por",
        "para",
        "con",
        "una",
        "pedido",
        "es",
        "está",
        "pero",
    ],
    "fr": [
        "le",
        "la",
        "les",
        "des",
        "et",
        "est",
        "une",
        "pas",
        "mon",
        "ma",
        "je",
        "vous",
        "pour",
        "avec",
        "commande",
        "mais",
    ],
    "de": [
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ich",
        "mein",
        "meine",
        "sie",
        "mit",
        "eine",
        "bestellung",
        "aber",
        "für",
    ],
    "it": [
        "il",
        "lo",
        "la",
        "che",
        "di",
        "e",
        "non",
        "un",
        "una",
        "mio",
        "mia",
        "per",
        "con",
        "ordine",
        "sono",
        "ma",
    ],
    "pt": [
        "o",
        "a",
        "os",
        "as",
        "que",
        "de",
        "e",
        "não",
        "um",
        "uma",
        "meu",
        "minha",
        "para",
        "com",
        "pedido",
        "mas",
    ],
    "nl": [
        "de",
        "het",
        "een",
        "en",
        "is",
        "niet",
        "ik",
        "mijn",
        "van",
        "met",
        "voor",
        "bestelling",
        "maar",
    ],
}


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.lower(), item)
    return list(seen.values())


def detect_language(text: str) -> str:
    words = re.findall(r"[a-zà-ÿ']+", text.lower())
    if not words:
        return "en"
    scores = dict.fromkeys(_STOPWORDS, 0)
    for word in words:
        for lang in _LANGUAGES_OF.get(word, ()):
            scores[lang] += 1
    best = max(scores, key=lambda lang: scores[lang])
    # English wins ties and near-ties: a Spanish product name in an English email is still English.
    return best if scores[best] > scores["en"] * 1.5 and scores[best] >= 3 else "en"


# Each stopword's languages: one look-up per word of the email instead of a count per stopword.
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {
    word: tuple(lang for lang, stop in _STOPWORDS.items() if word in stop)
    for word in {w for stop in _STOPWORDS.values() for w in stop}
}


def extract_facts(text: str, *, name_hint: str | None = None) -> Facts:
    orders = [m.group("id") or m.group("hash") for m in ORDER.finditer(text)]
    tracking = [m.group("id") or m.group("ups") for m in _TRACKING.finditer(text)]
    # A tracking number must contain a digit; "tracking information" is not one.
    tracking = [t for t in tracking if t and re.search(r"\d", t)]
    orders = [o for o in orders if o and o not in tracking]
    products = []
    for m in _PRODUCT.finditer(text):
        words = m.group("product").split()
        if len(words) > 1 and words[0].lower() in _NOT_MODIFIERS:
            words = words[1:]
        products.append(" ".join(words).lower())
    name = name_hint
    if not name:
        intro = _NAME_INTRO.search(text)
        name = intro.group("name") if intro else None
    return Facts(
        customer_name=name,
        order_numbers=_unique(orders),
        tracking_numbers=_unique(tracking),
        products=_unique(products),
        dates=_unique([m.group(0) for m in _DATE.finditer(text)]),
        amounts=_unique([m.group(0) for m in _AMOUNT.finditer(text)]),
        language=detect_language(text),
    )


def first_name(full_name: str | None) -> str | None:
    if not full_name:
        return None
    part = full_name.split()[0].strip(",.")
    # "Mr Smith" is greeted as Mr Smith, not as "Mr".
    if (
        part.rstrip(".").lower() in {"mr", "mrs", "ms", "dr", "miss", "mx"}
        and len(full_name.split()) > 1
    ):
        return full_name
    return part if part[:1].isupper() else None


# Money as a reply or an email states it, in any currency and either decimal convention: a sign
# or code before ("CHF 120", "€1.250,00", "$5k"), or a sign, code or name after ("89,99 €", "75
# dollars", "60 quid"). money_value reads the figure as the writer meant it.
# Thousands grouped by commas, points, apostrophes or a space ("5 000", as much of Europe writes).
# The plain run of digits is possessive: nothing that may follow a figure is a digit, so giving
# digits back cannot help, and a long run of them would be backtracked through one by one.
_FIGURE = r"\d{1,3}(?:[,.']\d{3})+(?:[.,]\d{1,2})?|\d{1,3}(?: \d{3})+(?:[.,]\d{1,2})?|\d++(?:[.,]\d{1,2})?"
_CODES = "USD|EUR|GBP|CHF|JPY|CAD|AUD|NZD|INR|SEK|NOK|DKK|PLN|CNY|HKD|SGD|ZAR|MXN|BRL|AED"
MONEY = re.compile(
    rf"(?:(?:R|A|C|NZ|HK|S|US)?\$|[£€¥₹₩₽₺₪₱]|\b(?:{_CODES})\s?)\s?(?P<a>{_FIGURE})(?P<ka>\s?(?:k|K|thousand|grand)\b)?"
    rf"|(?<![\d,.])(?<!\d )\b(?P<b>{_FIGURE})(?P<kb>\s?(?:k|K|thousand|grand))?\s?(?:(?:dollars|euros?|pounds|quid|bucks|"
    rf"francs|yen|rupees|kronor|kroner|{_CODES})\b|[£€¥₹])",
    re.I,
)
# An amount's first digit comes at most five characters after its start ("NZ$ 5", "USD  5").
_LEAD = 5


def money_in(text: str) -> Iterator[re.Match[str]]:
    """Every amount of money in `text`, as `MONEY.finditer` finds them. Each has a run of digits
    that begins within a few characters of its start, so the pattern is tried only there: a
    long text costs one pass for digits, not a try of the whole pattern at every position."""
    starts = {s for d in digit_runs(text) for s in range(max(0, d - _LEAD), d + 1)}
    return matches_at(MONEY, text, sorted(starts))


_PAID = re.compile(
    r"\b(?:paid|pay|paying|cost|costs|charged|charge|charging|billed|bill|price|priced|spent|bought|"
    r"purchased|overcharged|total|worth|fee|fees|lost|owed|deducted|debited|taken|withdrawn|"
    r"out of pocket|cost me|"
    # Money that left the customer or is theirs to have back.
    r"(?:came|went|gone|taken) out|(?:from|out of) (?:my|our) (?:account|card|bank)|deposit|"
    r"(?:my|our) (?:credit|account) balance|waiting for (?:my|our)|owe[sd]? (?:me|us))\b"
    r"|\b(?:want|need|get|give me) (?:my|our|all (?:my|our)) [^!?\n]{0,20}?\bback\b"
    r"|\b(?:my|our) \S+ refund\b",  # "my £64.99 refund": money the customer is owed
    re.I,
)
# "I'll pay you 3 500 €" promises money rather than telling what was paid: an email that says
# it is asking for a reply that says it.
_PROMISED = re.compile(
    r"\b(?:i|we)(?:'ll|’ll| will| shall| am going to| are going to) (?:\w+ )?(?:pay|refund|send|give|credit|transfer)\b",
    re.I,
)


def money_value(match: re.Match[str]) -> float:
    figure = match.group("a") or match.group("b")
    value = _figure(figure)
    if match.group("ka") or match.group("kb"):
        value *= 1000
    return round(value, 2)


def _figure(figure: str) -> float:
    """ "1,250.00", "1.250,00", "89,99" and "5.000" as their writers meant them: where both marks
    appear the last is the decimal point; a lone mark before exactly three digits groups them."""
    figure = figure.replace("'", "").replace(" ", "")
    marks = [c for c in figure if c in ",."]
    if not marks:
        return float(figure)
    last = figure.rfind(marks[-1])
    decimals = len(figure) - last - 1
    if len(set(marks)) == 2 or (len(marks) == 1 and decimals != 3):
        whole, point = figure[:last], figure[last + 1 :]
        return float(re.sub(r"[,.]", "", whole) + "." + point)
    return float(re.sub(r"[,.]", "", figure))


_TWICE = re.compile(r"\b(?:twice|two times|double[- ]charged|charged (?:me )?double)\b", re.I)


def amounts_in(text: str) -> frozenset[float]:
    """Amounts the customer says they paid, were charged or lost, and their sum: refunding those
    is within policy. Any other amount in an email (an injected "authorise a $5,000 refund")
    allows nothing."""
    ends = sentence_ends(text)
    allowed = set()
    for m in money_in(text):
        k = bisect.bisect_left(ends, m.start())
        begin = ends[k - 1] + 1 if k else 0
        end = ends[bisect.bisect_left(ends, m.end())] if ends and ends[-1] >= m.end() else len(text)
        if _PAID.search(text, begin, end) and not _PROMISED.search(text, begin, end):
            allowed.add(money_value(m))
            if _TWICE.search(text, begin, end):
                allowed.add(round(2 * money_value(m), 2))  # "charged $75 twice": $150 is theirs
    if len(allowed) > 1:
        allowed.add(round(sum(allowed), 2))
    return frozenset(allowed)
