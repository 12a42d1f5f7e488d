"""Where the linter must not look (the customer's quoted words) and how far a sentence reaches.

Everything here is computed on first use: a clean reply that no pattern touched never pays for it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..textmatch import sentence_ends

_QUOTED_LINE = re.compile(r"^[ \t]*>.*$", re.M)
_HISTORY = re.compile(
    r"^[ \t]*(?:On\b.{0,300}?\bwrote:|-{2,}\s*(?:Forwarded|Original) message\s*-{2,})", re.I | re.M
)
# A quoted sentence: the customer's words repeated back are theirs, not ours. Every branch
# begins with its quote mark, so the engine skips ahead to quote marks; the single quote's "not
# inside a word" is checked just after it, (?<!\w'), rather than before it, which would have the
# whole pattern tried at every position.
_QUOTATION = re.compile(r"\"[^\"\n]{3,400}\"|“[^”\n]{3,400}”|'(?<!\w')[^'\n]{3,200}'(?![\w])")
_MARKER = re.compile(r"<!--\s*lint-ignore(?P<ids>(?:\s+[a-z0-9-]+)*)\s*-->", re.I)


T = TypeVar("T")


class _lazy(Generic[T]):
    """functools.cached_property without the lock Python 3.11 takes on each first access: a
    Context lives for one lint in one thread, and the lock cost more than most properties."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


class Context:
    """Facts about one text, shared by every rule that looks at it."""

    def __init__(self, text: str, lowered: str | None = None, *, exempt: bool = True) -> None:
        """`exempt=False`: nothing is exempt (text a model wrote: its quotes and markers are
        its own, not the customer's words or the agent's decision)."""
        self.text = text
        self.lowered = lowered if lowered is not None else text.lower()
        self.exempt = exempt

    @_lazy
    def excluded(self) -> list[tuple[int, int]]:
        text, spans = self.text, list[tuple[int, int]]()
        if ">" in text:
            spans.extend(m.span() for m in _QUOTED_LINE.finditer(text))
        if "wrote:" in self.lowered or "message" in self.lowered:
            history = _HISTORY.search(text)
            if history:
                spans.append((history.start(), len(text)))
        spans.extend(m.span() for m in _QUOTATION.finditer(text))
        spans.extend(m.span() for m in self._markers)
        return spans

    @_lazy
    def _markers(self) -> list[re.Match[str]]:
        return list(_MARKER.finditer(self.text)) if "lint-ignore" in self.lowered else []

    @_lazy
    def suppressed(self) -> list[tuple[int, int, frozenset[str]]]:
        text, spans = self.text, []
        for m in self._markers:
            line_start = text.rfind("\n", 0, m.start()) + 1
            line_end = text.find("\n", m.end())
            spans.append(
                (
                    line_start,
                    len(text) if line_end < 0 else line_end,
                    frozenset(m.group("ids").split()),
                )
            )
        return spans

    @_lazy
    def _line_starts(self) -> list[int]:
        return [0] + [m.end() for m in re.finditer("\n", self.text)]

    @_lazy
    def _ends(self) -> list[int]:
        return [p + 1 for p in sentence_ends(self.text)]

    @_lazy
    def _excluded_merged(self) -> tuple[list[int], list[int]]:
        """The excluded spans merged where they touch, as sorted starts and their ends."""
        starts: list[int] = []
        ends: list[int] = []
        for s, e in sorted(self.excluded):
            if ends and s <= ends[-1]:
                ends[-1] = max(ends[-1], e)
            else:
                starts.append(s)
                ends.append(e)
        return starts, ends

    def is_excluded(self, start: int, end: int) -> bool:
        if not self.exempt or not self.excluded:
            return False
        starts, ends = self._excluded_merged
        i = bisect.bisect_right(starts, start) - 1
        return i >= 0 and end <= ends[i]

    def is_suppressed(self, rule_id: str, start: int) -> bool:
        if not self.exempt:
            return False
        suppressed = self.suppressed
        return bool(suppressed) and any(
            s <= start <= e and (not ids or rule_id in ids) for s, e, ids in suppressed
        )

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """Bounds of the sentence (or sentences) holding [start, end)."""
        ends = self._ends
        i = bisect.bisect_right(ends, start)
        begin = ends[i - 1] if i else 0
        j = bisect.bisect_left(ends, end)
        return begin, ends[j] if j < len(ends) else len(self.text)

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1


def strip_markers(text: str, *, keep: str = "") -> str:
    """The reply as it should be sent: the inline lint-ignore markers the agent added removed;
    a marker already in `keep` (the drafted reply: a model wrote it) stays where the agent can
    see it."""
    kept = {m.group(0) for m in _MARKER.finditer(keep)}
    return re.sub(
        r"[ \t]?" + _MARKER.pattern,
        lambda m: m.group(0) if m.group(0).strip() in kept else "",
        text,
        flags=re.I,
    )
