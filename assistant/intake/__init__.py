"""Intake: raw text, bytes or an .eml file in; an `Email` holding what the customer wrote this time out."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage, Message
from email.utils import parseaddr
from pathlib import Path

from ..errors import InputError
from ..models import Email
from .clean import clean_body
from .facts import extract_facts
from .html import html_to_text, looks_like_html

DEFAULT_MAX_BYTES = 2_000_000
_HEADER_BLOCK = re.compile(r"\A(?:[A-Za-z][A-Za-z0-9-]*:[^\n]*\n(?:[ \t][^\n]*\n)*){2,}\n")
_SUBJECT_LINE = re.compile(r"Subject:[ \t]*([^\n]*)\n", re.I)
_MAIL_HEADERS = re.compile(r"^(?:from|subject|to|date|message-id|mime-version):", re.I | re.M)


def decode(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "The input") -> str:
    """Bytes to text, refusing what is not text before any work is done."""
    check_size(len(data), max_bytes, what)
    if b"\x00" in data[:65536]:
        raise InputError(f"{what} looks like a binary file, not an email or text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} is not UTF-8 text (byte {exc.start} is invalid); save it as UTF-8 or pass the .eml file."
        ) from None
    return text


def check_size(size: int, max_bytes: int, what: str = "The input") -> None:
    if size > max_bytes:
        raise InputError(
            f"{what} is {size:,} bytes, over the {max_bytes:,}-byte limit (max_input_bytes in the config)."
        )


def read_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Email:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror}.") from None
    if path.is_dir():
        raise InputError(f"{path} is a folder, not an email file.")
    check_size(size, max_bytes, str(path))
    data = path.read_bytes()
    if path.suffix.lower() == ".eml":
        if b"\x00" in data[:65536]:
            raise InputError(f"{path} looks like a binary file, not an email.")
        return parse_eml(data, what=str(path))
    return parse(decode(data, max_bytes=max_bytes, what=str(path)), max_bytes=max_bytes)


def parse(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Email:
    """Parse pasted text: a bare complaint, or a whole email with headers and quoted history."""
    if isinstance(text, bytes):
        if _HEADER_BLOCK.match(text[:20000].decode("latin-1")):
            check_size(len(text), max_bytes)
            return parse_eml(text)
        text = decode(text, max_bytes=max_bytes)
    check_size(len(text.encode("utf-8", "surrogatepass")), max_bytes)
    text = text.replace("\r\n", "\n").replace("\x00", "")
    if not text.strip():
        raise InputError("The input is empty: paste the customer's email or give a file.")
    head = _HEADER_BLOCK.match(text.lstrip("\n"))
    if head and _MAIL_HEADERS.search(head.group(0)):
        return parse_eml(text.lstrip("\n").encode("utf-8"), raw=text)
    subject = _SUBJECT_LINE.match(text.lstrip())
    if subject:
        # A pasted email often keeps just its subject line above the body.
        body = text.lstrip()[subject.end() :]
        return _build(body, raw=text, subject=subject.group(1).strip() or None)
    return _build(text, raw=text)


def parse_eml(data: bytes, *, raw: str | None = None, what: str = "The email") -> Email:
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as exc:  # the stdlib parser is lenient; anything it raises means garbage in
        raise InputError(f"{what} is not a readable email: {exc}.") from None
    body, was_html = _body_of(message)
    if body is None:
        raise InputError(f"{what} has no text or HTML body to read.")
    raw_text = raw if raw is not None else data.decode("utf-8", "replace")
    sender_name, sender_address = parseaddr(str(message.get("From", "") or ""))
    subject = str(message.get("Subject", "") or "").strip() or None
    return _build(
        body,
        raw=raw_text,
        subject=subject,
        sender_name=sender_name or None,
        sender_address=sender_address or None,
        was_html=was_html,
    )


def _body_of(message: Message) -> tuple[str | None, bool]:
    if isinstance(message, EmailMessage):
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return None, False
        try:
            content = part.get_content()
        except (LookupError, UnicodeError, AssertionError):
            payload = part.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        if not isinstance(content, str):
            return None, False
        if part.get_content_subtype() == "html":
            return html_to_text(content), True
        return content, False
    payload = message.get_payload()
    return (payload, False) if isinstance(payload, str) else (None, False)


def _build(
    body: str,
    *,
    raw: str,
    subject: str | None = None,
    sender_name: str | None = None,
    sender_address: str | None = None,
    was_html: bool = False,
) -> Email:
    if not was_html and looks_like_html(body):
        body, was_html = html_to_text(body), True
    cleaned = clean_body(body)
    text = cleaned.body
    if not text.strip():
        forwarded = _forwarded_original(cleaned.quoted)
        if forwarded is not None:
            # An agent forwarded the customer's email: the forwarded message is the complaint.
            inner = parse(forwarded)
            return inner.model_copy(update={"raw": raw, "subject": subject or inner.subject})
        if cleaned.quoted:
            raise InputError(
                "The email holds only quoted history, with no new message from the customer."
            )
        raise InputError("The email has no text from the customer after its headers.")
    name = sender_name if sender_name and "@" not in sender_name else None
    facts = extract_facts(
        "\n".join(filter(None, [subject, text])), name_hint=name or cleaned.signed_name
    )
    return Email(
        subject=subject,
        sender_name=name or cleaned.signed_name,
        sender_address=sender_address,
        body=text,
        raw=raw,
        quoted=cleaned.quoted,
        was_html=was_html,
        facts=facts,
    )


_FORWARD_MARK = re.compile(
    r"^[ \t]*(?:-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:)[ \t]*\n", re.I | re.M
)


def _forwarded_original(quoted: str | None) -> str | None:
    if not quoted:
        return None
    mark = _FORWARD_MARK.search(quoted)
    return quoted[mark.end() :] if mark else None
