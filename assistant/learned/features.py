"""The features the shipped models read, the same at training and at run time: hashed word and
character n-grams (scikit-learn's HashingVectorizer, so no vocabulary ships), and for a reply
sentence, how it sits beside the customer's email (what it repeats of it, as a question or a
denial: the shape of "Have you tried restarting it?" to someone who says they did)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

N_FEATURES = 2**18

_CONTRACTIONS = [
    (r"\bcan['’]t\b", "cannot"),
    (r"\bwon['’]t\b", "will not"),
    (r"\bshan['’]t\b", "shall not"),
    (r"\b(\w+)n['’]t\b", r"\1 not"),
    (r"\b(i|you|we|they|it|that|there|he|she|who|what)['’]re\b", r"\1 are"),
    (r"\b(i|you|we|they|it|that|there|he|she|who|what)['’]ve\b", r"\1 have"),
    (r"\b(i|you|we|they|it|that|there|he|she|who|what)['’]ll\b", r"\1 will"),
    (r"\b(i|you|we|they|it|that|there|he|she|who|what)['’]d\b", r"\1 would"),
    (r"\bi['’]m\b", "i am"),
    (r"\b(it|that|there|he|she|what|who)['’]s\b", r"\1 is"),
]
_CONTRACTION_RES = [(re.compile(p, re.IGNORECASE), r) for p, r in _CONTRACTIONS]


def normalise(text: str) -> str:
    """Lowercase, curly quotes straight, contractions spelt out: "aren't" and "are not" alike."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    for pattern, replacement in _CONTRACTION_RES:
        text = pattern.sub(replacement, text)
    return text


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.M)


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """Sentence spans, in order: runs of text up to . ! ? or a line break, trimmed of spaces.
    Lazily, so a reader that stops early (the tone layer's cap) reads no further."""
    for m in _SENTENCE.finditer(text):
        start, end = m.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start >= 3:
            yield start, end


@cache
def _hashed(analyzer: str, low: int, high: int) -> HashingVectorizer:
    """n-grams of `low` to `high` words (analyzer "word") or characters ("char_wb"), hashed."""
    return HashingVectorizer(
        n_features=N_FEATURES,
        analyzer=analyzer,
        ngram_range=(low, high),
        token_pattern=r"(?u)\b\w[\w']*\b",
        alternate_sign=False,
        norm="l2",
        lowercase=False,
    )


def _ngrams(texts: list[str]) -> list[sp.csr_matrix]:
    return [_hashed("word", 1, 3).transform(texts), _hashed("char_wb", 2, 5).transform(texts)]


_WORDS = re.compile(r"[a-z][a-z']+")
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "you",
        "your",
        "we",
        "our",
        "us",
        "i",
        "my",
        "me",
        "have",
        "has",
        "had",
        "do",
        "did",
        "does",
        "not",
        "no",
        "so",
        "if",
        "as",
        "by",
        "from",
        "can",
        "will",
        "would",
        "could",
        "should",
        "just",
        "about",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "its",
        "am",
    ]
)
_NEGATION = re.compile(r"\b(?:not|no|never|nothing|none|cannot|without)\b")
_CONTEXT = 6


def _content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORDS.findall(text) if w not in _STOP)


def _context(sentence: str, theirs: frozenset[str] | None) -> list[float]:
    """How the sentence sits beside the email, given the email's content words."""
    if theirs is None:
        return [0.0] * _CONTEXT
    words = _content_words(sentence)
    overlap = len(words & theirs) / len(words) if words else 0.0
    question = float(sentence.rstrip().endswith("?"))
    negated = float(bool(_NEGATION.search(sentence)))
    you = float(bool(re.search(r"\byou\b", sentence)))
    return [1.0, overlap, overlap * question, overlap * negated, question * you, negated * you]


def sentence_matrix(items: list[tuple[str, str | None]]) -> sp.csr_matrix:
    """One row per (sentence, the email it answers or None)."""
    texts = [normalise(s) for s, _ in items]
    # Each email read once, not once per sentence: it may be as long as the input limit.
    emails = {e: _content_words(normalise(e)) for _, e in items if e}
    context = np.array(
        [_context(t, emails[e] if e else None) for t, (_, e) in zip(texts, items, strict=True)],
        dtype=np.float64,
    )
    return sp.hstack([*_ngrams(texts), sp.csr_matrix(context)], format="csr")


def text_matrix(texts: list[str]) -> sp.csr_matrix:
    """One row per whole text (a complaint)."""
    return sp.hstack(_ngrams([normalise(t) for t in texts]), format="csr")
