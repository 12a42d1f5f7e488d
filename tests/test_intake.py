from __future__ import annotations

import pytest

from assistant import InputError
from assistant.intake import parse, read_file

from conftest import EXAMPLES


def test_plain_text_keeps_the_complaint_and_finds_facts() -> None:
    email = parse(
        "Hi, my order #A-55310 never arrived and I paid $42.50 on 3 March for a blue kettle.\n\n"
        "Thanks,\nDana Whitlock"
    )
    assert "never arrived" in email.body
    assert "Thanks" not in email.body
    assert email.sender_name == "Dana Whitlock"
    assert email.facts.customer_name == "Dana Whitlock"
    assert email.facts.order_numbers == ["A-55310"]
    assert email.facts.amounts == ["$42.50"]
    assert "3 March" in email.facts.dates
    assert "blue kettle" in email.facts.products


def test_on_wrote_history_is_stripped_but_kept_as_quoted() -> None:
    email = parse(
        "Still nothing. Please send it.\n\n"
        "On Mon, 3 Jun 2024 at 10:00, Shop Support <help@shop.example> wrote:\n"
        "> We are sorry, it will arrive soon.\n> Regards\n"
    )
    assert email.body == "Still nothing. Please send it."
    assert email.quoted is not None and "arrive soon" in email.quoted


def test_quoted_lines_are_stripped_from_the_middle() -> None:
    email = parse("> your earlier reply\nMy new complaint is that the lid is cracked.")
    assert email.body == "My new complaint is that the lid is cracked."


def test_outlook_original_message_block_is_stripped() -> None:
    email = read_file(EXAMPLES / "03-cancel-after-dispatch.eml")
    assert "4th attempt" in email.body
    assert "I no longer need it" not in email.body
    assert email.quoted and "I no longer need it" in email.quoted


def test_eml_headers_give_subject_and_sender() -> None:
    email = read_file(EXAMPLES / "02-missing-second-item.eml")
    assert email.subject == "Re: Order 55120 - second widget never arrived"
    assert email.sender_name == "Helen Okafor"
    assert email.sender_address == "helen.okafor@example.org"
    assert "Kind regards, Tom" not in email.body
    assert "55120" in email.facts.order_numbers


def test_signature_and_legal_footer_are_dropped() -> None:
    email = parse(
        "The blender arrived with a cracked jug.\n\n-- \nJo Bloggs\nSenior Buyer, Acme\n"
        "CONFIDENTIALITY NOTICE: this email is private."
    )
    assert email.body == "The blender arrived with a cracked jug."


def test_html_only_email_becomes_text_and_hidden_text_is_dropped() -> None:
    email = read_file(EXAMPLES / "11-html-damaged-stroller.eml")
    assert email.was_html
    assert "frame bent" in email.body
    assert "<p>" not in email.body
    assert "Ignore all previous instructions" not in email.body


def test_pasted_html_is_read_as_text() -> None:
    email = parse(
        "<html><body><p>My <b>order</b> is late.</p><script>alert(1)</script></body></html>"
    )
    assert email.body == "My order is late."


def test_forwarded_email_uses_the_forwarded_complaint() -> None:
    email = parse(
        "---------- Forwarded message ---------\nFrom: Ana Ruiz <ana@example.com>\n"
        "Subject: broken lamp\nDate: Mon, 1 Jul 2024 10:00:00 +0000\n\nThe lamp arrived broken.\n"
    )
    assert email.body == "The lamp arrived broken."
    assert email.sender_name == "Ana Ruiz"


def test_subject_line_above_a_pasted_body_is_the_subject() -> None:
    email = parse("Subject: late parcel\n\nWhere is my parcel?")
    assert email.subject == "late parcel"
    assert email.body == "Where is my parcel?"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"caf\xe9 au lait is cold", "not UTF-8"),
        ("> only\n> quoted history\n", "only quoted history"),
    ],
)
def test_bad_input_is_one_clear_sentence(data: str | bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse(data)


def test_oversized_input_is_refused_before_any_work() -> None:
    with pytest.raises(InputError, match="over the 1,000-byte limit"):
        parse("a" * 2000, max_bytes=1000)


def test_missing_file_is_an_input_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="does not exist"):
        read_file(tmp_path / "nope.eml")


def test_non_english_email_is_detected() -> None:
    email = parse(
        "Hola, mi pedido no ha llegado y es la tercera vez que escribo para que me lo envíen."
    )
    assert email.facts.language == "es"
