"""Reading the situation: what an email says beyond its category, in the customer's own words.

Every field is read from the text and holds only what it supports: a reply built on it says
nothing the customer did not (no parcel where none was sent, no "you asked us to cancel" when we
cancelled). Patterns here are about how people write to any company, not about one shop."""

from __future__ import annotations

import re

from ..intake.facts import NOT_A_PRODUCT, ORDER, PRODUCT_NOUNS, amounts_in, money_in, money_value
from ..models import About, Category, Classification, Email, Signal, Situation

_I = re.IGNORECASE

# What an email can be about, each with the words that name it. The one named nearest to the
# words that decided the category is what the complaint is about.
_ABOUT: list[tuple[About, re.Pattern[str]]] = [
    (
        "flight",
        re.compile(
            r"\b(?:flights?|flew|fly|flying|plane|aircraft|layover|connection|gate|boarding|departure|landed|pilot|seat \d+[a-f]|\d+[a-f] seat|on board)\b",
            _I,
        ),
    ),
    (
        "bag",
        re.compile(
            r"\b(?:luggage|baggage|bags?|suitcases?|carry-?on|check(?:ed)? bag|stroller)\b", _I
        ),
    ),
    (
        "booking",
        re.compile(
            r"\b(?:bookings?|reservations?|booked|tickets?|itinerary|check-?in|hotel room|room)\b",
            _I,
        ),
    ),
    (
        "bill",
        re.compile(
            r"\b(?:bills?|billed|billing|invoices?|charged?|charges|overcharged|statement|direct debit|payment)\b",
            _I,
        ),
    ),
    (
        "subscription",
        re.compile(
            r"\b(?:subscriptions?|subscribed|membership|plan|renewal|renewed|auto-?renew\w*|premium|trial)\b",
            _I,
        ),
    ),
    (
        "account",
        re.compile(
            r"\b(?:account|log ?in|login|logged|sign ?in|password|2fa|verification code|locked out|username|profile)\b",
            _I,
        ),
    ),
    (
        "parcel",
        re.compile(
            r"\b(?:parcels?|packages?|deliver(?:y|ies|ed)|courier|shipping|shipped|shipment|tracking|dispatch(?:ed)?|postman|post office)\b",
            _I,
        ),
    ),
    (
        "device",
        re.compile(
            r"\b(?:router|modem|handset|phone|laptop|console|tablet|tv|set-?top box|device|sim|printer)\b",
            _I,
        ),
    ),
    (
        "service",
        re.compile(
            r"\b(?:internet|wi-?fi|broadband|signal|connection|outage|network|service|app|website|site|server|sync|download|update|software|game)\b",
            _I,
        ),
    ),
    (
        "staff",
        re.compile(
            r"\b(?:staff|agent|employee|crew|attendant|driver|cashier|manager|representative|rep|rude|spoke to|speaking to)\b",
            _I,
        ),
    ),
    ("order", re.compile(r"\b(?:orders?|ordered|purchase[ds]?|bought)\b", _I)),
]
# Words for something sent to the customer; a shipment adds how it travels and arrives.
_SENT = (
    r"parcels?|packages?|couriers?|deliver(?:y|ies|ed)|shipping|shipped|shipment|tracking|"
    r"dispatch(?:ed)?|postman"
)
_SHIPMENT = re.compile(
    rf"\b(?:{_SENT}|post office|ups|fedex|dhl|usps|royal mail|hermes|evri|arrived|"
    r"arrive|hasn.?t arrived|never came|in the post|on my doorstep|left at)\b",
    _I,
)
# A journey that ran late: the labelling guide's poor service ("flight delays belong to
# poor_service unless it is about a parcel"), answered with delay care, not a courier's excuse.
_JOURNEY = (
    r"(?:flights?|planes?|aircraft|airports?|airlines?|fly|flying|flew|departures?|take-?off|"
    r"boarding|trains?|bus|coach|ferry|connections?|layover|tarmac|pilots?|crew|"
    r"(?-i:[A-Z]{2}) ?\d{2,4}|#?(?-i:[A-Z]{3}))"  # a flight number ("AA 1311"), an airport code
)
_LATE = r"(?:delay\w*|late|behind schedule|hours? (?:wait|on the tarmac)|sat on the tarmac)"
# A slow answer is poor service too: "sorry for the delay in our reply".
_SLOW_ANSWER = (
    r"|\bdelay\w* (?:in|with|to) (?:your |our |my |the |a )?(?:reply|replies|response|answer)\b"
)
_JOURNEY_DELAY = re.compile(
    rf"\b{_JOURNEY}\b[^.!?\n]{{0,60}}?\b{_LATE}\b|\b{_LATE}\b[^.!?\n]{{0,40}}?\b{_JOURNEY}\b"
    + _SLOW_ANSWER,
    _I,
)
# Something sent: a parcel or order, or a checked bag (a delayed bag is a missing bag's matter).
_PARCEL = re.compile(rf"\b(?:{_SENT}|orders?|bags?|baggage|luggage|suitcases?)\b", _I)


_DELAY = re.compile(r"\bdelay(?:s|ed)?\b", _I)


def journey_delay(text: str) -> str | None:
    """The words saying a flight, train or other journey ran late (or an answer was slow), when
    no parcel is in it. A bare "delay" with no parcel, order or delivery named is a journey's too:
    a late parcel is named ("my order", "the delivery"), and of the training complaints whose
    delay words named nothing, nearly all were late flights."""
    if _PARCEL.search(text):
        return None
    found = _JOURNEY_DELAY.search(text) or _DELAY.search(text)
    return found.group(0) if found else None


_NOW = re.compile(
    r"\b(?:right now|on board|onboard|"
    r"(?:i.?m|i am|we.?re|we are|still|now|sitting|waiting|standing|stuck) at the (?:airport|gate|terminal|desk|counter|station)|"
    r"stranded|stuck (?:at|in|on)|tonight|as we speak|currently (?:at|on|in|sitting|stuck|waiting)|"
    r"just (?:took|taken|charged|cancell?ed|landed|been charged|emptied|drained)|"
    r"(?:is|are) (?:happening|going on) now|now,? (?:please|asap)|immediately|emergency|"
    r"(?:help|needs? (?:help|a doctor)) (?:us |me |him |her )?now|nowhere to (?:sleep|stay)|sitting on the (?:plane|tarmac)|in the air|mid-?flight|"
    r"(?:no|without) (?:power|electricity|heating|heat|hot water|running water|water|gas) (?:since|for (?:\d+|two|three|several|many) (?:hours|days)))\b",
    _I,
)
_DANGER = re.compile(
    r"\b(?:hurt|injur\w*|burn(?:ed|t|s|ing)?|sparked|sparks|sparking|on fire|caught fire|fire|"
    r"smok(?:e|ing)|bleed\w*|blood|hospital\w*|a&e|allergic reaction|anaphyla\w*|chok\w*|"
    r"in pain|moaning|unconscious|collapsed|electric shock|shocked me|scorched|melted|"
    r"exploded|dangerous|unsafe|medical|ambulance|paramedic|poison\w*|sick|vomit\w*|ill|"
    r"oxygen|life support|dialysis|ventilator|carbon monoxide|gas leak|smell(?:s)? of gas|live wires?|exposed wires?)\b",
    _I,
)
_DEATH = re.compile(
    r"\b(?:passed away|died|death|funeral|bereave\w*|deceased|late (?:husband|wife|mother|father|"
    r"mum|mom|dad|son|daughter))\b",
    _I,
)
_MISSED_VISIT = re.compile(
    r"\b(?:engineers?|technicians?|installers?|fitters?|plumbers?|electricians?|surveyors?|"
    r"driver|courier)\b[^.!?\n]{0,40}\b(?:never (?:came|showed|turned up|arrived)|"
    r"didn.?t (?:come|show|turn up)|did not (?:come|show|turn up)|"
    r"(?:nobody|no one|no-one) (?:came|showed up|turned up))\b|"
    r"\bmissed (?:the |my |our |another |a )?(?:appointment|install\w*|visit)\b|"
    r"\bno[- ]shows?\b",
    _I,
)
# How someone of ours behaved, not what the service lacked: in the training corpus two in three
# poor-service complaints name no one's manner (a queue, a delay, no entertainment on board),
# and "I'm sorry we treated you that way" does not fit them.
_STAFF_CONDUCT = re.compile(
    r"\b(?:rude(?:ly|ness)?|attitude|unprofessional|condescending|dismissive|disrespect\w*|"
    r"patroni[sz]\w*|belittl\w*|insult\w*|abusive|aggressive(?:ly)?|hostile|sarcastic\w*|smirk\w*|"
    r"scold\w*|threaten(?:ed|ing) (?:me|us)|shov(?:ed|ing)|pushed (?:me|us|past)|"
    r"incompeten\w*|(?:bad|useless|clueless) (?:reps?|agents?|staff)|"
    r"eye[- ]?roll\w*|roll(?:ed|ing) (?:her|his|their) eyes|(?:yell|shout|scream|snapp?)(?:ed|ing) at|swore at|laugh(?:ed|ing) at|"
    r"talk(?:ed|ing|s) down|spoke to (?:me|us|my \w+) like|hung up on|hang up on|"
    r"ignored (?:me|us|my)|treated (?:me|us|my \w+)|made (?:me|us|my \w+) feel|"
    r"embarrass\w*|humiliat\w*|accus(?:ed|ing) (?:me|us|my)|refused to (?:help|serve|listen)|"
    r"(?:couldn.?t|could not) (?:have )?care(?:d)? less|didn.?t (?:even )?care)\b",
    _I,
)
_TRIED = re.compile(
    r"\b(?:i(?:'ve| have)?|we(?:'ve| have)?)\s+(?:already\s+|also\s+|even\s+)?"
    r"(?:tried (?:\w+ing\b|everything|all the|(?:the|your) (?:\w+ )?(?:steps|troubleshooting|fixes|instructions|suggestions|guide))|restarted|reset|rebooted|reinstalled|re-?installed|uninstalled|cleared|"
    r"followed|unplugged|turned (?:it|the \w+) off and on|turned (?:it|the \w+) off|updated|"
    r"changed my password|power cycled)\b[^.!?\n,;]*",
    _I,
)
# "By 3pm", "before 9am tomorrow", "at 3pm tomorrow": a time ahead. "We arrived at 11pm" is not.
_DEADLINE = re.compile(
    r"\b(?:by|before) \d{1,2}(?::\d{2})?\s*(?:am|pm)(?: (?:tomorrow|today|tonight|on \w+day))?\b"
    r"|\bat \d{1,2}(?::\d{2})?\s*(?:am|pm) (?:tomorrow|today|tonight|on \w+day)\b"
    r"|\b(?:by|before|until|no later than)\s+(?:(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2}|"
    r"noon|midnight|tonight|tomorrow(?: morning| night| evening)?|the weekend|end of (?:the )?(?:day|week)|"
    r"(?:this |next )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"(?:my|the|our) (?:flight|trip|wedding|holiday|vacation|birthday|party|event|meeting|demo|"
    r"presentation|exam|interview|move|departure|check-?out)(?: on \w+| at \d{1,2}(?::\d{2})?\s*(?:am|pm)?)?))",
    _I,
)
# A direct question: one the customer wants answered, not a rhetorical one.
_QUESTION_START = re.compile(
    r"^(?:how|what|when|where|why|who|which|whom|whose|can|could|will|would|is|are|am|do|does|"
    r"did|should|shall|may|have|has|any(?:one|body)?|is there)\b",
    _I,
)
_QUESTION_CLAUSE = re.compile(r"[,;:]\s+|\s+(?:and|but|so)\s+", _I)
_NEGATED_START = re.compile(r"^\w+(?:n['’]t| not)\b", _I)
_RHETORICAL = re.compile(
    r"\b(?:guess what|are you (?:kidding|serious|joking)|seriously|how about|how hard|how difficult|"
    r"what kind of|what the|who does that|why would (?:i|anyone)|how is this (?:acceptable|ok)|"
    r"is this a joke|really|why bother|what.s the point|do you even|does anyone (?:care|even)|"
    r"how (?:dare|can you (?:live|sleep))|are you (?:even|people)|how many (?:more|people|times|hours)|"
    r"which one of you|have no rights|why is it so hard)\b",
    _I,
)
# "Can you sort it out?" asks for the remedy, which the reply gives.
_ASKS_FOR_REMEDY = re.compile(
    r"^(?:can|could|will|would) (?:you|someone|somebody|anyone|one of you)(?: guys)? (?:please )?"
    r"(?:sort|fix|help|refund|replace|resolve|look into|cancel|deal with|put (?:it|this|that) right|"
    r"make (?:it|this|that) right|do something|sort out|get (?:it|this|that) sorted|"
    r"send (?:me )?(?:a |another |the right )?(?:replacement|new one)|give me (?:my|a) (?:money|refund)|"
    r"swap|exchange|replace|send (?:it|them|those|the rest|what.s missing))\b",
    _I,
)
_THANKS = re.compile(
    r"\b(?:thank you|thanks|thx|kudos|shout[- ]?out|great job|well done|love (?:it|your|the)|"
    r"appreciate\w*|amazing service|excellent service|brilliant|above and beyond|"
    # Praise in the words people tweet it: "you rock", "props to pilot Justin", "pls recognize".
    r"(?:you|you guys|y'all) rock|(?:you're|you are|you guys are) the best|props to|recogni[sz]e|"
    r"praise|commend|congrat\w*|impressed|incredible|phenomenal|awesome|fantastic|superb|"
    r"outstanding|credit to your|nice things|"
    r"best \w+ ever|(?:great|wonderful|lovely|friendly|helpful|excellent) "
    r"(?:crew|staff|team|service|pilot|agent|people|job|work|flight|experience))\b",
    _I,
)
# Thanks said in so many words: "just wanted to say thanks to the driver", "please pass it on".
_THANKS_SAID = re.compile(
    r"\b(?:(?:just )?(?:wanted|want|writing|write) to (?:say )?(?:a (?:big |huge )?)?(?:thank|thanks)|"
    r"thank you (?:so much |very much )?(?:to|for)|thanks (?:so much |very much )?(?:to|for)|"
    r"pass (?:it|this|that|my thanks|on my thanks) on|compliments? to)\b",
    _I,
)
# Thanks for a harm is sarcasm: "thanks for cancelling my flight", "thanks for nothing".
# "thanks to @name for", with the handle gone as the corpus's tweets have it: "thanks to for".
_THANKS_FOR = (
    r"\b(?:thank you|thanks|thx)(?: to(?: \w+)?)?(?: (?:so|very) much| a lot| again)? for (?:\w+ )?"
)
_SARCASTIC_THANKS = re.compile(
    _THANKS_FOR
    + r"(?:cancell?ing|double[- ]?charging|overcharging|losing|loosing|breaking|ruining|"
    r"delaying|wasting|ignoring|damaging|stranding|misplacing|forgetting|bumping|leaving me|"
    r"making me|putting me|keeping me|sending me the wrong|nothing|"
    # Thanks for the time it took: "thanks for taking 3 weeks to install my internet".
    r"taking (?:\w+ ){0,3}(?:minutes|hours|days|weeks|months|years|ages|forever|so long)|"
    r"(?:the )?(?:\w+ )?(?:hour|day|week|month)s?(?: long)? wait)\b",
    _I,
)
# Complaint words that also turn up in praise ("soaked and still smiling", "no trouble at all").
_WEAK_COMPLAINT = {"still", "no", "not", "never", "down"}
_NOT_YET = {"not", "no", "hasn't", "hasn’t", "haven't", "haven’t", "isn't", "isn’t"}
_COMPLAINT = re.compile(
    r"\b(?:not|never|no|still|wrong|broken|late|delay\w*|missing|lost|cancell?ed|refund|"
    r"charged|overcharged|rude|terrible|awful|worst|problem|issue|complain\w*|disappoint\w*|"
    r"unhappy|angry|furious|fail\w*|error|can.?t|won.?t|didn.?t|doesn.?t|isn.?t|hasn.?t|"
    r"haven.?t|waiting|ridiculous|unacceptable|damaged|faulty|down|outage|stopped|disgust\w*|"
    r"poor|bad|horrible|shocking|useless|nightmare|sucks?|gone|deleted|disappeared|crash\w*|"
    r"lost|nobody|no one|rude)\b",
    _I,
)
_REQUEST = re.compile(
    r"\b(?:change|update|correct) (?:my|the) (?:delivery |shipping |billing |email |home )?"
    r"(?:address|email|phone number|name|payment method|card)\b",
    _I,
)
# Who did it: the company ("you cancelled my flight") or the customer ("I asked to cancel").
_COMPANY_ACTED = re.compile(
    r"\b(?:you|you guys|they|your (?:airline|company|team|staff|system)|[A-Z][a-z]+ (?:just )?has)\s+"
    r"(?:just\s+|have\s+|'ve\s+|has\s+|then\s+|simply\s+)?(?:cancell?ed|changed|moved|rescheduled|"
    r"overbooked|bumped|downgraded|cut off|disconnected|suspended|closed|blocked|deleted|removed|gave away|"
    r"charged|took|lost|sent|delayed)\b"
    # Thanks for a cancellation is sarcasm about ours ("thanks for cancelling my flight"), and
    # "why did you cancel my order" asks about one we made.
    r"|"
    + _THANKS_FOR
    + r"(?:cancell?ing|changing|moving|rescheduling|bumping|downgrading|closing|suspending|deleting)\s+(?:my|our)\b"
    r"|\b(?:why|how) (?:did|could|would|have|has) (?:you|they|your \w+) (?:just )?"
    r"(?:cancell?(?:ed)?|change[d]?|move[d]?|close[d]?|suspend(?:ed)?|delete[d]?)\s+(?:my|our)\b"
    r"|\b(?:my|our|the) (?:flight|booking|order|account|line|service|reservation|subscription|"
    r"connection|leg|seat|room|table)\b[^.!?\n]{0,40}\b(?:was|got|has been|were|have been) (?:cancell?ed|changed|"
    r"moved|suspended|closed|blocked|deleted|disconnected|cut off|given (?:away|to (?:someone|somebody) else))\b"
    # A flight is cancelled by the airline: "Cancelled flight, no communication", "delayed all
    # day then cancelled". A customer cancels a booking, and says so ("I cancelled my flight"
    # names them first, and the earlier actor wins).
    r"|\bcancell?ed (?:my |our |the |a |\d+ |two |three )?(?:(?:connecting|return|outbound|morning|evening|\w+bound) )?(?:flights?|connections?|legs?)\b"
    r"|\bflights?\b[^.!?\n]{0,60}?\b(?:then|and|now|just|also|again|was|were|got|has been|have been|is being)"
    r"\s+(?:got\s+|just\s+)?(?:cancell?ed|rescheduled|retimed)\b",
    _I,
)
# The customer's own request: asked, wanted or tried, in a question ("could you cancel", "is it
# possible to cancel"), an instruction ("Cancel order 4471 please") or done themselves.
_CHANGE = r"(?:cancel|change|amend|modify|stop|close|end|pause|move)\b"
_DID_IT = r"\b(?:i|we)(?:\s+(?:have|had|already|just)|\s*'ve)*\s+(?:cancell?ed|changed|amended)\b"
_CUSTOMER_ASKED = re.compile(
    "|".join(
        [
            r"\b(?:i|we)(?:\s+(?:have|had|am|was|been|would|really|just|still|also|only)|\s*'(?:ve|m|d))*"
            r"\s+(?:asked|requested|wanted|want|wish|tried|trying|need|needed|like|called|rang|"
            r"phoned|emailed)\s+(?:(?:you|them|someone)\s+)?(?:to\s+)?" + _CHANGE,
            r"(?:\band|\bbut|\bso|\bjust|\breally|,) (?:would like|want|wish|need) to " + _CHANGE,
            r"\b(?:please|pls|plz|kindly)\s+(?:(?:could|can) you\s+)?" + _CHANGE,
            r"\b(?:can|could|may|would|will) (?:i|we|you|someone)\s+(?:please\s+|just\s+|still\s+)?"
            + _CHANGE,
            r"\bhow (?:do|can|could|would|should) (?:i|we) " + _CHANGE,
            r"\b(?:is it|is there a way|would it be) possible to " + _CHANGE,
            r"\b(?:(?:could|can) (?:it|this|that|(?:my|our|the) \w+)|(?:my|our|the) \w+ (?:could|can))"
            r" be (?:cancell?ed|changed|moved|amended)\b",
            r"(?:^|[.!?]\s+|subject:\s*)(?:cancel|change|amend) (?:my|our|the|this|order|it)\b",
            r"^\W*(?:hi\W+)?trying to (?:cancel|change)\b",
            # Not "I'm cancelling": as often a threat ("or I'm cancelling the lot") as a request.
            _DID_IT,
        ]
    ),
    _I | re.M,
)
# The customer made the change themselves ("yes I changed it, but you still cancelled it").
CHANGED_IT_THEMSELVES = re.compile(_DID_IT, _I)
_NOT_ORDER = re.compile(
    r"\b(?:police|crime|case|ticket|incident|complaint|claim|report|reference from|ref from)\b[^.!?\n]{0,20}$",
    _I,
)
# A sentence runs to . ! ? or a line break; a point inside a figure ("£34.50") does not end it.
_SENTENCES = re.compile(r"(?:[^.!?\n]|[.](?=\d))+[.!?]*")
_FIRST_PERSON = [
    (re.compile(p if p.startswith(r"\bI") else f"(?i:{p})"), second)
    for p, second in [
        (r"\bI'm\b", "you're"),
        (r"\bI am\b", "you are"),
        (r"\bI've\b", "you've"),
        (r"\bI have\b", "you have"),
        (r"\bI was\b", "you were"),
        (r"\bI\b", "you"),
        (r"\bmy\b", "your"),
        (r"\bme\b", "you"),
        (r"\bmine\b", "yours"),
        (r"\bmyself\b", "yourself"),
        (r"\bwe're\b", "you're"),
        (r"\bwe\b", "you"),
        (r"\bour\b", "your"),
        (r"\bus\b", "you"),
    ]
]
_WHAT_HAPPENED_TO_ME = re.compile(
    r"i(?:'ve| have| was| am|'m| got)? (?:been |just |still |now )*(?:charged|overcharged|double[- ]charged|"
    r"billed|locked|lost|received|got|can't|cannot|never|didn't|haven't|hurt|stranded|stuck|left)\b",
    _I,
)
# A clause that names its subject: "it doesn't heat" says less than "your kettle stopped working",
# and "we" may be the customer's household or the company.
_PROBLEM_START = re.compile(r"^(?:my|the|both|one|half|all|i)\b", _I)
_CLAUSE_BREAK = re.compile(
    r"\s+(?:but|and then|so|because|however|yet)\s+|[;:,]\s+|\s+-+\s+"
    r"|\s+and\s+(?=(?:nobody|no one|now|then|still|nothing)\b)",
    _I,
)
# A finite verb, roughly: an auxiliary, a past form or a present third person after the subject.
_VERB = re.compile(
    r"\b(?:is|are|was|were|am|be|been|has|have|had|did|does|do|got|gets|keeps|kept|came|went|"
    r"broke|took|left|sent|made|said|told|can|could|will|would|won.?t|can.?t|cannot|\w+n.?t|\w+ed)\b"
    r"|^(?:my|the|one|i) \w+ \w+s\b",
    _I,
)
# The learned model's own guess below an even chance is not a category to write a script for.
_MODEL_SURE = 0.5


# How much of an email the situation reader and the learned model read: a complaint runs to a
# few thousand characters; what lies past this is a pasted log or an attack, and reading it would
# cost seconds and tell nothing. The hand cues, which are cheap, read it all.
READ_LIMIT = 20_000


def read_situation(email: Email, classification: Classification) -> Situation:
    text = "\n".join(filter(None, [email.subject, email.body]))[:READ_LIMIT]
    body = email.body[:READ_LIMIT]
    anchor = _anchor(text, classification)
    questions = _questions(body)
    return Situation(
        kind=_kind(text, classification, questions),
        about=_about(text, anchor),
        actor=_actor(text),
        questions=questions,
        happening_now=bool(_NOW.search(text)),
        danger=bool(_DANGER.search(text))
        or Signal.safety_issue in classification.escalation_signals,
        bereavement=bool(_DEATH.search(text)),
        missed_visit=bool(_MISSED_VISIT.search(text)),
        staff_conduct=bool(_STAFF_CONDUCT.search(text)),
        shipment=bool(_SHIPMENT.search(text)),
        journey_delay=journey_delay(text) is not None,
        tried=list(dict.fromkeys(m.group(0).strip(" ,") for m in _TRIED.finditer(body)))[:3],
        problem=_problem(text, anchor),
        deadline=_deadline(text),
        product=_nearest(text, anchor, classification.facts.products or _bare_products(text)),
        reference=_reference(text),
        amount=_amount(body),
        uncertain=_uncertain(classification),
    )


def _anchor(text: str, classification: Classification) -> int:
    """Where the words that decided the category stand: what the complaint is about is named
    near them (the first noun of an email is often something else)."""
    for cue in classification.cues:
        if cue.label == classification.category.value and not cue.text.startswith("("):
            at = text.find(cue.text)
            if at >= 0:
                return at
    return 0


_BARE_PRODUCT = re.compile(rf"\b(?:{PRODUCT_NOUNS})\b{NOT_A_PRODUCT}", _I)


def _bare_products(text: str) -> list[str]:
    """Products named without "my" or "the" before them ("chk in my $1k stroller")."""
    return list(dict.fromkeys(m.group(0).lower() for m in _BARE_PRODUCT.finditer(text)))


def _nearest(text: str, anchor: int, names: list[str]) -> str | None:
    found = [
        (abs(m.start() - anchor), name)
        for name in names
        for m in re.finditer(rf"\b{re.escape(name)}", text, _I)
    ]
    return min(found)[1] if found else None


def _about(text: str, anchor: int) -> About:
    found = [
        (abs(m.start() - anchor), rank, about)
        for rank, (about, pattern) in enumerate(_ABOUT)
        for m in pattern.finditer(text)
    ]
    if not found:
        return "other"
    # Within a sentence's reach of the decisive words, the more specific name wins.
    reach = min(found)[0] + 60
    close = [f for f in found if f[0] <= reach]
    return min(close, key=lambda f: f[1])[2]


def _actor(text: str) -> str:
    company = _COMPANY_ACTED.search(text)
    customer = _CUSTOMER_ASKED.search(text)
    if company and not customer:
        return "company"
    if customer and not company:
        return "customer"
    if company and customer:
        return "company" if company.start() < customer.start() else "customer"
    return "unknown"


def _questions(body: str) -> list[str]:
    asked = []
    for m in _SENTENCES.finditer(body):
        sentence = m.group(0).strip()
        if not sentence.endswith("?"):
            continue
        # "Hi, how do I file a claim?": the question starts after the greeting.
        sentence = re.sub(
            r"^(?:hi|hello|hey|dear \w+|so|ok|okay|and|also|but|please)\b[,:;!\s]*",
            "",
            sentence,
            flags=_I,
        )
        asks = sentence
        if not _QUESTION_START.match(sentence):
            # "I'm on crutches, what's your policy for them?": the question is the last clause,
            # when it asks something whole ("..., what gives?" and "..., can't fix it?" vent).
            # The sentence is kept: what "them" is belongs to the question.
            asks = _QUESTION_CLAUSE.split(sentence)[-1]
            if len(asks.split()) < 4 or _NEGATED_START.match(asks) or len(sentence.split()) > 30:
                continue
        # Past twenty words a "question" is a vent with a question mark on it.
        short = len(asks.split()) <= 20
        if short and _QUESTION_START.match(asks) and not _RHETORICAL.search(sentence):
            asked.append(sentence.rstrip("?").strip() + "?")
    return list(dict.fromkeys(asked))[:4]


def asks_for_remedy(question: str) -> bool:
    """ "Can you sort it out?" asks for what the reply offers anyway; no article answers it."""
    return bool(_ASKS_FOR_REMEDY.match(question))


def _kind(text: str, classification: Classification, questions: list[str]) -> str:
    words = {m.group(0).lower() for m in _COMPLAINT.finditer(text)}
    if (
        _THANKS_SAID.search(text)
        and not _SARCASTIC_THANKS.search(text)
        and words <= _WEAK_COMPLAINT
        and not classification.escalation_signals
    ):
        return "thanks"
    complaint = bool(words) or classification.sentiment in ("angry", "frustrated")
    settled = classification.category not in (Category.other, Category.how_to_or_usage) and (
        not _uncertain(classification)
    )
    # "Please change my address, it hasn't shipped yet": a request, not a complaint.
    if _REQUEST.search(text) and words <= _NOT_YET and not classification.escalation_signals:
        return "request"
    # Thanks for a harm is a complaint however little else it says ("Thanks for wasting my time").
    if complaint or classification.escalation_signals or settled or _SARCASTIC_THANKS.search(text):
        return "complaint"
    if _THANKS.search(text):
        return "thanks"
    if _REQUEST.search(text):
        return "request"
    if questions and _problem(text, 0) is None:
        return "question"
    return "complaint"


def _problem(text: str, anchor: int) -> str | None:
    """The clause holding the decisive words, turned to the second person ("my bag was ripped"
    becomes "your bag was ripped"), when it reads as a statement of the problem; else the first
    clause that does and speaks of something wrong."""
    sentences = list(_SENTENCES.finditer(text))
    at = [m for m in sentences if m.start() <= anchor < m.end()]
    for m in at + sentences:
        sentence = m.group(0)
        offset = anchor - m.start() if m in at else -1
        for part in _CLAUSE_BREAK.split(sentence):
            found = sentence.find(part)
            if offset >= 0 and not found <= offset <= found + len(part):
                continue
            clause = _as_problem(part)
            if clause and (offset >= 0 or _COMPLAINT.search(part)):
                return clause
    return None


def _as_problem(part: str) -> str | None:
    clause = part.strip(" .!?\"'")
    if not 3 <= len(clause.split()) <= 16 or not _PROBLEM_START.match(clause):
        return None
    if not _VERB.search(clause):
        return None  # a headline ("half my order missing") said back reads as broken English
    if re.match(r"i\b", clause, _I) and not _WHAT_HAPPENED_TO_ME.match(clause):
        return None  # "I called customer care when ..." is a story, not the problem
    if re.search(r"\bnever (?:been|had|seen|experienced|felt|known)\b", clause, _I):
        return None  # "I've never been spoken to like that" said back means the opposite
    if "?" in part or re.search(r"\b(?:you|your)\b", clause, _I):
        return None  # about us, or a question: turned round it would garble
    for mark in "'\"":
        if clause.count(mark) % 2 and not re.search(rf"\w{mark}\w", clause):
            clause = clause.replace(mark, "")  # a quote cut in half by the clause's end
    clause = second_person(clause)
    return clause[0].lower() + clause[1:]


def second_person(words: str) -> str:
    """The customer's words as a reply says them back: "my flight" becomes "your flight"."""
    for pattern, second in _FIRST_PERSON:
        words = pattern.sub(second, words)
    return words


def _deadline(text: str) -> str | None:
    found = _DEADLINE.search(text)
    if found is None:
        return None
    # "a demo at 3pm tomorrow" is a deadline: whatever we do must come before it.
    return re.sub(r"^at\b", "before", found.group(0), flags=_I)


def _reference(text: str) -> str | None:
    for m in ORDER.finditer(text):
        ref = m.group("id") or m.group("hash")
        if ref and not _NOT_ORDER.search(text, max(0, m.start() - 30), m.start() + 1):
            return ref
    return None


_DISPUTE = re.compile(
    r"\b(?:overcharged|charged (?:me )?(?:for|twice|again|extra)|double[- ]charged|refund|"
    r"wrong(?:ly)? charged|taken|deducted|paid for)\b",
    _I,
)


def _amount(body: str) -> str | None:
    """The amount in dispute: the one the customer says they paid, were charged or lost, when
    only one is; among several, the only one in a sentence about the dispute; else none (naming
    the wrong one is worse than naming none)."""
    paid = amounts_in(body)
    named = [m for m in money_in(body) if money_value(m) in paid]
    if len({money_value(m) for m in named}) == 1:
        return named[0].group(0)
    for sentence in _SENTENCES.finditer(body):
        inside = [m for m in named if sentence.start() <= m.start() < sentence.end()]
        if len(inside) == 1 and _DISPUTE.search(sentence.group(0)):
            return inside[0].group(0)
    return None


def _uncertain(classification: Classification) -> str | None:
    """A category no cue named, guessed by the learned model at less than an even chance."""
    guessed = any(
        c.label == classification.category.value and c.text.startswith("(learned model")
        for c in classification.cues
    )
    if guessed and classification.confidence < _MODEL_SURE:
        return (
            f"No cue named the category; the learned model guessed {classification.category.value} "
            f"at {classification.confidence:.0%}."
        )
    return None
