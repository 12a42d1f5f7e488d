"""Commitments: every action a reply claims as done or promises, found in the text itself.

Offline drafts, LLM drafts and anything an agent writes are read the same way, so nothing a reply
commits to reaches a customer without the agent confirming it. The reading favours recall: a
sentence wrongly listed costs the agent a tick; a promise missed costs the customer."""

from __future__ import annotations

import re

from .models import Action, Commitment

_I = re.IGNORECASE

# The verbs of action, each with the remedy it is. Stems take any ending: refund, refunded,
# refunding. Order matters: the first that fits names the action.
_VERBS: list[tuple[Action, str]] = [
    (
        "refund",
        r"refund\w*|reimburs\w*|revers\w*|paid (?:you )?back|pay(?:ing)? you back|credit(?:ed|ing)? (?:it |the \w+ )?back",
    ),
    ("replace", r"replac\w*|swap\w*|exchang\w*"),
    ("reship", r"reship\w*|resen[dt]\w*|re-?dispatch\w*"),
    (
        "rebook",
        r"rebook\w*|re-?book\w*|booked you|book(?:ing)? you|put you on|moved you|protected you on",
    ),
    (
        "credit",
        r"credit\w*|add(?:ed|ing)? (?:a|an) [^.,;]{0,30}(?:credit|voucher|discount)|appl(?:y|ied|ying) (?:a|an) [^.,;]{0,30}(?:credit|discount)|waiv\w*|upgrad\w*",
    ),
    ("callback", r"call(?:ed|ing)? you|ring(?:ing)? you|rang you|phon\w* you"),
    (
        "escalate",
        r"escalat\w*|pass(?:ed|ing)? (?:this|it|your \w+|your case|this case)\b|shar(?:ed|ing|e) your \w+|forward\w*|rais(?:ed|ing|e) (?:this|it)|report(?:ed|ing)? (?:this|it)",
    ),
    (
        "compensate",
        r"compensat\w*|pay(?:ing)? (?:you|for)|paid (?:you|for)|cover(?:ed|ing)? (?:the|your|it|any)",
    ),
    (
        "investigate",
        r"investigat\w*|look(?:ed|ing)? into|check(?:ed|ing)? (?:the|your|how|why|every|each|what|with|that)|review(?:ed|ing)?|ask(?:ed|ing)? our \w+ (?:team|lead)",
    ),
    ("cancel", r"cancel\w*|clos(?:ed|ing)? (?:your|the) (?:account|order|booking)"),
    (
        "fix",
        r"fix\w*|restor\w*|reconnect\w*|repair\w*|unlock\w*|reset\w*|resolv\w*|sort(?:ed|ing)? (?:it|this|that)|put (?:it|this|that) right|reactivat\w*",
    ),
    (
        "send",
        r"sen[dt]\w*|email(?:ed|ing)? you (?:a|an|the)|post(?:ed|ing)? (?:you )?(?:a|the)|dispatch\w*|ship(?:ped|ping)? (?:you|a|the|it)",
    ),
    (
        "contact",
        r"email(?:ed|ing)? you|writ(?:e|ing) (?:back|to you)|get(?:ting)? back to you|updat(?:e|ing) you|contact(?:ing)? you|be in touch|confirm\w*|keep (?:you|an eye)|follow(?:ing)? (?:it |this )?up|check(?:ing)? (?:back|in) (?:with you)?",
    ),
    (
        "other",
        r"arrang\w*|set(?:ting)? up|made the change|ma(?:de|king) (?:sure|the change)|process\w*|issu\w*|organis\w*|organiz\w*|handl\w*",
    ),
]
_VERB = re.compile("|".join(f"(?P<{action}>{verbs})" for action, verbs in _VERBS), _I)
# Who commits and how: "I've", "we will", "I'm going to", "I can", "I'll personally".
_SUBJECT = re.compile(
    r"\b(?P<who>I|we|our team|my colleague|someone)\s*"
    r"(?P<aux>'ve|'ll|'m|'re|'d| have| has| will| shall| am| are| can| just| already|)"
    r"(?:\s+(?:also|already|just|personally|now|then|gone ahead and|going to|be|been|now))*\s+",
    _I,
)
# A thing that moves without a named doer: "a replacement leaves today", "your refund goes out".
_IMPERSONAL = re.compile(
    r"\b(?:your|the|a|an)\s+(?:new\s+|full\s+)?(?P<thing>refund|replacement|credit|engineer|technician|"
    r"new one|voucher|tracking number|confirmation)\s+"
    r"(?P<how>leaves|goes out|is on its way|will (?:arrive|reach|be|go|leave|visit|come)|"
    r"has been (?:sent|issued|processed|added|applied|booked|arranged)|is (?:booked|arranged|"
    r"scheduled|being processed)|reaches|arrives)\b",
    _I,
)
_THINGS: dict[str, Action] = {
    "refund": "refund",
    "replacement": "replace",
    "new one": "replace",
    "credit": "credit",
    "voucher": "credit",
    "engineer": "fix",
    "technician": "fix",
    "tracking number": "send",
    "confirmation": "contact",
}
_NEGATED = re.compile(r"\b(?:not|never|n't|cannot|can't|won't|unable)\b", _I)
_DONE_AUX = {"'ve", "have", "has", "already", "just"}
_WHEN = re.compile(
    r"\b(?:today|tonight|tomorrow(?: morning| afternoon| evening)?|this (?:morning|afternoon|"
    r"evening|week)|straight away|right away|immediately|as soon as [^,.;]{3,40}|"
    r"within (?:the (?:next|hour)|an hour|a day|[\w ]{1,20}?(?:minutes|hours?|days?|weeks?))|"
    r"in the next (?:few |\d+ )?(?:minutes|hours?)|by (?:the end of (?:the )?(?:day|week)|"
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|tomorrow|tonight|noon|"
    r"\d{1,2}(?::\d{2})?\s*(?:am|pm))|on the \d{1,2}[:.]\d{2}|at \d{1,2}[:.]\d{2}|now)\b",
    _I,
)
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.](?=\d))+(?:[.!?]+|$)")
# "the way we put this right", "how we handle this": a description, not a commitment.
_DESCRIBED = re.compile(
    r"\b(?:how|way|what|whether|if|when|why|once|sorry|sorry that|regret that|apologi[sz]e that|"
    r"because|since|after|before)\s*$",
    re.I,
)
_QUOTED = re.compile(r"^\s*>")


def find_commitments(reply: str) -> list[Commitment]:
    """Every action `reply` claims as done or promises, one per clause, in order."""
    found: list[Commitment] = []
    for m in _SENTENCE.finditer(reply):
        line_start = reply.rfind("\n", 0, m.start()) + 1
        if _QUOTED.match(reply, line_start) or m.group(0).rstrip().endswith("?"):
            continue  # the customer's words quoted back, or an offer asked as a question
        found.extend(_in_sentence(reply, m.start(), m.end()))
    return found


def _in_sentence(reply: str, start: int, end: int) -> list[Commitment]:
    sentence = reply[start:end]
    clauses: list[tuple[int, Action, bool]] = []
    for subject in _SUBJECT.finditer(sentence):
        verb = _VERB.match(sentence, subject.end())
        if verb is None:
            continue
        if _DESCRIBED.search(sentence, 0, subject.start()):
            continue
        between = sentence[subject.start() : verb.start()]
        if _NEGATED.search(between) or subject.group("aux").strip().lower() == "'d":
            continue
        aux = subject.group("aux").strip().lower()
        words = between.lower()
        done = (aux in _DONE_AUX or " already " in f" {words} " or " just " in f" {words} ") and (
            "going to" not in words
        )
        if not aux and re.match(r"\w+ed\b|sent\b|made\b|put\b|set\b|booked\b", verb.group(0), _I):
            done = True  # "I refunded", "we sent"
        clauses.append((subject.start(), _action(verb), done))
    for thing in _IMPERSONAL.finditer(sentence):
        if not any(abs(at - thing.start()) < 3 for at, _, _ in clauses):
            how = thing.group("how").lower()
            clauses.append(
                (thing.start(), _THINGS[thing.group("thing").lower()], how.startswith("has been"))
            )
    clauses.sort()
    made = []
    for k, (at, action, done) in enumerate(clauses):
        until = clauses[k + 1][0] if k + 1 < len(clauses) else len(sentence)
        text = sentence[at:until].rstrip(" ,;.!")
        text = re.sub(r"\s+(?:and|or|but|so)$", "", text, flags=_I).rstrip(" ,;")
        lead = len(sentence[:at]) - len(sentence[:at].lstrip()) if at == 0 else 0
        begin = start + at + lead
        when = _WHEN.search(text)
        made.append(
            Commitment(
                text=text.strip(),
                start=begin,
                end=begin + len(text.strip()),
                action=action,
                done=done,
                when=when.group(0) if when else None,
            )
        )
    return made


def _action(verb: re.Match[str]) -> Action:
    for name, value in verb.groupdict().items():
        if value:
            return name  # type: ignore[return-value]
    return "other"
