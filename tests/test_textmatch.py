"""The literal analysis the linter and the classifier share: which patterns can match a text,
decided from literals every match must contain. It may only ever skip patterns that cannot match."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.intake.facts import MONEY, money_in
from assistant.lint.rules import compiled_rules
from assistant.textmatch import (
    DIGIT,
    Marks,
    Prefilter,
    WordRegex,
    by_sentence,
    caseless_safe,
    matches_at,
    prefixes,
    required_sets,
    spelt_out,
    unmask_marks,
    unmasked,
)

PATTERNS = [p for c in compiled_rules() if c.rule.kind != "structure" for p in c.patterns]
SOURCES = [p.source for p in PATTERNS]
EXAMPLES = [e for c in compiled_rules() for e in (*c.rule.must_flag, *c.rule.must_not_flag)]
WORDS = sorted({w for e in EXAMPLES for w in re.findall(r"[\w']+|[.,!?]", e)})
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join)
PREFILTER = Prefilter(SOURCES)


def _matching(text: str) -> set[int]:
    lowered = text.lower()
    return {i for i, p in enumerate(PATTERNS) if any(s != e for s, e in p.spans(text, lowered))}


def test_required_literals_occur_in_every_match() -> None:
    for source in SOURCES:
        regex = re.compile(source, re.IGNORECASE)
        for example in EXAMPLES:
            for m in regex.finditer(example):
                for requirement in required_sets(source):
                    assert any(lit in m.group(0).lower() for lit in requirement), (source, m[0])


def test_every_pattern_that_matches_a_rule_example_is_a_candidate() -> None:
    matched_somewhere = 0
    for example in EXAMPLES:
        matching = _matching(example)
        matched_somewhere += bool(matching)
        assert matching <= set(PREFILTER.candidates(example.lower())), example
    assert matched_somewhere > len(EXAMPLES) / 3  # the check above is not vacuous


def test_the_prefilter_skips_most_patterns_on_a_clean_reply() -> None:
    clean = "Hi Ann, I'm so sorry the lamp arrived broken. I've sent a new one today. Sam"
    assert len(PREFILTER.candidates(clean.lower())) < len(SOURCES) / 4


@settings(max_examples=80, deadline=None)
@given(texts)
def test_the_prefilter_never_skips_a_pattern_that_would_match(text: str) -> None:
    assert _matching(text) <= set(PREFILTER.candidates(text.lower()))


@settings(max_examples=80, deadline=None)
@given(texts)
def test_word_regex_finds_the_same_spans_as_the_plain_pattern(text: str) -> None:
    lowered = text.lower()
    for source in SOURCES:
        if caseless_safe(source):
            expected = [m.span() for m in re.finditer(source, lowered)]
            assert [m.span() for m in WordRegex(source).finditer(lowered)] == expected, source


def test_caseless_safe_refuses_patterns_with_capitals() -> None:
    assert caseless_safe(r"\bour records show\b")
    assert not caseless_safe(r"\bSORRY\b") and not caseless_safe(r"[A-Z]{3,}")


def _anchored_spans(text: str) -> dict[int, list[tuple[int, int]]]:
    """Each pattern's spans when it is tried only where the prefilter says a match may begin."""
    lowered = text.lower()
    scan = PREFILTER.scan(lowered)
    found = {}
    for i, pattern in enumerate(PATTERNS):
        starts = PREFILTER.starts(i, scan)
        found[i] = [] if starts == [] else list(pattern.spans(text, lowered, starts))
    return found


def test_every_match_begins_with_one_of_its_patterns_prefixes() -> None:
    derived = 0
    for source in SOURCES:
        first = prefixes(source)
        if first is None:
            continue
        derived += 1
        for example in EXAMPLES:
            for m in re.finditer(source, example, re.IGNORECASE):
                assert any(
                    m[0].lower().startswith(p) or (p == DIGIT and re.match(r"\d", m[0]))
                    for p in first
                ), (source, m[0])
    assert derived > len(SOURCES) * 0.8  # most patterns run only where they can begin


def test_prefixes_read_through_optional_words_and_alternatives() -> None:
    assert prefixes(r"\b(?:as )?a one[- ]?time\b") == {
        "as a one",
        "a one-ti",
        "a one ti",
        "a onetim",
    }
    assert prefixes(r"\b(?:sorry|regret)\b[^.]*but") == {"sorry", "regret"}
    assert prefixes(r"[!?]{2,}") is None  # no literal of two characters begins every match
    assert prefixes(r"\b\w+ly sorry") is None


def test_tried_where_they_may_begin_patterns_find_what_a_full_search_finds() -> None:
    lowered_examples = [e for e in EXAMPLES]
    # One long text (sentences of every rule side by side, in two cases) and each example alone.
    long = "\n".join(lowered_examples) + " " + " ".join(e.upper() for e in lowered_examples)
    for text in [long, *EXAMPLES]:
        lowered = text.lower()
        anchored = _anchored_spans(text)
        for i, pattern in enumerate(PATTERNS):
            assert anchored[i] == list(pattern.spans(text, lowered)), (pattern.source, text[:80])


@settings(max_examples=80, deadline=None)
@given(texts)
def test_anchored_patterns_agree_with_a_full_search_on_any_mix_of_words(text: str) -> None:
    lowered = text.lower()
    anchored = _anchored_spans(text)
    for i, pattern in enumerate(PATTERNS):
        assert anchored[i] == list(pattern.spans(text, lowered)), pattern.source


@given(
    st.lists(
        st.sampled_from(
            [
                "$",
                "£",
                "€",
                "USD",
                "usd ",
                "NZ$",
                " ",
                "5",
                "1,250.00",
                "2 500",
                "k",
                "dollars",
                "thousand",
                ".",
                ",",
                "7",
                "a",
                "paid",
                "\n",
                "¥",
                "12.5",
                "CHF",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_money_is_found_where_a_full_search_finds_it(text: str) -> None:
    assert [m.span() for m in money_in(text)] == [m.span() for m in MONEY.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["we", "We", "'", "re", "n't", "can", "t", "won", "it", "s", " ", "é", "5", "\n", "ll"]
        ),
        max_size=25,
    ).map("".join)
)
def test_contractions_are_found_where_a_full_search_finds_them(text: str) -> None:
    from assistant.textmatch import _CONTRACTION, _words_before_apostrophes

    found = [m.span() for m in matches_at(_CONTRACTION, text, _words_before_apostrophes(text))]
    assert found == [m.span() for m in _CONTRACTION.finditer(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Visit evil[.]example now",
        "Write to claims(at)evil.example",
        "Go to hxxps://evil.example",
        "evil dot example dot com",
        "Pay\u200b here",
        "Call ０１２３",
        "Visit EVIL[DOT]EXAMPLE",
        "İstanbul: visit evil[.]example",  # lowering changes the length here
    ],
)
def test_every_masked_spelling_is_marked_where_unmasking_changes_it(text: str) -> None:
    reading = unmasked(text)
    assert reading is not None
    marks = unmask_marks(text)
    assert list(marks)
    # Every sentence unmasking changes holds a mark, so the linter rewrites it.
    assert by_sentence(text, unmasked, marks) is not None


def test_brackets_and_symbols_in_plain_text_are_not_marked() -> None:
    assert list(unmask_marks("Refund (in full) of £20 [order 5] is done; a dotted line.")) == [
        len("Refund (in full) of £20 [order 5] is done; a ")
    ]


def test_matches_at_tries_each_place_once_and_never_overlaps() -> None:
    regex = re.compile(r"ab+")
    assert [m.span() for m in matches_at(regex, "abbab", [0, 1, 3])] == [(0, 3), (3, 5)]
    assert [m.span() for m in matches_at(regex, "abbab", [3])] == [(3, 5)]


def test_by_sentence_rewrites_only_the_sentences_it_changes_and_maps_them_back() -> None:
    text = "We are fine. We aren't responsible! Write to evil.example now.\nIt's ok"
    reading, where = by_sentence(text, spelt_out, Marks(text, [re.compile("'")]))
    assert reading == " We are not responsible!\nIt is ok\n"
    at = reading.index("responsible")
    assert text[where[at] : where[at + len("responsible") - 1] + 1] == "responsible"
    assert where[reading.index("It")] == text.index("It's")
    assert where[len(reading)] == len(text)  # the end maps to the end
    plain = "Nothing to change here."
    assert by_sentence(plain, spelt_out, Marks(plain, [re.compile("h")])) is None


@pytest.mark.parametrize(
    ("text", "word", "written"),
    [
        ("So we're sorry.", "we", "we"),  # a span ending at the shared letters ends there
        ("They aren't here.", "are not", "aren't"),
        ("I can't say.", "can not", "can't"),
        ("It won't last.", "will not", "won't"),
        ("Sorry you've waited.", "you have", "you've"),
    ],
)
def test_spelt_out_maps_each_word_back_to_what_was_written(
    text: str, word: str, written: str
) -> None:
    reading, where = spelt_out(text)  # type: ignore[misc]
    at = reading.index(word)
    start, end = where[at], where[at + len(word) - 1] + 1
    assert text[start:end] == written
    assert where[len(reading)] == len(text)


_WORDS_AND_CONTRACTIONS = [
    "we're", "aren't", "can't", "WON'T", "it's", "John's", "I'd", "'quoted'", "O'Neil",
    "rock'n'roll", "y'all", "été'd", "sorry", "the", "x", ".", "\n",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS_AND_CONTRACTIONS), max_size=30))
def test_a_reply_thick_with_contractions_is_spelt_out_as_a_sparse_one_is(
    words: list[str],
) -> None:
    # Dense text is cut in one split; sparse text word by word. Padded with plain words, the
    # same contractions take the other path: both must read and map alike.
    dense = " ".join(words)
    sparse = dense + " " + "plain " * (40 * len(dense) + 1)
    a, b = spelt_out(dense), spelt_out(sparse)
    assert (a is None) is (b is None)
    if a is not None and b is not None:
        assert b[0].startswith(a[0])
        assert [a[1][i] for i in range(len(a[0]) + 1)] == [b[1][i] for i in range(len(a[0]) + 1)]


def test_by_sentence_keeps_a_dotted_address_in_one_piece() -> None:
    text = "Thanks. Write to claims\u200b@evil.example today. Bye"
    reading, where = by_sentence(text, unmasked, unmask_marks(text))
    assert "claims@evil.example today." in reading
    at = reading.index("evil")
    assert text[where[at] :].startswith("evil.example")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                " ",
                ".",
                "!",
                "\n",
                "é",
                "我",
                "😀",
                "𝐀",
                "\u00a0",
                "５",
                "\u200b",
                "[.]",
                " dot ",
                "ab",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_every_text_unmasking_changes_is_marked_where_it_changes(text: str) -> None:
    # Look-alikes inside and beyond the Basic Multilingual Plane ("𝐀" reads "A"; an emoji or a
    # Chinese character reads as itself), invisible characters and defanged spellings.
    assert (by_sentence(text, unmasked, unmask_marks(text)) is None) == (unmasked(text) is None)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", " ", ".", "!", "?", "\n", "5", "\t", "é"]), max_size=30).map(
        "".join
    )
)
def test_sentences_end_where_the_sentence_pattern_says(text: str) -> None:
    from assistant.lint.context import Context

    ends = [m.end() for m in re.finditer(r"[.!?]+(?=\s|$)|\n", text)]
    ctx = Context(text)
    for i in range(len(text)):
        k = sum(1 for e in ends if e <= i)
        begin = ends[k - 1] if k else 0
        after = [e for e in ends if e >= i + 1]
        assert ctx.sentence(i, i + 1) == (begin, after[0] if after else len(text))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(['"', "“", "”", "'", "a", "_", "é", " ", "\n", "abc", "it's"]), max_size=40
    ).map("".join)
)
def test_quoted_words_are_found_where_one_quotation_pattern_finds_them(text: str) -> None:
    from assistant.lint.context import Context

    quotation = r"\"[^\"\n]{3,400}\"|“[^”\n]{3,400}”|(?<![\w])'[^'\n]{3,200}'(?![\w])"
    assert Context(text).excluded == [m.span() for m in re.finditer(quotation, text)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["5", "0", "٣", "x", " ", "%", "day", "-", "thirty", "a1"]), max_size=20
    ).map("".join)
)
def test_a_pattern_that_begins_with_a_figure_is_tried_at_every_digit(text: str) -> None:
    sources = [r"\b(?:\d+|thirty)[- ]day", r"[5-9]\d ?%", r"\d"]
    prefilter = Prefilter(sources)
    scan = prefilter.scan(text)
    for index, source in enumerate(sources):
        assert DIGIT in prefixes(source)  # type: ignore[operator]
        regex = re.compile(source)
        starts = prefilter.starts(index, scan) or []
        found = [m.span() for m in matches_at(regex, text, starts)]
        assert found == [m.span() for m in regex.finditer(text)]
