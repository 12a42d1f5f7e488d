from __future__ import annotations

import pytest

from assistant import InputError
from assistant.intake import parse, parse_eml, read_file

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


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("You sent me a new modem that doesn't work.", "modem"),
        ("The set-top box keeps rebooting.", "set-top box"),
        ("My new SIM card was never activated.", "sim card"),
    ],
)
def test_a_telecom_device_is_named_as_the_product(text: str, product: str) -> None:
    assert product in [p.lower() for p in parse(text).facts.products]


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


def _mime(headers: str, body: str) -> bytes:
    return (headers.strip() + "\nMIME-Version: 1.0\n" + body).encode("utf-8")


def test_encoded_and_folded_headers_are_read_as_text() -> None:
    email = parse_eml(
        _mime(
            "From: =?utf-8?q?Jos=C3=A9_N=C3=BA=C3=B1ez?= <jose@example.org>\n"
            "Subject: =?utf-8?b?TWkgdGV0ZXJhIGxsZWfDsyByb3Rh?=\n =?utf-8?q?_=E2=80=94_A-77120?=",
            "Content-Type: text/plain; charset=utf-8\n\nThe kettle arrived with a cracked lid.\n",
        )
    )
    assert email.subject == "Mi tetera llegó rota — A-77120"
    assert email.sender_name == "José Núñez"
    assert email.sender_address == "jose@example.org"


def test_raw_utf8_headers_and_unknown_encoded_charsets_still_read() -> None:
    email = parse_eml(
        _mime(
            "From: Renée Dupont <renee@example.org>\nSubject: =?x-unknown?q?Commande?= perdue",
            "Content-Type: text/plain; charset=utf-8\n\nMa commande 55120 n'est jamais arrivée.\n",
        )
    )
    assert email.sender_name == "Renée Dupont"
    assert email.subject == "Commande perdue"
    assert "arrivée" in email.body


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (
            "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable"
            "\n\nMy caf=E9 grinder is broken; I paid =A342.\n",
            "My café grinder is broken; I paid £42.",
        ),
        (
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            "V2hlcmUgaXMgbXkgcmVmdW5kIGZvciB0aGUgY2Fmw6kgdGFibGU/\n",
            "Where is my refund for the café table?",
        ),
        (
            "Content-Type: text/plain; charset=x-nonsense\n\nI was charged twice for my café order.\n",
            "I was charged twice for my café order.",
        ),
    ],
    ids=["quoted-printable latin-1", "base64 utf-8", "unknown charset"],
)
def test_transfer_encodings_and_charsets_are_decoded(part: str, expected: str) -> None:
    assert parse_eml(_mime("From: a@example.org\nSubject: s", part)).body == expected


def test_the_body_is_the_part_a_mail_client_shows() -> None:
    alternative = _mime(
        "From: a@example.org\nSubject: late",
        'Content-Type: multipart/alternative; boundary="X"\n\n--X\nContent-Type: text/plain\n\n'
        "Two weeks late, plain.\n--X\nContent-Type: text/html\n\n<p>Two weeks late, html.</p>\n--X--\n",
    )
    assert parse_eml(alternative).body == "Two weeks late, plain."
    html_and_attachment = _mime(
        "From: a@example.org\nSubject: broken",
        'Content-Type: multipart/mixed; boundary="Y"\n\n--Y\nContent-Type: text/html\n\n'
        "<p>The stroller wheel snapped.</p>\n--Y\nContent-Type: text/plain\n"
        'Content-Disposition: attachment; filename="log.txt"\n\nnot the complaint\n--Y--\n',
    )
    email = parse_eml(html_and_attachment)
    assert email.body == "The stroller wheel snapped." and email.was_html
    related = _mime(
        "From: a@example.org\nSubject: photo",
        'Content-Type: multipart/related; boundary="R"; start="<root>"\n\n'
        "--R\nContent-Type: text/plain\nContent-ID: <caption>\n\nphoto caption\n"
        "--R\nContent-Type: text/plain\nContent-ID: <root>\n\nThe lamp shade is dented.\n--R--\n",
    )
    assert parse_eml(related).body == "The lamp shade is dented."


def test_an_email_with_only_attachments_is_refused_clearly() -> None:
    only_image = _mime(
        "From: a@example.org\nSubject: pic",
        'Content-Type: multipart/mixed; boundary="Z"\n\n--Z\nContent-Type: image/png\n\nxx\n--Z--\n',
    )
    with pytest.raises(InputError, match="no text or HTML body"):
        parse_eml(only_image)


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
        ("\u200b\u200b\u2060 \ufeff\n", "empty"),
        ("My order \ud800 is late.", "lone surrogate"),
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


def test_a_forwarded_email_keeps_its_own_subject_and_the_forwarded_facts() -> None:
    email = parse(
        "Subject: Fwd: see below\n\n---------- Forwarded message ---------\n"
        "From: Ana Ruiz <ana@example.com>\nSubject: lamp from order 12345\n\n"
        "The lamp arrived broken.\n"
    )
    assert email.subject == "Fwd: see below"
    assert email.body == "The lamp arrived broken."
    assert email.facts.order_numbers == ["12345"]
    assert email.facts.customer_name == "Ana Ruiz"
