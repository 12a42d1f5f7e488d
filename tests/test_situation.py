"""Reading the situation: what the email says beyond its category, and only what it says."""

from __future__ import annotations

import pytest

import assistant


def _read(text: str) -> assistant.Situation:
    return assistant.classify(text).situation


def test_who_cancelled_is_read_from_the_words() -> None:
    assert _read("You just cancelled the second leg of my flight.").actor == "company"
    assert _read("I asked you to cancel my order two days ago.").actor == "customer"
    # Thanks for a cancellation, or asking why it happened, is about one we made.
    assert (
        _read("Thanks so much for cancelling my flight while I'm in the taxi.").actor == "company"
    )
    assert _read("Why did you cancel my order? I never asked you to.").actor == "company"


@pytest.mark.parametrize(
    "text",
    [
        "Could you cancel the second one? I placed the same order twice.",
        "Subject: Cancel order 4471 please\n\nI ordered the wrong size this morning.",
        "I'd like to change my delivery to every four weeks.",
        "I've moved to Leeds and want to cancel my membership.",
        "Is it possible to cancel a pre-order?",
        "Could my booking be moved to next month? My mother is in hospital.",
        "I've been trying to cancel order 5512 but the website won't let me.",
    ],
)
def test_the_customers_own_request_is_read_as_theirs(text: str) -> None:
    assert _read(text).actor == "customer"


@pytest.mark.parametrize(
    "text",
    [
        "Cancelled flight 5 minutes before take off. Now what?",
        "The restaurant cancelled my order after 40 minutes.",
        "One more revised date and I'm cancelling the lot.",
        "They want to cancel the booking, not me.",
    ],
)
def test_a_cancellation_that_happened_is_no_request_from_the_customer(text: str) -> None:
    reading = assistant.classify(text)
    assert reading.situation.actor != "customer"
    assert reading.desired_outcome != "the order cancelled"


@pytest.mark.parametrize(
    ("text", "actor"),
    [
        # A flight is cancelled by the airline, however the customer puts it.
        ("Flight 3328 from CMH to ORD delayed all day then cancelled.", "company"),
        (
            "flight from Louisville to BWI tonight was cancelled. Can someone get me home?",
            "company",
        ),
        ("Canceled flights with bad communication #fail", "company"),
        ("I cancelled my flight and the refund never came.", "customer"),
        ("If my flight is cancelled tomorrow I'll miss the wedding.", "unknown"),
        ("I had to change like 3 flights and spend 1k on new tickets.", "unknown"),
    ],
)
def test_who_cancelled_a_flight_is_read_from_the_words(text: str, actor: str) -> None:
    assert _read(text).actor == actor


def test_a_cancellation_we_made_is_not_what_the_customer_asks_for() -> None:
    ours = assistant.classify("Thanks for cancelling my order without telling me.")
    assert ours.desired_outcome != "the order cancelled"
    assert assistant.classify("Please cancel my order.").desired_outcome == "the order cancelled"


def test_direct_questions_are_kept_and_rhetorical_ones_are_not() -> None:
    s = _read("My bag was ripped. How do I file a claim? Are you kidding me? Guess what?")
    assert s.questions == ["How do I file a claim?"]


def test_a_question_in_a_sentences_last_clause_is_kept_and_a_vent_is_not() -> None:
    s = _read("My bag was ripped on BA12, how do I file a claim? Two days waiting, what gives?")
    assert s.questions == ["My bag was ripped on BA12, how do I file a claim?"]


def test_happening_now_danger_and_bereavement() -> None:
    now = _read("There is a man in 3A moaning in pain and sweating, on board right now.")
    assert now.happening_now and now.danger
    calm = _read("My order from last month was the wrong colour.")
    assert not calm.happening_now and not calm.danger
    assert _read("My mother passed away and I need to close her account.").bereavement


@pytest.mark.parametrize(
    ("text", "missed"),
    [
        ("I took a day off for the engineer and nobody came.", True),
        ("The technician didn't turn up for the second time.", True),
        ("You missed my installation appointment on Monday.", True),
        ("The engineer came on time and fixed the line.", False),
        ("My parcel came a day late.", False),
    ],
)
def test_a_booked_visit_nobody_kept(text: str, missed: bool) -> None:
    assert _read(text).missed_visit is missed


def test_what_the_customer_already_tried_and_their_deadline() -> None:
    s = _read(
        "My broadband has been down since Friday. I've already restarted the router twice. "
        "I have a client demo at 3pm tomorrow."
    )
    assert s.tried == ["I've already restarted the router twice"]
    assert s.deadline == "before 3pm tomorrow"


def test_the_problem_in_the_customers_words_said_back_to_them() -> None:
    s = _read("Hi, my check bag was ripped and the handle broken on the flight from Dublin.")
    assert s.problem == "your check bag was ripped and the handle broken on the flight from Dublin"


def test_shipment_only_when_the_email_speaks_of_one() -> None:
    assert _read("The parcel never arrived and tracking shows nothing.").shipment
    assert not _read("You charged me twice for my phone plan this month.").shipment


def test_the_right_reference_and_amount() -> None:
    s = _read(
        "My number was ported out by a fraudster. Police reference CRI-2025-88201. "
        "My order #A55120 was for a new SIM."
    )
    assert s.reference == "A55120"  # not the police reference
    bill = _read("My bill this month is £78.40 when my plan is £35.")
    assert bill.amount is None  # two figures, neither said to be the one in dispute
    assert _read("You overcharged me £12.50 for roaming I never used.").amount == "£12.50"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Just wanted to say thank you to Kiran, brilliant service yesterday.", "thanks"),
        ("Hello, do you ship to Norway?", "question"),
        ("Please change my delivery address to 4 Elm Road.", "request"),
        ("My kettle arrived broken and I want a refund.", "complaint"),
        # praise that happens to hold a complaint word ("still") is still praise
        ("Thanks to the driver who came in the storm, soaked and still smiling.", "thanks"),
        ("Thanks for nothing, my order never arrived and nobody answers.", "complaint"),
        # thanks for a harm is sarcasm, not praise
        ("Thanks so much for cancelling my flight while I was on my way.", "complaint"),
        ("Thank you for double charging my card for one ticket.", "complaint"),
        ("Thanks for charging my scooter at the hub, the staff were lovely.", "thanks"),
        # ... however little else it says, and thanks for the time a thing took
        ("Why are the child rates the same as online? Thanks for wasting my time.", "complaint"),
        ("Thanks to for taking 3 weeks to install my new internet.", "complaint"),
        ("Thanks for taking the time to help me yesterday, Kiran was brilliant.", "thanks"),
        # praise in the words people tweet it
        ("You guys rock! Another great flight, on time.", "thanks"),
        ("Big shout out to Kim at the gate for being so helpful", "thanks"),
        ("Please commend the crew of flight 442, they were hilarious.", "thanks"),
        # a question after what the customer tells us first
        (
            "I fly Wednesday and I'm on crutches, what's your policy for travelling with them?",
            "question",
        ),
        ("Hello : How many guests may I bring into the lounge?", "question"),
    ],
)
def test_not_every_email_is_a_complaint(text: str, kind: str) -> None:
    assert _read(text).kind == kind


def test_a_thank_you_gets_thanks_not_an_apology() -> None:
    result = assistant.draft("Just wanted to say thank you to Kiran, brilliant service yesterday.")
    assert "Thank you for taking the time to write" in result.reply
    assert "sorry" not in result.reply.lower()
    assert result.lint.findings == []


def test_a_request_for_the_remedy_is_not_a_question_to_answer_from_an_article() -> None:
    text = "Two drinks were missing from my order. Can you sort it out? When will I hear back?"
    assert _read(text).questions == ["Can you sort it out?", "When will I hear back?"]
    reply = assistant.draft(text).reply
    assert 'You asked: "When will I hear back?"' in reply
    assert 'You asked: "Can you sort it out?"' not in reply


def test_a_headline_is_not_said_back_as_the_problem() -> None:
    assert _read("Subject: Half my order missing\n\nPlease help.").problem is None
    said = _read("Order 4471 arrived but the fries and both drinks were missing.")
    assert said.problem == "the fries and both drinks were missing"


def test_the_amount_the_customer_wants_back_is_the_one_in_dispute() -> None:
    s = _read("You got my order wrong for the third time. I want my $14.50 back.")
    assert s.amount == "$14.50"


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        ("I have a client demo at 3pm tomorrow and my broadband is down.", "before 3pm tomorrow"),
        ("We arrived at the hotel at 11pm and our room had been given away.", None),
        ("Please get it to me by 5pm.", "by 5pm"),
    ],
)
def test_a_deadline_is_a_time_ahead_not_a_time_it_happened(text: str, deadline: str | None) -> None:
    assert _read(text).deadline == deadline


def test_a_home_without_power_and_a_medical_need_is_now_and_dangerous() -> None:
    s = _read("We've had no power since 6am. My mum is on oxygen at home.")
    assert s.happening_now and s.danger


def test_money_taken_that_the_customer_did_not_spend_is_a_billing_error() -> None:
    c = assistant.classify("Someone took £400 from my account last night, it wasn't me.")
    assert c.category == "billing_error"


def test_an_address_change_before_dispatch_is_a_request() -> None:
    text = "Please change the delivery address on order 66017 to 4 Elm Road. It hasn't shipped yet."
    assert _read(text).kind == "request"
    assert "late" not in assistant.draft(text).reply


def test_never_before_is_not_said_back_as_the_problem() -> None:
    assert _read("Your agent laughed at me. I've never been spoken to like that.").problem is None


def test_after_a_death_the_account_is_put_in_order_without_a_security_script() -> None:
    reply = assistant.draft(
        "My husband passed away in October and I need to take his name off our account. "
        "Every time I call I'm asked for his password."
    ).reply
    assert "sorry for your loss" in reply and "won't ask you for passwords" in reply
    assert "can't get into your account" not in reply


def test_at_the_gate_is_now_only_when_the_customer_is_there() -> None:
    assert _read("I'm at the gate and they won't let me board.").happening_now
    assert not _read("I was charged €60 for my bag at the gate last week.").happening_now


def test_a_first_request_to_cancel_is_not_told_it_was_made_hard() -> None:
    reply = assistant.draft(
        "Please cancel my order 90233, I ordered the wrong colour by mistake."
    ).reply
    assert "cancel your order 90233" in reply
    assert "so hard" not in reply and "trouble" not in reply and "our mistake" not in reply


def test_part_of_an_order_not_in_the_box_is_part_missing() -> None:
    reply = assistant.draft(
        "My order #A77102 arrived today but the pillowcases weren't in the box."
    ).reply
    assert "never reached you" not in reply and "what's missing" in reply


def test_a_cancellation_made_hard_is_owned_as_hard() -> None:
    reply = assistant.draft(
        "I've been trying to cancel order 5512 but the website won't let me."
    ).reply
    assert "trouble cancelling your order 5512" in reply or "so hard" in reply
    assert "Of course" not in reply


@pytest.mark.parametrize(
    ("text", "conduct"),
    [
        ("The agent was rude and hung up on me.", True),
        ("Your rep talked down to me like I was stupid.", True),
        ("The gate agent sarcastically said I should have read the rules.", True),
        ("A flight attendant shoved past me and scolded my son.", True),
        ("I waited on hold for two hours before anyone answered.", False),
        ("There was no entertainment on a nine-hour flight.", False),
        ("The queue at the counter was forty people long.", False),
    ],
)
def test_someones_manner_is_told_from_a_service_that_fell_short(text: str, conduct: bool) -> None:
    assert _read(text).staff_conduct is conduct
