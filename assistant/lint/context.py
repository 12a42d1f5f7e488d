"""Where the linter must not look (the customer's quoted words) and how far a sentence reaches."""

from __future__ import annotations

import bisect
import re

_QUOTED_LINE = re.compile(r"^[ \t]*>.*$", re.M)
_HISTORY = re.compile(
    r"^[ \t]*(?:On\b.{0,300}?\bwrote:|-{2,}\s*(?:Forwarded|Original) message\s*-{2,})", re.I | re.M
)
# A quoted sentence: the customer's words repeated back are theirs, not ours.
_QUOTATION = re.compile(r"\"[^\"\n]{3,400}\"|“[^”\n]{3,400}”|(?<![\w])'[^'\n]{3,200}'(?![\w])")
_MARKER = re.compile(r"<!--\s*lint-ignore(?P<ids>(?:\s+[a-z0-9-]+)*)\s*-->", re.I)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")


class Context:
    """Precomputed facts about one text, shared by every rule that looks at it."""

    __slots__ = ("_ends", "_line_starts", "excluded", "suppressed", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.excluded: list[tuple[int, int]] = []
        history = _HISTORY.search(text)
        if history:
            self.excluded.append((history.start(), len(text)))
        self.excluded.extend(m.span() for m in _QUOTED_LINE.finditer(text))
        self.excluded.extend(m.span() for m in _QUOTATION.finditer(text))
        self.suppressed: list[tuple[int, int, frozenset[str]]] = []
        for m in _MARKER.finditer(text):
            self.excluded.append(m.span())
            line_start = text.rfind("\n", 0, m.start()) + 1
            line_end = text.find("\n", m.end())
            ids = frozenset(m.group("ids").split())
            self.suppressed.append((line_start, len(text) if line_end < 0 else line_end, ids))
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._ends = [m.end() for m in _SENTENCE_END.finditer(text)]

    def is_excluded(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.excluded)

    def is_suppressed(self, rule_id: str, start: int) -> bool:
        return any(s <= start <= e and (not ids or rule_id in ids) for s, e, ids in self.suppressed)

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """Bounds of the sentence (or sentences) holding [start, end)."""
        i = bisect.bisect_right(self._ends, start)
        begin = self._ends[i - 1] if i else 0
        j = bisect.bisect_left(self._ends, end)
        finish = self._ends[j] if j < len(self._ends) else len(self.text)
        return begin, finish

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1


def strip_markers(text: str) -> str:
    """The reply as it should be sent: inline lint-ignore markers removed."""
    return re.sub(r"[ \t]?" + _MARKER.pattern, "", text, flags=re.I)
