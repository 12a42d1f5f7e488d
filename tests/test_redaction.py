"""Customer data out of everything sent to a remote model, and back in for the agent."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import assistant
from assistant import BackendError, Settings
from assistant.loopback import is_loopback_url as is_loopback
from assistant.redact import Redaction, Redactor, iban_ok, luhn_ok

from fake_openai import FakeOpenAI, Fault

PII = {
    "email": "maria.lopez@example.org",
    "phone": "+44 7700 900123",
    "card": "4111 1111 1111 1111",
    "iban": "GB82 WEST 1234 5698 7654 32",
    "street": "42 Rosewood Avenue",
    "postcode": "SW1A 1AA",
}
EMAIL = (
    f"My card {PII['card']} was charged twice. Refund to {PII['iban']} please. "
    f"Write to {PII['email']} or call {PII['phone']}. I live at {PII['street']}, London {PII['postcode']}. "
    "Account AC-778812."
)


def test_each_kind_becomes_a_stable_placeholder() -> None:
    redaction = Redaction()
    out = Redactor([r"\bAC-\d{6}\b"]).redact(EMAIL + f" Again: {PII['email']}.", redaction)
    for value in [*PII.values(), "AC-778812"]:
        assert value not in out
    for placeholder in (
        "[CARD_1]",
        "[IBAN_1]",
        "[EMAIL_1]",
        "[PHONE_1]",
        "[ADDRESS_1]",
        "[ADDRESS_2]",
        "[SENSITIVE_1]",
    ):
        assert placeholder in out
    assert out.count("[EMAIL_1]") == 2  # the same value, the same placeholder
    assert redaction.restore(out) == EMAIL + f" Again: {PII['email']}."


def test_checksums_keep_ordinary_numbers() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82WEST12345698765432") and not iban_ok("GB00WEST12345698765432")
    text = "Order 4111 1111 1111 1112 and reference GB00 WEST 1234 5698 7654 32 cost $64.00 on 3 March."
    assert "[CARD" not in Redactor().redact(text, Redaction())
    assert "[IBAN" not in Redactor().redact(text, Redaction())


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_redaction_is_reversible(text: str) -> None:
    redaction = Redaction()
    assert redaction.restore(Redactor().redact(text, redaction)) == text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([*PII.values(), "hello", "[EMAIL_1]", "order 123", " ", "\n", "[CARD_2]"]),
        max_size=12,
    )
)
def test_reversible_with_data_and_lookalike_placeholders(parts: list[str]) -> None:
    text = " ".join(parts)
    redaction = Redaction()
    assert redaction.restore(Redactor().redact(text, redaction)) == text


def test_remote_endpoints_are_redacted_by_default() -> None:
    assert is_loopback("http://127.0.0.1:8080/v1") and is_loopback("http://localhost:11434/v1")
    for url, redacted in [
        ("https://api.openai.com/v1", True),
        (None, True),
        ("http://127.0.0.1:9/v1", False),
    ]:
        helper = assistant.Assistant(
            Settings.model_validate({"backend": "openai", "llm": {"base_url": url}})
        )
        assert helper._redacting() is redacted
    never = Settings.model_validate(
        {"backend": "openai", "redact": "never", "llm": {"base_url": "https://x.example/v1"}}
    )
    assert assistant.Assistant(never)._redacting() is False


def test_nothing_sensitive_reaches_the_model_and_the_agent_gets_it_back() -> None:
    with FakeOpenAI() as fake:
        fake.draft = {
            "meta_goal": "Refund the double charge today and keep [EMAIL_1] informed.",
            "reply": "I'm so sorry. I've refunded the second charge on [CARD_1] today and written to [EMAIL_1].",
        }
        cfg = Settings.model_validate(
            {
                "backend": "openai",
                "redact": "always",
                "sensitive_patterns": [r"\bAC-\d{6}\b"],
                "llm": {"base_url": fake.base_url, "model": "m"},
            }
        )
        result = assistant.Assistant(cfg).draft(EMAIL)
        sent = json.dumps([r.body for r in fake.requests])
    for value in [*PII.values(), "AC-778812", "maria.lopez"]:
        assert value not in sent
    assert "[CARD_1]" in sent and "[EMAIL_1]" in sent
    assert (
        result.reply
        == f"I'm so sorry. I've refunded the second charge on {PII['card']} today and written to {PII['email']}."
    )
    assert PII["email"] in result.meta_goal
    assert result.email.body == EMAIL  # the agent's copy is untouched
    assert result.classification.facts.amounts == [] or "[" not in str(result.classification.facts)


def test_the_api_key_never_appears_in_errors() -> None:
    key = "sk-test-do-not-print-9f8e7d"
    with FakeOpenAI() as fake:
        fake.then(
            Fault("status", 401, body={"error": {"message": f"Incorrect API key provided: {key}"}})
        )
        cfg = Settings.model_validate(
            {"backend": "openai", "llm": {"base_url": fake.base_url, "api_key": key}}
        )
        helper = assistant.Assistant(cfg)
        try:
            helper.draft(EMAIL)
        except BackendError as exc:
            message = str(exc)
        sent_headers = fake.requests[0].headers
    assert key not in message and "401" in message
    headers = {k.lower(): v for k, v in sent_headers.items()}
    assert headers["authorization"] == f"Bearer {key}"  # it did go where it belongs


# What the redaction list names, in the forms people write it: none may reach the model.
CORPUS = [
    "4111.1111.1111.1111",
    "4111 1111 1111 1112",  # a digit mistyped: a card by its context
    "gb82 west 1234 5698 7654 32",
    "GB82-WEST-1234-5698-7654-32",
    "030/1234567",
    "+44 7700 900123",
    "(415) 555-0199",
    "sw1a 2aa",
    "K1A 0B1",
    "NY 10024-1234",
    "Musterstraße 12",
    "10115",
    "Hauptstr. 5",
    "P.O. Box 4471",
    "55 West 86th Street",
    "12 high street",
    "12 rue de la Paix",
    "ana.lopez@example.com",
    "ana [at] example [dot] com",
    "j.smith at gmail.com",
    "bob dot lee at example dot org",
    "kim(at)example.co.uk",
]


def test_no_string_of_the_redaction_corpus_reaches_the_model() -> None:
    email = (
        "Hi, my kettle arrived cracked. Card used: 4111.1111.1111.1111, and the other card "
        "4111 1111 1111 1112. Refund to IBAN gb82 west 1234 5698 7654 32 or "
        "GB82-WEST-1234-5698-7654-32. Call 030/1234567, +44 7700 900123 or (415) 555-0199. "
        "I live at 12 high street, London sw1a 2aa; my office is 55 West 86th Street, "
        "NY 10024-1234; post goes to P.O. Box 4471, or Musterstraße 12, 10115 Berlin, or "
        "Hauptstr. 5, or 12 rue de la Paix, or Ottawa K1A 0B1. Email ana.lopez@example.com, "
        "or ana [at] example [dot] com, or j.smith at gmail.com, or bob dot lee at example dot "
        "org, or kim(at)example.co.uk. Please look at example.com for the order."
    )
    with FakeOpenAI() as fake:
        helper = assistant.Assistant(
            Settings.model_validate(
                {
                    "backend": "openai",
                    "redact": "always",
                    "llm": {"base_url": fake.base_url, "model": "m"},
                }
            )
        )
        helper.draft(email)
        sent = json.dumps([r.body for r in fake.requests], ensure_ascii=False)
    leaked = [value for value in CORPUS if value in sent]
    assert leaked == []
    assert "kettle arrived cracked" in sent
    assert "look at example.com for the order" in sent  # a website mentioned is not an address
