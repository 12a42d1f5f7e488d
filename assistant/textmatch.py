"""What a regular expression needs in a text before it can match, read from the expression itself.

From each pattern we derive sets of literal strings, one of which every match must contain. The
classifier's cues and the linter's rules both use it: a text is searched once for every literal
(one Aho-Corasick pass), and only the patterns whose literals occur run at all.

Most patterns also begin with one of a few literals ("sorry", "we are not"). Those run only where
one of them begins, so a long text costs one pass plus a short match per occurrence, rather than
one scan of the whole text per pattern.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from re import _constants as C  # type: ignore[attr-defined]  # the stdlib's own parser
from re import _parser as sre  # type: ignore[attr-defined]
from typing import Any, Protocol

import ahocorasick  # type: ignore[import-not-found]  # ships no type stubs

Literals = frozenset[str]


def required_sets(source: str) -> list[Literals]:
    """Every independent requirement of `source` (each a set of literals one of which every match
    contains), most selective first. A text must meet all of them for `source` to match."""
    try:
        parsed = sre.parse(source)
    except re.error:
        return []
    found = _requirements(list(parsed))
    # A substring of a required literal is required too: trimmed of spaces, literals dedupe and
    # stop matching every gap between words.
    usable = {frozenset(s.strip().lower() for s in c) for c in found if c}
    usable = {c for c in usable if all(c)}
    ranked = sorted(usable, key=_selectivity, reverse=True)
    # Literals of one or two letters ("i", "to") occur in nearly every reply and filter nothing.
    strong = [c for c in ranked if min(len(s) for s in c) >= 3]
    return strong or ranked[:1]


def _selectivity(c: Literals) -> tuple[int, int]:
    # The most selective requirement: the one whose shortest literal is longest.
    return min(len(s) for s in c), -len(c)


def _best(candidates: list[Literals]) -> Literals | None:
    usable = [c for c in candidates if c]
    return max(usable, key=_selectivity, default=None)


def _sequence(items: Sequence[tuple[Any, Any]]) -> Literals | None:
    return _best(_requirements(items))


def _requirements(items: Sequence[tuple[Any, Any]]) -> list[Literals]:
    candidates: list[Literals] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, av in items:
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        flush()
        if op is C.SUBPATTERN:
            inner = _sequence(list(av[-1]))
            if inner:
                candidates.append(inner)
        elif op is C.BRANCH:
            branches = [_sequence(list(b)) for b in av[1]]
            if all(branches):
                candidates.append(frozenset().union(*branches))  # type: ignore[arg-type]
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, _high, sub = av
            if low >= 1:
                inner = _sequence(list(sub))
                if inner:
                    candidates.append(inner)
        elif op is C.ATOMIC_GROUP:
            inner = _sequence(list(av))
            if inner:
                candidates.append(inner)
        # Anything else (classes, anchors, lookarounds, backreferences) requires no literal.
    flush()
    return candidates


# A prefix is read up to this many characters; longer adds no selectivity, only more strings.
_PREFIX_LENGTH = 8
_MAX_PREFIXES = 200


def prefixes(source: str) -> Literals | None:
    """The lowered literals one of which every match of `source` begins with (a leading `\\b`
    or lookaround aside), each at least two characters; None when the start is not that plain."""
    try:
        parsed = sre.parse(source)
    except re.error:
        return None
    whole, cut = _prefix_of(list(parsed))
    found = whole | cut
    if not found or min(len(s) for s in found) < 2:
        return None
    # A literal that begins with another of the set adds no place to begin ("you " after
    # "you"): left out, no two literals begin at one place, and the text holds fewer to find.
    return frozenset(
        s
        for s in found
        if not any(s != o and s.startswith(o) for o in found)
        and not (DIGIT in found and s[0].isdigit())  # each digit is tried already
    )


# A read is two sets: strings that are the whole of what the expression matched (a longer prefix
# may follow), and strings after which it is not known what comes (read no further).
_Read = tuple[set[str], set[str]]


def _prefix_of(items: Sequence[tuple[Any, Any]]) -> _Read:
    whole: set[str] = {""}
    cut: set[str] = set()
    for op, av in items:
        if not whole:
            break
        read = _prefix_item(op, av)
        if read is None:
            return set(), cut | whole
        more_whole, more_cut = read
        size = _PREFIX_LENGTH
        next_whole = {(a + b)[:size] for a in whole for b in more_whole}
        # After a literal, a digit adds nothing to where the match begins.
        next_cut = cut | {(a or b if b == DIGIT else a + b)[:size] for a in whole for b in more_cut}
        if len(next_whole) + len(next_cut) > _MAX_PREFIXES:
            return set(), cut | whole  # what is read so far still begins every match
        # Long enough: the rest adds no selectivity.
        long = {w for w in next_whole if len(w) >= size}
        whole = next_whole - long
        cut = next_cut | long
    return whole, cut


# Stands, among a pattern's opening literals, for "any digit": a pattern that begins with a
# figure is tried at each digit of the text, which holds few, rather than searched everywhere.
DIGIT = "\x00digit"


def _digits_only(kind: Any, value: Any) -> bool:
    if kind is C.CATEGORY:
        return value is C.CATEGORY_DIGIT
    if kind is C.RANGE:
        return chr(value[0]) >= "0" and chr(value[1]) <= "9"
    return kind is C.LITERAL and chr(value).isdigit() and chr(value).isascii()


def _prefix_item(op: Any, av: Any) -> _Read | None:
    if op is C.LITERAL:
        return {chr(av).lower()}, set()
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return {""}, set()  # zero-width: nothing consumed
    if op is C.IN:
        if all(_digits_only(kind, value) for kind, value in av):
            return set(), {DIGIT}  # begins at a digit: tried at each one (read no further)
        chars: set[str] = set()
        for kind, value in av:
            if kind is C.LITERAL:
                chars.add(chr(value).lower())
            elif kind is C.RANGE and value[1] - value[0] < 10:
                chars.update(chr(c).lower() for c in range(value[0], value[1] + 1))
            else:
                return None
        return chars, set()
    if op is C.SUBPATTERN:
        return _prefix_of(list(av[-1]))
    if op is C.ATOMIC_GROUP:
        return _prefix_of(list(av))
    if op is C.BRANCH:
        whole: set[str] = set()
        cut: set[str] = set()
        for branch in av[1]:
            more_whole, more_cut = _prefix_of(list(branch))
            whole |= more_whole
            cut |= more_cut
        return whole, cut
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, sub = av
        whole, cut = _prefix_of(list(sub))
        if high == 1:  # optional, or exactly once
            return (whole | {""}, cut) if low == 0 else (whole, cut)
        if low >= 1:
            return set(), whole | cut  # at least once: begins as one repetition does
    return None


@dataclass
class Scan:
    """Where each literal a pattern may begin with begins in one text, and which of the other
    indexed literals it holds."""

    starts: dict[str, list[int]] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)


class Prefilter:
    """Answers which patterns may match a text, from the literals the text contains.

    Each pattern needs one literal from each of its requirements (up to three). Aho-Corasick
    automata (compiled C) find them in a pass over the lowered text: one for the literals a match
    may begin with, whose places are kept, and one for the rest, whose presence is all a filter
    needs; common words ("the", "our") are mostly the second kind, and their thousands of places
    in a long text are not collected one by one.
    """

    def __init__(self, sources: Sequence[str]) -> None:
        self.always: set[int] = set()
        self.by_literal: dict[str, list[int]] = {}  # a pattern's most selective requirement
        self._also: dict[int, list[Literals]] = {}
        self._prefixes: dict[int, Literals] = {}
        self._digit_led = False
        required: set[str] = set()
        for index, source in enumerate(sources):
            first = prefixes(source)
            if first is not None:
                self._prefixes[index] = first
                self._digit_led |= DIGIT in first
            sets = required_sets(source)[:3]
            if not sets:
                self.always.add(index)
                continue
            for literal in sets[0]:
                self.by_literal.setdefault(literal, []).append(index)
            if len(sets) > 1:
                self._also[index] = sets[1:]
            required.update(*sets)
        leading = {w for first in self._prefixes.values() for w in first} - {DIGIT}
        self._at = _automaton(leading)
        self._present = _automaton(required - leading)

    def scan(self, lowered: str) -> Scan:
        """Where every leading literal begins in the text, and which other literals it holds."""
        found = Scan()
        if self._at is not None:
            starts = found.starts
            for end, literal in self._at.iter(lowered):
                where = starts.get(literal)
                if where is None:
                    where = starts[literal] = []
                where.append(end - len(literal) + 1)
        if self._present is not None:
            found.present = {literal for _, literal in self._present.iter(lowered)}
        if self._digit_led:
            digits = [i for m in _DIGITS.finditer(lowered) for i in range(m.start(), m.end())]
            if digits:
                found.starts[DIGIT] = digits
        return found

    def starts(self, index: int, scan: Scan) -> list[int] | None:
        """Where a match of pattern `index` may begin, in order; None when its start is not a
        plain literal, so it must be searched for everywhere."""
        first = self._prefixes.get(index)
        if first is None:
            return None
        found = [scan.starts[w] for w in first if w in scan.starts]
        if len(found) == 1:
            return found[0]
        return sorted(itertools.chain.from_iterable(found))  # no literal begins another

    def candidates(self, lowered: str, scan: Scan | None = None) -> list[int]:
        scan = scan or self.scan(lowered)
        present = scan.present.union(scan.starts)
        chosen = set(self.always)
        for literal in present:
            chosen.update(self.by_literal.get(literal, ()))
        also = self._also
        return sorted(
            i
            for i in chosen
            if i not in also or all(not req.isdisjoint(present) for req in also[i])
        )


def _automaton(literals: set[str]) -> ahocorasick.Automaton | None:
    if not literals:
        return None
    automaton = ahocorasick.Automaton()
    for literal in literals:
        automaton.add_word(literal, literal)
    automaton.make_automaton()
    return automaton


def caseless_safe(source: str) -> bool:
    """True when `source` has no uppercase literal or class, so it can run without IGNORECASE on
    lowered text and match the same spans."""
    try:
        parsed = sre.parse(source)
    except re.error:
        return False
    return _no_upper(list(parsed))


def _no_upper(items: Sequence[tuple[Any, Any]]) -> bool:
    for op, av in items:
        if op is C.LITERAL and chr(av) != chr(av).lower():
            return False
        # A negated class of lowercase characters rejects the same characters on lowered text as
        # it did with IGNORECASE on the original, so only capitals make a pattern unsafe here.
        if op is C.NOT_LITERAL and chr(av) != chr(av).lower():
            return False
        if op is C.IN:
            for kind, value in av:
                if kind is C.LITERAL and chr(value) != chr(value).lower():
                    return False
                if kind is C.RANGE and any(
                    chr(c) != chr(c).lower() for c in range(value[0], value[1] + 1)
                ):
                    return False
        if op is C.SUBPATTERN and not _no_upper(list(av[-1])):
            return False
        if op is C.BRANCH and not all(_no_upper(list(b)) for b in av[1]):
            return False
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and not _no_upper(list(av[2])):
            return False
        if op in (C.ASSERT, C.ASSERT_NOT) and not _no_upper(list(av[1])):
            return False
        if op is C.ATOMIC_GROUP and not _no_upper(list(av)):
            return False
    return True


class WordRegex:
    """A case-sensitive pattern for lowered text whose leading `\\b` is checked in Python.

    CPython's engine can skip ahead to a possible first character only when a pattern starts with
    literals; a leading `\\b` hides them. Stripping it and checking the boundary by hand finds
    exactly the matches the original would (a rejected start is retried one character later).
    """

    __slots__ = ("_check", "anchored", "pattern", "regex")

    def __init__(self, source: str) -> None:
        self.pattern = source
        self.anchored = re.compile(source)  # tried only where a match may begin: `\\b` kept
        stripped = source[2:] if source.startswith("\\b") else None
        if stripped is not None and _starts_with_word_chars(stripped):
            self.regex = re.compile(stripped)
            self._check = True
        else:
            self.regex = re.compile(source)
            self._check = False

    def finditer(
        self, text: str, pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        end = len(text) if endpos is None else endpos
        if not self._check:
            yield from self.regex.finditer(text, pos, end)
            return
        search = self.regex.search
        while True:
            m = search(text, pos, end)
            if m is None:
                return
            start = m.start()
            if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
                pos = start + 1
                continue
            yield m
            pos = m.end() if m.end() > start else start + 1

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        return next(self.finditer(text, pos, endpos), None)


def matches_at(regex: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    """What `regex.finditer(text)` finds, given every place (in order) a match may begin: each
    is tried once, so the work follows those places, not the length of the text."""
    match = regex.match
    after = 0
    for start in starts:
        if start < after:
            continue
        m = match(text, start)
        if m is not None:
            yield m
            after = m.end() if m.end() > start else start + 1


_DIGITS = re.compile(r"\d+")


@lru_cache(maxsize=4)
def digit_runs(text: str) -> tuple[int, ...]:
    """Where each run of digits in `text` begins: the only places an amount, a phone number or
    a reference can begin its figures. Kept for the last few texts: the money, phone and number
    checks all ask about the same one."""
    return tuple(m.start() for m in _DIGITS.finditer(text))


def _starts_with_word_chars(source: str) -> bool:
    """True when every possible first character of `source` is a word character, so a leading
    `\\b` means exactly 'the character before is not a word character'."""
    try:
        parsed = sre.parse(source)
    except re.error:
        return False
    firsts = _first_chars(list(parsed))
    return firsts is not None and bool(firsts) and all(c.isalnum() or c == "_" for c in firsts)


def _first_chars(items: Sequence[tuple[Any, Any]]) -> set[str] | None:
    if not items:
        return None
    op, av = items[0]
    if op is C.LITERAL:
        return {chr(av)}
    if op is C.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is C.LITERAL:
                chars.add(chr(value))
            elif kind is C.RANGE:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            else:
                return None
        return chars
    if op is C.SUBPATTERN:
        inner = list(av[-1])
        return _first_chars(inner) if inner else None
    if op is C.BRANCH:
        result: set[str] = set()
        for branch in av[1]:
            first = _first_chars(list(branch))
            if first is None:
                return None
            result |= first
        return result
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _first_chars(list(av[2]))
    return None


# Spellings a rule's words may take: a contraction and its spelt-out form ("aren't" / "are not"),
# and an adverb on either side of its participle ("clearly stated" / "stated clearly").
_BEFORE = r"(?:(?<=\\b)|(?<![A-Za-z']))"
_AFTER = r"(?![A-Za-z'])"
_NOT_VERBS = "are|is|was|were|do|does|did|have|has|had|could|would|should|must|need"
_PRONOUN_FORMS = [
    ("we|you|they", "are", "re"),
    ("it|that|there|what|here", "is", "s"),
    ("i|we|you|they", "have", "ve"),
    ("i|we|you|they|it", "will", "ll"),
    ("i", "am", "m"),
]
_VARIANT = re.compile(
    _BEFORE
    + r"(?:"
    + "".join(
        rf"(?P<q{k}>(?:{who}) {'won' if full == 'will' else full}n't)|"
        for k, (who, full, _) in enumerate(_PRONOUN_FORMS)
        if full != "am"
    )
    + rf"(?P<v>{_NOT_VERBS})(?: not|n't)"
    + r"|(?P<can>can't|cannot|can not)"
    + r"|(?P<wont>won't|will not)"
    + "".join(
        rf"|(?P<p{k}>(?:{who})(?: {full}|'{short})(?P<n{k}> not)?)"
        for k, (who, full, short) in enumerate(_PRONOUN_FORMS)
    )
    + r"|(?P<adv>clearly|explicitly|plainly) (?P<part>stated|mentioned|shown|listed|written|displayed|explained)"
    + r"|(?P<part2>stated|mentioned|shown|listed|written|displayed|explained) (?P<adv2>clearly|explicitly|plainly)"
    + r")"
    + _AFTER
)


def _variant(m: re.Match[str]) -> str:
    for k, (_, full, short) in enumerate(_PRONOUN_FORMS):
        contracted = m.groupdict().get(f"q{k}")
        if contracted:
            return _negated(contracted.split(" ")[0], full, short)
    if m["v"]:
        return f"(?:{m['v']} not|{m['v']}n't)"
    if m["can"]:
        return "(?:can't|cannot|can not)"
    if m["wont"]:
        return "(?:won't|will not)"
    for k, (_, full, short) in enumerate(_PRONOUN_FORMS):
        found = m[f"p{k}"]
        if found:
            who = re.split(r" |'", found)[0]
            if m[f"n{k}"]:
                return _negated(who, full, short)
            return f"(?:{who} {full}|{who}'{short})"
    adverb, participle = (m["adv"], m["part"]) if m["adv"] else (m["adv2"], m["part2"])
    return f"(?:{adverb} {participle}|{participle} {adverb})"


def _negated(who: str, full: str, short: str) -> str:
    """Every spelling of "we are not": we are not, we're not, we aren't (won't for will)."""
    forms = [f"{who} {full} not", f"{who}'{short} not"]
    if full == "will":
        forms.append(f"{who} won't")
    elif full != "am":
        forms.append(f"{who} {full}n't")
    return "(?:" + "|".join(forms) + ")"


# An optional group of adverbs before a group of words: "(?:clearly |plainly )?(?:stated|shown)".
_ADVERB_FIRST = re.compile(r"\(\?:((?:[a-z]+ \|)*[a-z]+ )\)\?\(\?:([a-z|]+)\)")


def _either_order(m: re.Match[str]) -> str:
    adverbs = [a.strip() for a in m[1].split(" |")]
    if not all(a.isalpha() and a.endswith(("ly", "ady")) for a in adverbs):
        return m[0]  # only adverbs ("clearly", "already") go either side
    after = "|".join(adverbs)
    return f"(?:{m[0]}|(?:{m[2]}) (?:{after}))"


def spelling_variants(source: str) -> str:
    """`source` matching its words' other spellings too: every contraction as its spelt-out form
    and back, and an adverb after its word as well as before ("clearly stated", "stated
    clearly"). Texts are matched with straight apostrophes (the linter straightens curly ones)."""
    return _ADVERB_FIRST.sub(_either_order, _VARIANT.sub(_variant, source))


_CONTRACTION = re.compile(
    r"\b(?:(?P<can>can)'t|(?P<wo>wo)n't|(?P<neg>[a-z]+)n't|(?P<who>[a-z]+)'(?P<tail>re|ve|ll|m|d)"
    r"|(?P<its>it|that|there|what|here|he|she)'s)\b",
    re.IGNORECASE,
)
_TAILS = {"re": "are", "ve": "have", "ll": "will", "m": "am", "d": "would"}


def _spelt(m: re.Match[str]) -> str:
    if m["can"]:
        return m["can"] + " not"
    if m["wo"]:
        return ("W" if m["wo"][0] == "W" else "w") + "ill not"
    if m["neg"]:
        return m["neg"] + " not"
    if m["its"]:
        return m["its"] + " is"
    return f"{m['who']} {_TAILS[m['tail'].lower()]}"


class Rewrites:
    """Where each character of a text rewritten at some places stood in the original, from the
    text cut around those places (`before`: gap, stretch, gap, ..., gap) and the same cut with
    each stretch rewritten (`after`). Only the running lengths of the pieces are kept, summed in
    C: a loop or a tuple a rewrite would dominate a text made of them. Gaps are copied one to
    one. Of a rewritten stretch, the first `shared` characters (the letters both spellings
    share: "we" of "we're" as "we are") map one to one, the others to the original's character
    after them, except with `last_to_end` the last one, which maps to the stretch's last
    character: a span ending there closes where the text as written does."""

    __slots__ = ("_last_to_end", "_new", "_old", "_shared")

    def __init__(
        self,
        before: list[str],
        after: list[str],
        shared: list[int] | None = None,
        *,
        last_to_end: bool,
    ) -> None:
        self._old = list(itertools.accumulate(map(len, before), initial=0))
        self._new = list(itertools.accumulate(map(len, after), initial=0))
        self._shared = shared  # one a stretch; None when no stretch shares any
        self._last_to_end = last_to_end

    def __getitem__(self, index: int) -> int:
        new, old = self._new, self._old
        piece = bisect.bisect_right(new, index) - 1  # an empty piece holds no character
        if piece == len(new) - 1:  # the end, or past it
            return old[-1] + index - new[-1]
        d = index - new[piece]
        if piece % 2 == 0:  # a gap
            return old[piece] + d
        shared = self._shared[piece // 2] if self._shared is not None else 0
        if d < shared:
            return old[piece] + d
        if self._last_to_end and d == new[piece + 1] - new[piece] - 1:
            return old[piece + 1] - 1
        return old[piece] + shared


class _Through:
    """An offset map read through another: rewritten twice, back to the first original."""

    __slots__ = ("inner", "outer")

    def __init__(self, outer: Offsets, inner: Offsets) -> None:
        self.outer, self.inner = outer, inner

    def __getitem__(self, index: int) -> int:
        return self.inner[self.outer[index]]


class Offsets(Protocol):
    """Where each character of a rewritten text stood in the original."""

    def __getitem__(self, index: int, /) -> int: ...


def _words_before_apostrophes(text: str) -> Iterator[int]:
    """Where the word before each apostrophe inside a word begins: the only places a contraction
    can. A search for the contraction pattern itself would try every word of the text."""
    for m in _APOSTROPHE.finditer(text):
        begin = m.start()
        while begin and text[begin - 1].isalpha():
            begin -= 1
        yield begin


# An apostrophe with a letter either side, as in every contraction: led by the literal, so the
# engine skips ahead to apostrophes, and quote marks on their own are passed over in C.
_APOSTROPHE = re.compile(r"'(?<=[^\W\d_]')(?=[^\W\d_])")


def _spelling(found: str) -> tuple[str, int]:
    """A contraction spelt out, and how many of its first characters both spellings share."""
    m = _CONTRACTION.fullmatch(found)
    assert m is not None  # `found` is a match of the same pattern
    spelt = _spelt(m)
    shared = 0
    while shared < len(found) - 1 and shared < len(spelt) - 1 and found[shared] == spelt[shared]:
        shared += 1
    return spelt, shared


# The contraction pattern as one capture, for `re.split`: where a text is thick with
# contractions, one split in C beats a Python step for each.
_CONTRACTION_CUT = re.compile(
    "(" + re.sub(r"\(\?P<\w+>", "(?:", _CONTRACTION.pattern) + ")", re.IGNORECASE
)


def _contraction_cuts(text: str) -> list[str]:
    """`text` cut around its contractions: the text before the first, the first, the text up to
    the next, and so on, ending with the text after the last."""
    if text.count("'") * 32 > len(text):
        return _CONTRACTION_CUT.split(text)
    cut: list[str] = []
    last = 0
    for m in matches_at(_CONTRACTION, text, _words_before_apostrophes(text)):
        start, end = m.span()
        cut.append(text[last:start])
        cut.append(m.group(0))
        last = end
    cut.append(text[last:])
    return cut


def spelt_out(text: str) -> tuple[str, Offsets] | None:
    """`text` with its contractions spelt out ("aren't" as "are not"), and where each character
    of the result stood in `text` (one entry more, for the end); None when it has none."""
    if "'" not in text:
        return None
    cut = _contraction_cuts(text)
    if len(cut) == 1:
        return None
    # A text repeats the few contractions it has: each is spelt once.
    spellings = {found: _spelling(found) for found in set(cut[1::2])}
    spelt = _replaced(cut, lambda found: spellings[found][0])
    shared = [spellings[found][1] for found in cut[1::2]]
    return "".join(spelt), Rewrites(cut, spelt, shared, last_to_end=True)


@lru_cache(maxsize=4)
def sentence_marks(text: str) -> list[int]:
    """Where each full stop, question or exclamation mark and line break stands in `text`, in
    order. Found once a text for every rule and check that asks; one literal search a character
    is far faster than a character class tried at every position."""
    found = [m.start() for mark in ".!?\n" for m in re.finditer(re.escape(mark), text)]
    found.sort()
    return found


# A full stop, question or exclamation mark before a space or the end: each led by its mark, so
# the engine skips ahead to it and a mark inside "evil.example" or "£5.00" is passed over in C.
_CLOSING = {mark: re.compile(re.escape(mark) + r"(?=\s|\Z)") for mark in ".!?"}


def _positions(sources: Iterable[re.Pattern[str]], text: str) -> list[int]:
    found = [m.start() for source in sources for m in source.finditer(text)]
    found.sort()
    return found


def sentence_ends(text: str) -> list[int]:
    """Where each sentence of `text` ends, in order: at a line break, or at . ! ? before a
    space or the end ("$12.50" goes on; of "?!" the last mark)."""
    return _positions((_LINE_BREAK, *_CLOSING.values()), text)


_LINE_BREAK = re.compile("\n")
# Where by_sentence cuts a text: a line break, ! and ? anywhere, and a full stop that ends.
_CUTS = (_LINE_BREAK, re.compile("!"), re.compile(r"\?"), _CLOSING["."])


class _Pieces:
    """Offsets for sentences rewritten one by one and set one to a line: each piece's own
    offsets, shifted to where its sentence begins."""

    __slots__ = ("_maps", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._maps: list[tuple[int, Offsets]] = []

    def add(self, at: int, begin: int, offsets: Offsets) -> None:
        self._starts.append(at)
        self._maps.append((begin, offsets))

    def __getitem__(self, index: int) -> int:
        k = bisect.bisect_right(self._starts, index) - 1
        begin, offsets = self._maps[k]
        return begin + offsets[index - self._starts[k]]


class Marks:
    """Where in a text a rewrite may change something, asked from a place on. Each pattern's next
    mark is kept until the place passes it, so asking again costs nothing and the marks inside a
    sentence already rewritten are passed over in C rather than one by one. `keep`, when given,
    accepts or refuses a match; `a | b` is either's marks."""

    __slots__ = ("_next", "_searches")

    def __init__(
        self,
        subject: str,
        patterns: Iterable[re.Pattern[str]],
        keep: Callable[[str], bool] | None = None,
    ) -> None:
        self._searches = tuple((subject, pattern, keep) for pattern in patterns)
        # Per pattern: (searched from, the first kept mark there or None). A match tried at a
        # place does not depend on where the search began, so it answers every later place
        # up to that mark; without it, a pattern with no marks left was searched to the end of
        # the text once for every mark of the others.
        self._next: list[tuple[int, int | None]] = [(-1, None)] * len(self._searches)

    def __or__(self, other: Marks) -> Marks:
        either = Marks("", ())
        either._searches = self._searches + other._searches
        either._next = self._next + other._next
        return either

    def _first(self, k: int, pos: int) -> int | None:
        searched, found = self._next[k]
        if searched != -1 and searched <= pos and (found is None or found >= pos):
            return found
        subject, pattern, keep = self._searches[k]
        m = pattern.search(subject, pos)
        while m is not None and keep is not None and not keep(m.group()):
            m = pattern.search(subject, m.start() + 1)
        found = None if m is None else m.start()
        self._next[k] = (pos, found)
        return found

    def after(self, pos: int) -> int | None:
        """The first mark at or after `pos`, or None."""
        firsts = [at for k in range(len(self._searches)) if (at := self._first(k, pos)) is not None]
        return min(firsts) if firsts else None

    def __iter__(self) -> Iterator[int]:
        pos = 0
        while (at := self.after(pos)) is not None:
            yield at
            pos = at + 1


def by_sentence(
    text: str, rewrite: Callable[[str], tuple[str, Offsets] | None], marks: Marks
) -> tuple[str, Offsets] | None:
    """`rewrite` applied to each sentence of `text` that holds one of `marks` (where it may
    change something), the sentences it changed one to a line; with where each character of the
    result stood in `text`. None when it changed none. Rules never match across a sentence end,
    so the unchanged sentences would only repeat what the text as written finds, and a long text
    is rewritten only where it needs to be."""
    breaks: list[int] | None = None
    parts: list[str] = []
    pieces = _Pieces()
    length = 0
    done = 0
    while (mark := marks.after(done)) is not None:
        if breaks is None:
            breaks = _positions(_CUTS, text)
        i = bisect.bisect_right(breaks, mark)
        begin = breaks[i - 1] + 1 if i else 0
        end = breaks[i] + 1 if i < len(breaks) else len(text)  # its closing mark included
        done = end
        rewritten = rewrite(text[begin:end])
        if rewritten is None:
            continue
        sentence, offsets = rewritten
        pieces.add(length, begin, offsets)
        parts.append(sentence + "\n")
        length += len(sentence) + 1  # the line break stands for the sentence's end
    if not parts:
        return None
    pieces.add(length, len(text), _END)
    return "".join(parts), pieces


class _AtZero:
    def __getitem__(self, index: int) -> int:
        return 0


_END = _AtZero()


# What a model may be tricked into hiding a link, a number or an amount behind: invisible
# characters, look-alike forms (fullwidth digits and dots), and "defanged" spellings.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_DEFANGED = re.compile(
    r"hxxps?(?=://)|\s?(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\})\s?|\s\[?dot\]?\s(?=[a-z]{2,})|"
    r"\s?(?:\[at\]|\(at\)|\{at\})\s?|\[:\]|\[://\]",
    re.I,
)
# Every defanged spelling holds one of these. Each is looked for on its own, led by a literal:
# the engine skips ahead to a pattern's leading literal fast, while an alternation of them is
# tried at every position.
_DEFANG_MARKS = tuple(
    re.compile(source)
    for source in (*(rf"{re.escape(b)}(?=[.:]|dot|at)" for b in "[({"), "hxxp", "dot")
)
_DEFANGED_CUT = re.compile(f"({_DEFANGED.pattern})", re.I)
_DEFANG_MARKS_ANY_CASE = tuple(re.compile(p.pattern, re.IGNORECASE) for p in _DEFANG_MARKS)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _masks(ch: str) -> bool:
    """Whether unmasking changes `ch`: an invisible character or a look-alike form."""
    return ch in _INVISIBLE or not unicodedata.is_normalized("NFKC", ch)


@lru_cache(maxsize=4096)
def _unmasked_character(ch: str) -> str:
    """`ch` as unmasking reads it: gone if invisible, else NFKC-normalised."""
    return "" if ch in _INVISIBLE else unicodedata.normalize("NFKC", ch)


@lru_cache(maxsize=1)
def _masking_bmp() -> re.Pattern[str]:
    """Every character of the Basic Multilingual Plane that unmasking changes, as one class:
    the engine tests a class of that plane with a bitmap in C, where a class reaching beyond it
    is a list of ranges tried one by one. Read from this Python's own Unicode data, once."""
    found = [c for c in range(0x80, 0x10000) if _masks(chr(c))]
    ranges: list[tuple[int, int]] = []
    for c in found:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1] = (ranges[-1][0], c)
        else:
            ranges.append((c, c))
    return re.compile(
        "["
        + "".join(
            re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
            for a, b in ranges
        )
        + "]"
    )


def unmask_marks(text: str, lowered: str | None = None) -> Marks:
    """Where `unmasked` may change something in `text`: an invisible or look-alike character, a
    bracketed dot or at, "hxxp" and "dot". `lowered`: `text.lower()`, when the caller has it."""
    if lowered is None:
        lowered = text.lower()
    characters = Marks(text, (_masking_bmp(),))
    beyond = Marks(text, (_ASTRAL,), keep=_masks)
    # Looked for in the lowered text (a caseless literal search is far slower), unless lowering
    # moved the offsets; then with IGNORECASE on the text as it is.
    if len(lowered) == len(text):
        spellings = Marks(lowered, _DEFANG_MARKS)
    else:
        spellings = Marks(text, _DEFANG_MARKS_ANY_CASE)
    return characters | beyond | spellings


_REFANG = {"[at]": "@", "(at)": "@", "{at}": "@", "[:]": ":", "[://]": "://"}


@lru_cache(maxsize=256)  # a text repeats the few spellings it has
def _refanged(found: str) -> str:
    key = found.strip().lower()
    if key.startswith("hxxp"):
        return "http" + found[4:]
    return _REFANG.get(key, ".")  # every other spelling is a dot


def unmasked(text: str) -> tuple[str, Offsets] | None:
    """`text` as a gate rule must read it: NFKC-normalised (fullwidth "５ｋ" as "5k"), invisible
    and direction-control characters removed, and defanged spellings ("hxxp", "[.]", "(dot)")
    read as what they mean; with where each character of the result stood in `text` (one entry
    more, for the end). None when nothing changes."""
    # Each character unmasking changes is changed by a table, in C. Only those that become
    # other than one character move the offsets after them: the text is cut around those.
    present = set(_masking_bmp().findall(text))
    present.update(ch for ch in set(_ASTRAL.findall(text)) if _masks(ch))
    joined = text
    where = Rewrites([text], [text], last_to_end=False)
    if present:
        table = {ch: _unmasked_character(ch) for ch in present}
        joined = text.translate({ord(ch): plain for ch, plain in table.items()})
        resized = "".join(re.escape(ch) for ch, plain in table.items() if len(plain) != 1)
        if resized:
            cut = re.split(f"([{resized}])", text)
            where = Rewrites(cut, _replaced(cut, table.__getitem__), last_to_end=False)
    if not any(mark.search(joined) for mark in _DEFANG_MARKS_ANY_CASE) or not (
        _DEFANGED.search(joined)
    ):
        return None if joined == text else (joined, where)
    cut = _DEFANGED_CUT.split(joined)
    refanged = _replaced(cut, _refanged)
    moved = Rewrites(cut, refanged, last_to_end=False)
    return "".join(refanged), _Through(moved, where)


def _replaced(cut: list[str], plain: Callable[[str], str]) -> list[str]:
    """A text cut around the stretches a rewrite changes (gap, stretch, gap, ..., gap), each
    stretch replaced by `plain` of it."""
    out = cut.copy()
    out[1::2] = map(plain, cut[1::2])
    return out
