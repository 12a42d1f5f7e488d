"""Cut an email body down to what the customer wrote this time: no quoted history, forwarded
blocks, signature or legal footer."""

from __future__ import annotations

import re

from pydantic import BaseModel

# Where earlier messages begin. Everything from the first of these on is history.
_HISTORY_START = re.compile(
    r"""^(?:
        [ \t]*On\b.{0,300}?\bwrote:[ \t]*$                         # On Mon, 3 Jun 2024, Shop <x> wrote:
      | [ \t]*-{2,}\s*(?:Forwarded|Original)\s+message\s*-{2,}.*$  # ---------- Forwarded message ---------
      | [ \t]*Begin\ forwarded\ message:.*$
      | [ \t]*From:\ .+\n(?:[ \t]*(?:Sent|Date|To|Cc|Subject):\ .*\n?){1,5}  # Outlook-style header block
      | [ \t]*_{10,}[ \t]*$
    )""",
    re.I | re.M | re.X,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>.*(?:\n|$)", re.M)
_SIGNATURE = re.compile(
    r"""^(?:
        --[ ]?$                                             # the standard "-- " delimiter
      | Sent\ from\ my\ .*$
      | Get\ Outlook\ for\ .*$
      | (?:CONFIDENTIALITY|DISCLAIMER|PRIVILEGED)\b.*$
      | This\ (?:e-?mail|message)(?:\ and\ any\ attachments)?\ (?:is|are|may\ be)\ (?:confidential|intended).*$
    )""",
    re.I | re.M | re.X,
)
# A closing like "Thanks,\nJane Doe" at the very end: we keep the name, drop the closing.
_CLOSING = re.compile(
    r"""\n[ \t]*(?:many\ thanks|thanks(?:\ again)?|thank\ you|regards|kind\ regards|best(?:\ regards|\ wishes)?
        |cheers|sincerely|yours(?:\ sincerely|\ truly)?|warm(?:est)?\ regards|cordially|respectfully
        |a\ very\ (?:unhappy|frustrated|disappointed)\ customer)[ \t]*[,.!]?[ \t]*
        (?:\n[ \t]*(?P<name>(?-i:[A-Z][\w'.-]*(?:[ \t]+[A-Z][\w'.-]*){0,3}))[ \t]*)?\s*$""",
    re.X | re.I,
)


_BARE_NAME = re.compile(
    r"\n[ \t]*\n[ \t]*(?:[-–—~][ \t]*)?(?P<name>[A-Z][a-z'’-]+(?:[ \t]+[A-Z][a-z'’-]+){0,2})[ \t]*$"
)


class Cleaned(BaseModel):
    body: str
    quoted: str | None
    signed_name: str | None


def clean_body(text: str) -> Cleaned:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    quoted_parts: list[str] = []

    history = _HISTORY_START.search(text)
    if history:
        quoted_parts.append(text[history.start() :])
        text = text[: history.start()]

    quoted_parts.extend(m.group(0) for m in _QUOTED_LINE.finditer(text))
    text = _QUOTED_LINE.sub("", text)

    signature = _SIGNATURE.search(text)
    if signature:
        text = text[: signature.start()]

    text = text.strip()
    signed_name = None
    closing = _CLOSING.search("\n" + text)
    if closing:
        name = closing.group("name")
        signed_name = name.strip() if name else None
        text = ("\n" + text)[: closing.start()].strip()

    else:
        # A bare name on its own last line ("Jordan Ellis", "- Alan") signs the email too.
        bare = _BARE_NAME.search(text)
        if bare:
            signed_name = bare.group("name")
            text = text[: bare.start()].rstrip()

    text = re.sub(r"\n{3,}", "\n\n", text)
    quoted = "\n".join(p.strip() for p in quoted_parts if p.strip()) or None
    return Cleaned(body=text, quoted=quoted, signed_name=signed_name)
