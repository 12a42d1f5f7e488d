"""The business in configuration: each example business drafts its example complaints with
words that fit it, from its own remedies, with no situation finding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import assistant
from assistant import ConfigError, Settings, load_settings

from conftest import EXAMPLES, ROOT

BUSINESSES = ["airline", "telecom", "software", "food_delivery"]
SHIPPING = re.compile(
    r"\b(?:parcel|courier|warehouse|tracking|return label|shipped|delivery)\b", re.I
)


def _examples(business: str) -> list[Path]:
    return sorted((ROOT / "examples" / business / "emails").iterdir())


CASES = [(b, p) for b in BUSINESSES for p in _examples(b)] + [
    ("retail", p) for p in sorted(EXAMPLES.iterdir())
]


@pytest.mark.parametrize(("business", "path"), CASES, ids=lambda v: getattr(v, "name", v))
def test_each_example_drafts_with_no_situation_finding(business: str, path: Path) -> None:
    helper = assistant.Assistant.from_config(ROOT / "examples" / business / "assistant.toml")
    result = helper.draft(path.read_bytes())
    situation = [f.rule for f in result.lint.findings if f.rule.startswith("situation-")]
    assert situation == [], (path.name, result.reply)
    assert result.lint.ok, [(f.rule, f.text) for f in result.lint.errors()]
    if not helper.settings.business.ships:
        assert not SHIPPING.search(result.reply), result.reply


def test_the_examples_of_a_business_get_different_replies() -> None:
    for business in BUSINESSES:
        helper = assistant.Assistant.from_config(ROOT / "examples" / business / "assistant.toml")
        replies = {helper.draft(p.read_bytes()).reply for p in _examples(business)}
        assert len(replies) == len(_examples(business))


@pytest.mark.parametrize(
    ("email", "category", "fits", "misfits"),
    [
        # A stolen number is an account taken over, not a billing error to refund.
        ("03-number-ported.txt", "account_or_access", r"security team", r"\brefund\b"),
        # A line that is down is a faulty service, not "no category fits".
        ("01-broadband-down.txt", "damaged_or_defective", r"credit every one", r"look into this"),
        # An engineer nobody sent: rebook the visit, not "we treated you that way".
        ("04-missed-engineer.txt", "poor_service", r"rebook the visit", r"treated you"),
    ],
)
def test_a_telecom_complaint_gets_the_reply_its_situation_needs(
    email: str, category: str, fits: str, misfits: str
) -> None:
    helper = assistant.Assistant.from_config(ROOT / "examples" / "telecom" / "assistant.toml")
    result = helper.draft((ROOT / "examples" / "telecom" / "emails" / email).read_bytes())
    assert result.classification.category.value == category
    assert re.search(fits, result.reply) and not re.search(misfits, result.reply), result.reply
    assert result.lint.ok, [(f.rule, f.text) for f in result.lint.errors()]


def test_the_business_brings_its_vocabulary() -> None:
    text = "You cancelled my flight home and I have nowhere to go."
    airline = assistant.Assistant(Settings.model_validate({"company": {"business": "airline"}}))
    reply = airline.draft(text).reply
    assert "rebook you" in reply and "order" not in reply


def test_policy_actions_override_the_remedies() -> None:
    text = "You cancelled my flight home and I have nowhere to go."
    only_refunds = Settings.model_validate(
        {"company": {"business": "airline"}, "policy": {"actions": ["refund"]}}
    )
    reply = assistant.Assistant(only_refunds).draft(text).reply
    assert "rebook" not in reply and "refund" in reply
    assert only_refunds.business.actions == ["refund"]


def test_an_unknown_business_or_action_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text('[company]\nbusiness = "spaceport"\n')
    with pytest.raises(ConfigError, match=r"company\.business"):
        load_settings(config)
    config.write_text('[policy]\nactions = ["teleport"]\n')
    with pytest.raises(ConfigError, match=r"policy\.actions"):
        load_settings(config)


def test_the_llm_prompt_names_the_business_and_its_remedies() -> None:
    from assistant.draft.llm import draft_messages

    helper = assistant.Assistant.from_config(ROOT / "examples" / "airline" / "assistant.toml")
    email = helper.read((ROOT / "examples/airline/emails/01-cancelled-leg.txt").read_bytes())
    classification = helper.classify(email)
    system, user = draft_messages(
        email,
        classification,
        helper.settings,
        helper.prompts,
        knowledge=helper.retrieve(email, classification),
    )
    assert "an airline" in system["content"] and "rebook" in system["content"]
    assert "never claim" in system["content"].lower()
    assert "the company cancelled" in user["content"]
    assert "Cancelled flight, rebooking and care" in user["content"]


def test_a_food_order_is_an_order_not_a_parcel() -> None:
    helper = assistant.Assistant.from_config(ROOT / "examples" / "food_delivery" / "assistant.toml")
    reply = helper.draft("Ordered pizza for a 5:15 delivery. Still waiting on it.").reply
    assert "your order is late" in reply and "refund it in full" in reply
    assert "parcel" not in reply and "3 days" not in reply


def test_harm_from_a_meal_is_refunded_and_reported_not_remade() -> None:
    helper = assistant.Assistant.from_config(ROOT / "examples" / "food_delivery" / "assistant.toml")
    email = ROOT / "examples/food_delivery/emails/04-allergic-reaction.txt"
    reply = helper.draft(email.read_bytes()).reply
    assert "food safety team" in reply and "refund your order in full" in reply
    assert "made again" not in reply


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("My order was wrong AGAIN, the 4th time this year.", True),
        ("My order was wrong: the salad had no dressing.", False),
    ],
)
def test_a_repeated_failure_is_owned_only_when_the_customer_says_so(text: str, said: bool) -> None:
    reply = assistant.draft(text).reply
    assert ("happened more than once" in reply) is said, reply


def test_an_airline_does_not_contradict_a_customer_who_changed_the_flight() -> None:
    helper = assistant.Assistant.from_config(ROOT / "examples" / "airline" / "assistant.toml")
    theirs = helper.draft(
        "Thanks for cancelling my flight. Yes, I changed it last week, but still."
    )
    assert "not yours" not in theirs.reply
    assert "The cancellation was ours" in theirs.reply
    ours = helper.draft("Thanks for cancelling my flight while I'm in the taxi to the airport.")
    assert "That was our change, not yours" in ours.reply
    # Who changed it is not said: the reply owns the journey without claiming either way.
    unsaid = helper.draft(
        "I had to change like 3 flights and because it was basic economy I had to spend 1k+ "
        "on new tickets for a day early."
    )
    assert "not yours" not in unsaid.reply and "we cancelled" not in unsaid.reply
    assert "Getting you there is our job" in unsaid.reply


def test_a_late_flight_is_poor_service_answered_with_delay_care() -> None:
    helper = assistant.Assistant.from_config(ROOT / "examples" / "airline" / "assistant.toml")
    late = helper.draft("American Airlines 2279 delayed more than two hours now!")
    assert late.classification.category is assistant.Category.poor_service
    assert "your flight was delayed" in late.reply and "compensation" in late.reply
    assert "owned the delay" in late.meta_goal
    # Someone's manner at fault is answered as that, delay or not.
    rude = helper.draft("The gate agent was rude to me when our flight was delayed.")
    assert "treated you that way" in rude.reply and "was delayed" not in rude.reply
    # A shop has no delay script of its own: the general one is a parcel's, so not that.
    shop = assistant.Assistant().draft("American Airlines 2279 delayed more than two hours now!")
    assert "parcel" not in shop.reply and "courier" not in shop.reply


def test_a_late_flight_is_answered_from_the_delay_article() -> None:
    helper = assistant.Assistant.from_config(ROOT / "examples" / "airline" / "assistant.toml")
    text = (ROOT / "examples" / "airline" / "emails" / "04-delayed-flight.txt").read_text()
    result = helper.draft(text)
    assert result.classification.category is assistant.Category.poor_service
    assert "skyline-air.example/help/disruption" in result.reply
