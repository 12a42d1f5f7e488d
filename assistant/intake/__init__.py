"""Intake: raw text, bytes or an .eml file in; an `Email` holding what the customer wrote this
time out (quoted history, signatures and HTML stripped), with the facts it names."""

from __future__ import annotations

import binascii
import email
import re
import stat
import sys
from collections.abc import Iterator
from email.message import Message
from email.utils import parseaddr
from pathlib import Path

from ..errors import InputError
from ..models import Email
from .clean import clean_body
from .facts import extract_facts
from .html import html_to_text, looks_like_html

DEFAULT_MAX_BYTES = 2_000_000
# Characters that show nothing: an email of only these is as empty as one of spaces.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
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


def read_bytes(source: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A file's bytes, or standard input's for "-", never more than `max_bytes`: only regular
    files are opened (a folder, FIFO, device or socket is refused at once), and a read stops one
    byte past the limit, so /dev/zero on stdin ends in an error, not a full memory."""
    if str(source) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        _within(data, max_bytes, "Standard input")
        return data
    path = Path(source)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{path} is a folder, not a file.")
        if not stat.S_ISREG(mode):
            raise InputError(f"{path} is not a regular file (a pipe, device or socket).")
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    _within(data, max_bytes, str(path))
    return data


def _within(data: bytes, max_bytes: int, what: str) -> None:
    if len(data) > max_bytes:
        raise InputError(
            f"{what} is over the {max_bytes:,}-byte limit (max_input_bytes in the config)."
        )


def read_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Email:
    path = Path(path)
    data = read_bytes(path, max_bytes=max_bytes)
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
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"The input is not valid Unicode text (character {exc.start} is a lone surrogate)."
        ) from None
    text = text.replace("\r\n", "\n").replace("\x00", "")
    if not _INVISIBLE.sub("", text).strip():
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
    # compat32 parsing with our own header decoding and body walk: the modern policy's header
    # objects refuse some damaged headers that mail clients still show.
    try:
        message = email.message_from_bytes(data)
    except Exception as exc:  # the stdlib parser is lenient; anything it raises means garbage in
        raise InputError(f"{what} is not a readable email: {exc}.") from None
    part = _find_body(message)
    if part is None:
        raise InputError(f"{what} has no text or HTML body to read.")
    body = _text_of(part)
    was_html = part.get_content_subtype() == "html"
    if was_html:
        body = html_to_text(body)
    raw_text = raw if raw is not None else data.decode("utf-8", "replace")
    sender_name, sender_address = parseaddr(_header_text(message, "From"))
    subject = _decode_words(_header_text(message, "Subject")).strip() or None
    return _build(
        body,
        raw=raw_text,
        subject=subject,
        sender_name=_decode_words(sender_name).strip() or None,
        sender_address=sender_address or None,
        was_html=was_html,
    )


def _header_text(message: Message, name: str) -> str:
    """A header as the sender wrote it, unfolded; raw 8-bit bytes are read as UTF-8."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            text = value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
            return _FOLD.sub("", text)
    return ""


_FOLD = re.compile(r"\r?\n(?=[ \t])")


def _decode_words(text: str) -> str:
    """RFC 2047 encoded words (=?utf-8?q?...?=) to text, leniently: a mail client shows a garbled
    word rather than none, so damaged base64 or an unknown charset still gives something."""
    if "=?" not in text:
        return text
    # Whitespace between two encoded words is folding, not text (RFC 2047, section 6.2).
    text = _BETWEEN_WORDS.sub("", text)
    return _ENCODED_WORD.sub(_decode_word, text)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(?<=\?=)\s+(?==\?[^?\s]+\?[qQbB]\?)")


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, encoded = match.groups()
    if encoding in "bB":
        data = binascii.a2b_base64(encoded + "=" * (-len(encoded) % 4), strict_mode=False)
    else:
        data = binascii.a2b_qp(encoded, header=True)
    try:
        return data.decode(charset.split("*")[0], "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _find_body(part: Message) -> Message | None:
    """The part a mail client shows: the first plain-text part, else the first HTML one, never an
    attachment; in multipart/related only its root part counts (the rest are its images)."""
    best: Message | None = None
    for candidate in _body_candidates(part):
        if candidate.get_content_subtype() == "plain":
            return candidate
        best = best or candidate
    return best


def _body_candidates(part: Message) -> Iterator[Message]:
    if part.get_content_disposition() == "attachment":
        return
    maintype, subtype = part.get_content_maintype(), part.get_content_subtype()
    if maintype == "text":
        if subtype in ("plain", "html"):
            yield part
        return
    if maintype != "multipart" or not part.is_multipart():
        return
    payload = part.get_payload()
    children = [c for c in payload if isinstance(c, Message)] if isinstance(payload, list) else []
    if subtype == "related":
        start = part.get_param("start")
        root = next((c for c in children if start and c.get("Content-ID") == start), None)
        children = [root or children[0]] if children else []
    for child in children:
        yield from _body_candidates(child)


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    # Without a charset the text is read as UTF-8, which is also right for plain ASCII.
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


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
    if not _INVISIBLE.sub("", text).strip():
        forwarded = _forwarded_original(cleaned.quoted)
        if forwarded is not None:
            # An agent forwarded the customer's email: the forwarded message is the complaint,
            # and its own subject and body hold the facts.
            inner = parse(forwarded)
            return inner.model_copy(update={"raw": raw, "subject": subject or inner.subject})
        if cleaned.quoted:
            raise InputError(
                "The email holds only quoted history, with no new message from the customer."
            )
        raise InputError("The email has no text from the customer after its headers.")
    name = (sender_name if sender_name and "@" not in sender_name else None) or cleaned.signed_name
    return Email(
        subject=subject,
        sender_name=name,
        sender_address=sender_address,
        body=text,
        raw=raw,
        quoted=cleaned.quoted,
        was_html=was_html,
        facts=extract_facts("\n".join(filter(None, [subject, text])), name_hint=name),
    )


_FORWARD_MARK = re.compile(
    r"^[ \t]*(?:-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:)[ \t]*\n", re.I | re.M
)


def _forwarded_original(quoted: str | None) -> str | None:
    if not quoted:
        return None
    mark = _FORWARD_MARK.search(quoted)
    return quoted[mark.end() :] if mark else None
