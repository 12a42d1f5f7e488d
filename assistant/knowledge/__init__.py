"""The company's own knowledge: help articles, saved replies (macros) and policies, as Markdown
files with front matter, and a BM25 index over them (bm25s) that finds what fits a complaint.

A file looks like this:

    ---
    title: Delayed or damaged baggage
    url: https://example.com/help/baggage
    kind: article          # article | macro | policy
    tags: [bag, damaged_or_defective, claim]
    ---
    1. Report it at the airport ...

The index is built once per process for a set of folders and rebuilt when any file in them
changes (its path, size or modification time), so a long-running server picks up edits."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Literal

import bm25s
import frontmatter
import Stemmer
import yaml
from pydantic import BaseModel, Field, ValidationError
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ..errors import ConfigError
from ..models import Category, Source

Kind = Literal["article", "macro", "policy"]
# A document must share at least this many stemmed words with the query to count as fitting: a
# BM25 rank alone always names a "best" document, even for a query it has nothing to say about,
# and its scores depend on the size of the folder, so no fixed score can say "fits".
_MIN_SHARED = 2
# bm25s's own English list keeps "what", "my" and "where": a question would match on them.
# sklearn's list lacks a few words every question and greeting holds.
_STOPWORDS = sorted(
    ENGLISH_STOP_WORDS | {"does", "did", "doing", "just", "ok", "okay", "hi", "hello", "thanks"}
)
_STEPS = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(?P<step>.+)$", re.M)


class Document(BaseModel):
    title: str
    path: str
    url: str | None = None
    kind: Kind = "article"
    tags: list[str] = Field(default_factory=list)
    body: str

    @property
    def source(self) -> Source:
        return Source(title=self.title, path=self.path, url=self.url, kind=self.kind)

    @property
    def steps(self) -> list[str]:
        """The article's numbered or bulleted steps, in order."""
        return [m.group("step").strip() for m in _STEPS.finditer(self.body)]


class Match(BaseModel):
    document: Document
    score: float


class KnowledgeBase:
    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self._stemmer = Stemmer.Stemmer("english")
        self._retriever: bm25s.BM25 | None = None
        self._words: list[set[str]] = []
        if documents:
            corpus = [f"{d.title}\n{' '.join(d.tags)}\n{d.body}" for d in documents]
            tokens = bm25s.tokenize(
                corpus, stopwords=_STOPWORDS, stemmer=self._stemmer, show_progress=False
            )
            self._retriever = bm25s.BM25()
            self._retriever.index(tokens, show_progress=False)
            self._words = [set(self.terms(text)) for text in corpus]
        # What each document is about: the words of its title and tags.
        self._topics = [set(self.terms(f"{d.title} {' '.join(d.tags)}")) for d in documents]
        self._df = Counter(word for words in self._words for word in words)

    def answers(self, document: Document, question: str) -> bool:
        """Whether `document` answers `question`: it holds at least half of the question's
        words, and the question names what the document is about (a word of its title or tags
        that not every document shares). "Can I change the card my flight is booked on?" shares
        "card", "flight" and "booked" with a refunds article, but names nothing it is about
        beyond the words every airline article holds."""
        return self._answers(document, set(self.terms(question)))

    def _answers(self, document: Document, words: set[str]) -> bool:
        index = self.documents.index(document)
        if not words or len(words & self._words[index]) < (len(words) + 1) // 2:
            return False
        common = max(1.0, len(self.documents) / 2)  # in a folder of one, its words are its own
        return any(self._df[w] <= common for w in words & self._topics[index])

    def terms(self, text: str) -> list[str]:
        """The stemmed words BM25 sees in `text`, stopwords left out."""
        tokens = bm25s.tokenize(
            [text],
            stopwords=_STOPWORDS,
            stemmer=self._stemmer,
            show_progress=False,
            return_ids=False,
        )
        return list(tokens[0]) if tokens else []

    def search(
        self,
        query: str,
        *,
        k: int = 3,
        kinds: set[Kind] | None = None,
        strict: bool = True,
        min_shared: int = _MIN_SHARED,
    ) -> list[Match]:
        """The documents that fit `query`, best first (none when nothing fits); `strict=False`
        ranks every document of those kinds, fitting or not."""
        if self._retriever is None or not query.strip():
            return []
        terms = set(self.terms(query))
        if not terms and strict:
            return []
        tokens = bm25s.tokenize(
            [query], stopwords=_STOPWORDS, stemmer=self._stemmer, show_progress=False
        )
        found, scores = self._retriever.retrieve(tokens, k=len(self.documents), show_progress=False)
        matches = []
        for index, score in zip(found[0], scores[0], strict=True):
            doc = self.documents[int(index)]
            if kinds and doc.kind not in kinds:
                continue
            shared = len(terms & self._words[int(index)])
            if not strict or (score > 0 and shared >= min_shared):
                matches.append(Match(document=doc, score=float(score)))
        return matches[:k]


def read_document(path: Path, root: Path) -> Document:
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"The knowledge file {path} cannot be read: {exc}.") from None
    meta = dict(post.metadata)
    tags = meta.get("tags") or []
    try:
        return Document.model_validate(
            {
                "title": meta.get("title") or path.stem.replace("-", " ").capitalize(),
                "url": meta.get("url"),
                "kind": meta.get("kind", "article"),
                "tags": [tags] if isinstance(tags, str) else tags,
                "path": path.relative_to(root).as_posix(),
                "body": post.content.strip(),
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"The knowledge file {path}: {where}: {first['msg']}.") from None


def _files(folders: tuple[Path, ...]) -> list[tuple[Path, Path]]:
    found: list[tuple[Path, Path]] = []
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"The knowledge folder {folder} does not exist.")
        found.extend((folder, p) for p in sorted(folder.rglob("*.md")) if p.is_file())
    return found


def load(folders: list[Path]) -> KnowledgeBase:
    """The index for these folders: the cached one unless a file was added, removed or changed."""
    files = _files(tuple(folders))
    fingerprint = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for _, p in files)
    return _index(tuple(folders), fingerprint)


@lru_cache(maxsize=8)
def _index(
    folders: tuple[Path, ...], fingerprint: tuple[tuple[str, int, int], ...]
) -> KnowledgeBase:
    return KnowledgeBase([read_document(path, root) for root, path in _files(folders)])


class Answer(BaseModel):
    question: str
    """As the customer asked it."""
    document: Document | None = None
    """The article that answers it, if the company has one."""


class Retrieved(BaseModel):
    """What the company's knowledge says about one complaint."""

    passages: list[Document] = Field(default_factory=list)
    """The documents that fit the complaint, best first (the LLM prompt carries these)."""
    macro: Document | None = None
    """A saved reply written for this kind of complaint, if one fits."""
    answers: list[Answer] = Field(default_factory=list)
    """Each direct question, with the article that answers it."""

    def documents(self, *, offline: bool = False) -> list[Document]:
        """What a draft uses, once each: offline, the saved reply and the answering articles; an
        LLM is given those and every fitting passage (and asked to cite what it uses)."""
        answering = [a.document for a in self.answers if a.document]
        used = [*([self.macro] if self.macro else []), *answering]
        if not offline:
            used += self.passages
        unique: dict[str, Document] = {}
        for doc in used:
            unique.setdefault(doc.path, doc)
        return list(unique.values())

    def sources(self, *, offline: bool) -> list[Source]:
        return [d.source for d in self.documents(offline=offline)]


_CATEGORIES = {c.value for c in Category}


def _in_scope(document: Document, category: str) -> bool:
    """An article tagged with categories answers questions in those: the damaged-baggage claim
    steps are no answer to "how do we claim the hotel back?" after a cancelled flight."""
    scoped = _CATEGORIES & set(document.tags)
    return not scoped or category in scoped or category == Category.other.value


def retrieve(kb: KnowledgeBase | None, text: str, questions: list[str], category: str) -> Retrieved:
    """The passages for a complaint's `text`; the saved reply tagged with its `category`; and for
    each question the article that answers it: among the articles that share a word with the
    question, the one that best fits the whole complaint (a question like "What do I do?" shares
    none, and is answered by the best article tagged with the category)."""
    if kb is None or not kb.documents:
        return Retrieved(answers=[Answer(question=q) for q in questions])
    passages = [m.document for m in kb.search(text, k=3)]
    # A saved reply is written for a category and a case: the one tagged with the category that
    # fits the text (an unwanted-renewal reply is no answer to a charge for the wrong plan).
    macros = kb.search(text, k=len(kb.documents), kinds={"macro"}, min_shared=1)
    macro = next((m.document for m in macros if category in m.document.tags), None)
    articles = kb.search(text, k=len(kb.documents), kinds={"article", "policy"})
    answers = []
    for question in questions:
        words = set(kb.terms(question))
        fits = [
            m.document
            for m in articles
            if kb._answers(m.document, words) and _in_scope(m.document, category)
        ]
        if not words:
            # "What do I do?": the article for this category, else the one the complaint fits best.
            tagged = [m.document for m in articles if category in m.document.tags]
            fits = tagged or [m.document for m in articles[:1]]
        answers.append(Answer(question=question, document=fits[0] if fits else None))
    return Retrieved(passages=passages, macro=macro, answers=answers)
