"""The fast path: which patterns can possibly match a text, decided by plain substring checks.

From each regular expression we derive a set of literal strings at least one of which every match
must contain. A reply is tested for those literals once (`in` on the lowered text is far cheaper
than running a case-insensitive regex), and only patterns whose literals are present run at all.
Most replies are clean, so most patterns never run.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import re
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from re import _constants as C  # type: ignore[attr-defined]  # the stdlib's own parser
from re import _parser as sre  # type: ignore[attr-defined]
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # ships no type stubs
import platformdirs

hyperscan: Any
try:  # the [fast] extra: x86-64 only, so never required
    hyperscan = importlib.import_module("hyperscan")
except ImportError:  # depends on what is installed
    hyperscan = None

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


class Prefilter:
    """Answers which patterns may match a text, from the literals the text contains.

    Each pattern needs one literal from each of its requirements (up to three). One Aho-Corasick
    automaton (compiled C) finds every literal in a single pass over the lowered text.
    """

    def __init__(self, sources: Sequence[str]) -> None:
        self.always: set[int] = set()
        self.by_literal: dict[str, list[int]] = {}  # a pattern's most selective requirement
        self._also: dict[int, list[Literals]] = {}
        self._automaton = ahocorasick.Automaton()
        for index, source in enumerate(sources):
            sets = required_sets(source)[:3]
            if not sets:
                self.always.add(index)
                continue
            for literal in sets[0]:
                self.by_literal.setdefault(literal, []).append(index)
            if len(sets) > 1:
                self._also[index] = sets[1:]
            for literal in frozenset().union(*sets):
                self._automaton.add_word(literal, literal)
        if len(self._automaton):
            self._automaton.make_automaton()

    def present(self, lowered: str) -> set[str]:
        """Every indexed literal that occurs in the text."""
        if not len(self._automaton):
            return set()
        return {literal for _end, literal in self._automaton.iter(lowered)}

    def candidates(self, lowered: str) -> list[int]:
        present = self.present(lowered)
        chosen = set(self.always)
        for literal in present:
            chosen.update(self.by_literal.get(literal, ()))
        also = self._also
        return sorted(
            i
            for i in chosen
            if i not in also or all(not req.isdisjoint(present) for req in also[i])
        )


def caseless_safe(source: str) -> bool:
    """True when `source` has no uppercase literal or class, so it can run without IGNORECASE on
    lowered text (about twice as fast in CPython's engine) and match the same spans."""
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

    __slots__ = ("_check", "pattern", "regex")

    def __init__(self, source: str) -> None:
        self.pattern = source
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


# On ASCII text without these, Hyperscan's patterns mean what Python's do: its \w, \b and \s are
# ASCII, while Python also counts the separators \x1c-\x1f as space.
_SEPARATORS = ("\x1c", "\x1d", "\x1e", "\x1f")
_PREFILTER_FLAGS = 0
_EXACT_FLAGS = 0
if hyperscan is not None:
    _PREFILTER_FLAGS = (
        hyperscan.HS_FLAG_PREFILTER
        | hyperscan.HS_FLAG_SINGLEMATCH
        | hyperscan.HS_FLAG_CASELESS
        | hyperscan.HS_FLAG_ALLOWEMPTY
    )
    _EXACT_FLAGS = hyperscan.HS_FLAG_SINGLEMATCH


def scanner_available() -> bool:
    return hyperscan is not None


class Scanner:
    """Every pattern at once, in one compiled Hyperscan database (the [fast] extra).

    `prefilter` patterns are compiled in Hyperscan's prefilter mode, which may report a pattern
    that Python would not match but never misses one: the answer is which rule patterns are worth
    running at all, much sharper than which literals occur. `exact` patterns are compiled as they
    are, for checks that ask whether any of a named group of patterns matches anywhere. `gates`
    are named groups in prefilter mode: their absence proves a check has nothing to find, their
    presence proves nothing. Text outside plain ASCII is left to the Aho-Corasick path (`scan`
    returns None), where the two engines could disagree on what a word character is.
    """

    def __init__(
        self,
        prefilter: Sequence[str],
        exact: Mapping[str, Sequence[str]],
        gates: Mapping[str, Sequence[str]] | None = None,
        cased: Collection[int] = (),
    ) -> None:
        assert hyperscan is not None
        named = [(name, src, _EXACT_FLAGS) for name, group in exact.items() for src in group] + [
            (name, src, _PREFILTER_FLAGS) for name, group in (gates or {}).items() for src in group
        ]
        self._names = [name for name, _, _ in named]
        self._first_named = first = len(prefilter)
        self._database, unusable = _database(
            (
                *((i, src, _PREFILTER_FLAGS) for i, src in enumerate(prefilter) if i not in cased),
                *((first + j, src, flags) for j, (_, src, flags) in enumerate(named)),
            )
        )
        # Case-sensitive patterns ("SHOUTING") see the text as written, in a database of their
        # own: on lowered text without case they would be candidates on every reply.
        self._cased: Any = None
        if cased:
            self._cased, unusable_cased = _database(
                tuple(
                    (i, prefilter[i], _PREFILTER_FLAGS & ~hyperscan.HS_FLAG_CASELESS) for i in cased
                )
            )
            unusable = unusable | unusable_cased
        # A pattern Hyperscan cannot take is a candidate on every text, as Python must decide.
        self._always = sorted(i for i in unusable if i < first)
        self._never_known = frozenset(self._names[i - first] for i in unusable if i >= first)
        self._local = threading.local()  # scratch spaces per thread: scans never share one

    def scan(
        self, lowered: str, text: str | None = None
    ) -> tuple[list[int], frozenset[str]] | None:
        """(the prefilter patterns that may match, the named groups that matched), or None when
        this text must take the slower path. `text` is the reply as written, for case-sensitive
        patterns (the lowered text when omitted). A named pattern Hyperscan could not compile
        counts as matching, so its check falls back to Python."""
        text = lowered if text is None else text
        if not (lowered.isascii() and text.isascii()) or any(c in text for c in _SEPARATORS):
            return None
        hits: list[int] = []
        self._run("lowered", self._database, lowered, hits)
        self._run("cased", self._cased, text, hits)
        first = self._first_named
        found = [i for i in hits if i < first]
        candidates = sorted({*self._always, *found}) if self._always else sorted(found)
        matched = self._never_known | {self._names[i - first] for i in hits if i >= first}
        return candidates, frozenset(matched)

    def _run(self, slot: str, database: Any, text: str, hits: list[int]) -> None:
        if database is None:
            return
        scratch = getattr(self._local, slot, None)
        if scratch is None:
            scratch = hyperscan.Scratch(database)
            setattr(self._local, slot, scratch)
        database.scan(
            text.encode("ascii"),
            match_event_handler=lambda i, _f, _t, _fl, _c: hits.append(i),
            scratch=scratch,
        )


def make_scanner(
    prefilter: Sequence[str],
    exact: Mapping[str, Sequence[str]],
    gates: Mapping[str, Sequence[str]] | None = None,
    cased: Collection[int] = (),
) -> Scanner | None:
    """A Scanner, or None when Hyperscan is not installed or cannot run here (it needs SSSE3,
    which some emulated CPUs lack): the linter then keeps its pure-Python path."""
    if hyperscan is None:
        return None
    try:
        return Scanner(prefilter, exact, gates, cased)
    except hyperscan.error:
        return None


Entry = tuple[int, str, int]  # id, pattern, flags


@functools.cache
def _database(entries: tuple[Entry, ...]) -> tuple[Any, frozenset[int]]:
    """The compiled database of `entries` and the ids it had to leave out: once per process for
    each set of patterns (every Linter with the same rules shares it; databases are read-only,
    scratch space is per Scanner and thread), loaded from the on-disk cache when another process
    compiled them before (compiling takes about a second; loading, a millisecond)."""
    assert hyperscan is not None
    if not entries:
        return None, frozenset()  # Hyperscan has no empty database; nothing to scan for
    version = getattr(hyperscan, "__version__", "")
    key = hashlib.sha256(repr((version, entries)).encode("utf-8")).hexdigest()[:32]
    cache = Path(platformdirs.user_cache_dir("complaint-assistant")) / "hyperscan" / f"{key}.db"
    try:
        header, _, blob = cache.read_bytes().partition(b"\n")
        loaded = hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
        # A database compiled on another CPU (a home directory shared between machines) loads
        # but is refused here, when its scratch space is made: then it is compiled again.
        hyperscan.Scratch(loaded)
        return loaded, frozenset(json.loads(header))
    except (OSError, ValueError, hyperscan.error):
        pass
    unusable: set[int] = set()
    try:
        database = _compile(entries)
    except hyperscan.error:
        # Only now find which patterns it refuses, one by one; the rest still go in.
        unusable = {entry[0] for entry in entries if not _compiles(entry)}
        database = _compile([e for e in entries if e[0] not in unusable])
    try:  # a cache that cannot be written only costs the next process the compile
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(
            json.dumps(sorted(unusable)).encode() + b"\n" + hyperscan.dumpb(database)
        )
        partial.replace(cache)
    except OSError:
        pass
    return database, frozenset(unusable)


def _compile(entries: Sequence[Entry]) -> Any:
    assert hyperscan is not None
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[src.encode("utf-8") for _, src, _ in entries],
        ids=[i for i, _, _ in entries],
        elements=len(entries),
        flags=[flags for _, _, flags in entries],
    )
    return database


def _compiles(entry: Entry) -> bool:
    try:
        _compile([entry])
    except hyperscan.error:
        return False
    return True
