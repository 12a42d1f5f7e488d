"""The tone layer: the learned tone model (assistant/learned) over each sentence of a reply, read
beside the customer's email when the linter is given it. Its findings are ordinary findings with
`layer: "model"`: the sentence's span, the family's message and better phrasing, and a severity
from the model's probability (error only above the threshold whose precision on the training
corpus, cross-validated, was at least 0.95)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from itertools import islice

from pydantic import BaseModel, ConfigDict, Field

from ..classify.situation import READ_LIMIT
from ..learned import sentences, tone_model
from ..models import FindingCategory, Severity
from .context import Context


class Family(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: str
    category: FindingCategory
    message: str
    suggestion: str
    must_flag: list[str] = Field(min_length=1)
    must_not_flag: list[str] = Field(min_length=1)
    owned: str | None = None
    """A sentence this matches, with none of `hedges`, owns what it is about and is not of this
    family whatever the model says: the labelling guide's plain specific apology ("we're sorry
    we lost your bag"), which a model of word and character n-grams can score high."""
    hedges: str | None = None

    def is_owned(self, sentence: str) -> bool:
        return (
            self.owned is not None
            and re.search(self.owned, sentence, re.IGNORECASE) is not None
            and (self.hedges is None or re.search(self.hedges, sentence, re.IGNORECASE) is None)
        )


@cache
def families() -> tuple[Family, ...]:
    data = tomllib.loads(files("assistant.lint").joinpath("tone.toml").read_text(encoding="utf-8"))
    return tuple(Family.model_validate(f) for f in data["family"])


# A reply runs to a few dozen sentences; past this many the text is no reply (a pasted log, an
# attack), and the model reads no further, so linting stays fast at any size. The rules read all.
MAX_SENTENCES = 200
# Likewise a sentence runs to a few hundred characters; of a longer run with no full stop (a
# pasted blob) the model reads the beginning, so a long text costs it a bounded amount.
MAX_SENTENCE_CHARS = 1_000


@dataclass(frozen=True)
class Hit:
    family: Family
    start: int
    end: int
    probability: float
    severity: Severity


def tone_hits(ctx: Context, email: str | None, ignored: set[str]) -> list[Hit]:
    """Every sentence the model scores at or above a family's warning threshold."""
    model = tone_model()
    read = ((a, b) for a, b in sentences(ctx.text) if not ctx.is_excluded(a, b))
    spans = list(islice(read, MAX_SENTENCES))
    if not spans:
        return []
    # Of the customer's email, as much as the classifier reads.
    beside = None if email is None else email[:READ_LIMIT]
    scores = model.score([ctx.text[a : min(b, a + MAX_SENTENCE_CHARS)] for a, b in spans], beside)
    hits = []
    for family in families():
        if family.id in ignored:
            continue
        column = model.labels.index(family.label)
        cut = model.cutoffs[family.label]
        for (start, end), p in zip(spans, scores[:, column], strict=True):
            if p >= cut.warning and not family.is_owned(ctx.text[start:end]):
                severity: Severity = "error" if p >= cut.error else "warning"
                hits.append(Hit(family, start, end, float(p), severity))
    return hits
