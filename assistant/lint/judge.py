"""The LLM judge (`[lint] judge = true`): the configured OpenAI-compatible model reads a drafted
reply beside the customer's email with a rubric prompt (prompts/judge.md.j2) and names the
sentences that blame, deflect or non-apologise. Its findings carry `layer: "llm"` and are
warnings: a second opinion the agent reads, placed where the model's sentence stands in the reply
(a sentence it misquotes is dropped, never guessed at)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..models import Finding, FindingCategory, Usage

Label = Literal["blame", "defensive", "non-apology"]

SUGGESTIONS: dict[str, str] = {
    "blame": "You're right, and I'm sorry. Here's what I've done to put it right: ...",
    "defensive": "That's on us. I've already ..., and I'll update you by ... .",
    "non-apology": "I'm sorry we got this wrong: ...",
}


class JudgedSentence(BaseModel):
    sentence: str = Field(min_length=3)
    label: Label
    reason: str = ""


class Judgement(BaseModel):
    findings: list[JudgedSentence] = Field(default_factory=list)
    usage: Usage | None = Field(default=None, exclude=True)
    """What asking cost (filled in by the backend, never asked of the model)."""


def judge_findings(reply: str, judgement: Judgement) -> list[Finding]:
    findings = []
    for judged in judgement.findings:
        start = reply.find(judged.sentence.strip())
        if start < 0:
            continue
        end = start + len(judged.sentence.strip())
        category: FindingCategory = judged.label
        line = reply.count("\n", 0, start) + 1
        column = start - (reply.rfind("\n", 0, start) + 1) + 1
        findings.append(
            Finding(
                rule=f"llm-{judged.label}",
                category=category,
                severity="warning",
                start=start,
                end=end,
                text=reply[start:end],
                message=f"The LLM judge reads this as {judged.label}: {judged.reason[:200]}".rstrip(
                    ": "
                ),
                suggestion=SUGGESTIONS[judged.label],
                layer="llm",
                line=line,
                column=column,
            )
        )
    return findings
